"""Process-wide settings that must be made before the model libraries load."""

from __future__ import annotations

import os


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
