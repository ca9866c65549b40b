"""Process-wide settings that must be made before the model libraries load."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor


def configure_threads() -> None:
    """Stop OpenMP worker threads (torch, CTranslate2) from spin-waiting after each inference:
    on 2 cores the spinning steals the CPU that the next stage (TTS right after ASR and intent)
    needs. Measured: piper first audio p50 139 ms -> 125 ms in benchmarks/stages.py."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # no weight-loading progress bars
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    widen_thread_pool()


BLOCKING_THREADS = 16


class _WiderPool(asyncio.DefaultEventLoopPolicy):
    """Event loops whose default executor (`asyncio.to_thread`, every clock's `run_blocking`)
    has `BLOCKING_THREADS` threads instead of cores + 4 (6 on 2 cores): at 16 calls the
    Mandarin voice's renders (~1 CPU-s per second of audio) and the decodes filled all 6 while
    a 20 ms intent classification waited for a thread (benchmarks/results/throughput_16.md)."""

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        loop = super().new_event_loop()
        loop.set_default_executor(
            ThreadPoolExecutor(max_workers=BLOCKING_THREADS, thread_name_prefix="blocking")
        )
        return loop


def widen_thread_pool() -> None:
    """Event loops created from now on get the wider default executor."""
    asyncio.set_event_loop_policy(_WiderPool())
