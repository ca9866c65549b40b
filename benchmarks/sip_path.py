"""What the SIP path adds to the caller's wait: the same recorded calls over loopback and over
real SIP (PJSIP <-> baresip on 127.0.0.1, G.711 RTP), measured the same way on both.

    .venv/bin/python benchmarks/sip_path.py [--calls benchmarks/data/calls]

Latency is the caller's-ear gap (voicebot.metrics.ear: 10 ms RMS over -40 dBFS): from the end
of each caller utterance to the bot's first audible reply sample, on the audio as the caller's
side has it (loopback: the replay caller's sent and heard frames; SIP: baresip's sent and heard
audio, sndfile). Only replies to a caller who spoke while the bot was silent count. Writes
benchmarks/results/sip_path.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from voicebot.app.outbound import SipCaller
from voicebot.app.stages import ScriptStages
from voicebot.audio.wav import read_wav
from voicebot.bench.replay import Recording, load_recording, recorded_script, replay_one
from voicebot.core.clock import RealClock
from voicebot.core.runtime import configure_threads
from voicebot.metrics.ear import DETECTOR, ear_gaps, frame_dbfs
from voicebot.metrics.stats import summarize
from voicebot.models.store import ModelStore
from voicebot.session.call import CallOptions
from voicebot.sim.baresip import BaresipPeer, free_port
from voicebot.telephony.sip.config import SipConfig, TrunkConfig
from voicebot.telephony.sip.stack import SipStack

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
RATE, FRAME = 8000, 160


def reply_gaps(caller: np.ndarray, bot: np.ndarray) -> list[tuple[float, float]]:
    """(caller's end, seconds to the bot's audible reply), by the caller's-ear detector."""
    gaps = ear_gaps(frame_dbfs(caller, RATE), frame_dbfs(bot, RATE))
    return [(end, ms / 1000) for end, ms in zip(gaps.reply_after_s, gaps.replies_ms, strict=True)]


def paired(loop: list[tuple[float, float]], sip: list[tuple[float, float]]) -> list[float]:
    """SIP minus loopback for the same caller utterance (ends within 0.3 s of each other)."""
    out = []
    for end, gap in sip:
        match = min(loop, key=lambda x: abs(x[0] - end), default=None)
        if match is not None and abs(match[0] - end) <= 0.3:
            out.append(gap - match[1])
    return out


async def over_loopback(
    trial: ScriptStages, rec: Recording, folder: Path
) -> list[tuple[float, float]]:
    report = await replay_one(trial, rec, RealClock(), record_to=folder)
    assert report.ear is not None  # measured on the replay caller's side of the line
    return list(
        zip(report.ear.reply_after_s, [ms / 1000 for ms in report.ear.replies_ms], strict=True)
    )


async def over_sip(trial: ScriptStages, rec: Recording, folder: Path) -> list[tuple[float, float]]:
    with BaresipPeer(folder, "callee", rec.path, rtp_base=free_port() // 2 * 2, tail_s=4) as peer:
        trunk = TrunkConfig(uri=f"sip:127.0.0.1:{peer.sip_port}", rtp_port=free_port())
        async with SipStack(trunk) as stack:
            await SipCaller(trial, stack, SipConfig(trunk=trunk)).call(
                peer.uri, dict(trial.script.example_contact)
            )
        heard = peer.recordings()[-1]
    sent, _ = read_wav(heard.with_name(heard.name.replace("-dec.wav", "-enc.wav")), rate=RATE)
    bot, _ = read_wav(heard, rate=RATE)
    n = min(len(sent), len(bot))
    return reply_gaps(caller=sent[:n], bot=bot[:n])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", default=str(ROOT / "benchmarks" / "data" / "calls"))
    parser.add_argument("--script", default=str(ROOT / "prompts" / "survey_en.yaml"))
    args = parser.parse_args()
    configure_threads()
    trial = ScriptStages(Path(args.script), ModelStore(), CallOptions(max_call_s=120))
    trial.prerender()
    recordings = [
        load_recording(p, trial.script)
        for p in sorted(Path(args.calls).glob("*.wav"))
        if recorded_script(p) in (None, trial.script.name)  # the other scripts' calls: not here
    ]
    loop_ms: list[float] = []
    sip_ms: list[float] = []
    added_ms: list[float] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for rec in recordings:
            base = Path(tmp) / rec.path.stem
            loop_gaps = asyncio.run(over_loopback(trial, rec, base / "loop"))
            sip_gaps = asyncio.run(over_sip(trial, rec, base / "sip"))
            loop_ms += [g * 1000 for _, g in loop_gaps]
            sip_ms += [g * 1000 for _, g in sip_gaps]
            added_ms += [d * 1000 for d in paired(loop_gaps, sip_gaps)]
            print(f"{rec.path.name}: {len(loop_gaps)} / {len(sip_gaps)} replies", flush=True)
    loop, sip, added = summarize(loop_ms), summarize(sip_ms), summarize(added_ms)
    result = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "calls": len(recordings),
        "wall_s": round(time.perf_counter() - started, 1),
        "loopback_ms": loop.model_dump(),
        "sip_ms": sip.model_dump(),
        "added_ms_paired": added.model_dump(),
        "ratio_p50": round(sip.p50 / loop.p50, 3),
        "jitter_buffers": "PJSIP 20-120 ms prefetch; baresip peer 1-4 frames",
        "detector": DETECTOR,
        "command": "python benchmarks/sip_path.py",
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sip_path.json").write_text(json.dumps(result, indent=2))
    md = [
        "# SIP path vs loopback: caller-side reply latency",
        "",
        f"{len(recordings)} recorded calls, same script and models; "
        "caller's ear: end of the caller's audible speech -> the bot's first audible reply "
        f"sample, measured on the caller's side ({DETECTOR}).",
        "",
        "| transport | replies | p50 ms | p95 ms |",
        "|---|---|---|---|",
        f"| loopback | {loop.n} | {loop.p50:.0f} | {loop.p95:.0f} |",
        f"| SIP (PJSIP <-> baresip, PCMU) | {sip.n} | {sip.p50:.0f} | {sip.p95:.0f} |",
        "",
        f"Paired by caller utterance ({added.n} pairs), SIP adds **{added.p50:.0f} ms at p50**, "
        f"{added.p95:.0f} ms at p95; p50 ratio SIP / loopback {result['ratio_p50']}. "
        "Jitter buffers: PJSIP 20-120 ms prefetch, the baresip peer 1-4 frames. "
        "Command: `python benchmarks/sip_path.py`.",
    ]
    (RESULTS / "sip_path.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
