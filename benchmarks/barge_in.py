"""Backchannels vs real interruptions over the bot's line, English and Mandarin.

    .venv/bin/python benchmarks/barge_in.py [--out benchmarks/results]

Each case is a callee-side recording made with the script's own voice: "hello" at 0.3 s,
"yes, speaking" after the (protected) greeting, then, while the bot's next line plays, either
a backchannel ("uh-huh", "okay", 嗯, 对) or a real interruption ("sorry, who is this?",
我现在没空). It is replayed through the full pipeline in virtual time (compute charged at its
real cost). A backchannel that cut the line is a false barge-in; an interruption that did not
is a missed one; for the cuts, the delay from the caller's audible onset to the cut.
Writes barge_in.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
from pathlib import Path

import numpy as np

from voicebot.app.config import VoicebotConfig
from voicebot.app.stages import LINE_RATE, ScriptStages
from voicebot.bench.replay import Recording, replay_one
from voicebot.core.clock import VirtualClock
from voicebot.core.runtime import configure_threads
from voicebot.metrics.ear import frame_dbfs, utterances
from voicebot.metrics.report import CallReport
from voicebot.metrics.stats import summarize
from voicebot.models.registry import cache_dir
from voicebot.models.store import ModelStore
from voicebot.policy.schema import filled, text_of
from voicebot.session.call import CallOptions

ROOT = Path(__file__).resolve().parent.parent
HOLD_S = 0.5
GREET_AFTER_S = 0.9  # the greeting starts about this long after the hello ends
ANSWER_AFTER_S = 0.6  # the callee confirms this long after the greeting ends
OVERLAP_AFTER_S = 1.6  # the overlap starts this long after the confirmation ends
CASES = {
    "survey_en": (
        "Hello?",
        "Yes, speaking.",
        ["Uh-huh.", "Okay.", "Right.", "Mm-hmm.", "Yeah."],
        [
            "Sorry, who is this?",
            "I'm not interested, thank you.",
            "Can you call me back later?",
            "Wait, what is this about?",
            "No, I don't have time now.",
        ],
    ),
    "upgrade_zh": (
        "喂，你好。",
        "是的，我就是。",
        ["嗯。", "对。", "嗯嗯。", "对对。", "好的。"],
        [
            "不好意思，我现在没空。",
            "你是哪里？",
            "等一下，你说什么？",
            "我不需要，谢谢。",
            "你打错了吧。",
        ],
    ),
}


def pause(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * LINE_RATE), np.int16)


def recording(
    stages: ScriptStages, hello: str, identity: str, overlap: str, name: str
) -> Recording:
    contact = dict(stages.script.example_contact)
    greeting = stages.tts.render(
        filled(text_of(stages.script.nodes[stages.script.start].say, stages.language), contact)
    )
    greet_s = GREET_AFTER_S + len(greeting) / LINE_RATE + ANSWER_AFTER_S
    pcm = np.concatenate(
        [
            pause(0.3),
            stages.tts.render(hello),
            pause(greet_s),
            stages.tts.render(identity),
            pause(OVERLAP_AFTER_S),
            stages.tts.render(overlap),
            pause(2.0),
        ]
    )
    return Recording(Path(name), pcm)


def judge(report: CallReport, onset: float) -> dict[str, object]:
    """Was the line playing at the caller's onset cut, and how long after the onset."""
    playing = [
        b
        for b in report.bot_lines
        if b.first_audio_at is not None and b.first_audio_at <= onset < (b.ended_at or 1e9)
    ]
    if not playing:
        return {"overlapped": False}
    line = playing[0]
    cut_ms = (
        round((line.ended_at - onset) * 1000, 1) if line.interrupted and line.ended_at else None
    )
    return {"overlapped": True, "cut": line.interrupted, "cut_ms": cut_ms}


async def one(stages: ScriptStages, rec: Recording) -> CallReport:
    clock = VirtualClock()
    return await clock.run(replay_one(stages, rec, clock))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    configure_threads()
    config = VoicebotConfig()
    tts = config.tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
    store = ModelStore(config.model_copy(update={"tts": tts}))  # fixed lines rendered once
    rows = []
    for script, (hello, identity, backchannels, interruptions) in CASES.items():
        options = CallOptions(barge_in_hold_s=HOLD_S)  # the backchannel-tolerant barge-in
        stages = ScriptStages(ROOT / "prompts" / f"{script}.yaml", store, options)
        stages.prerender()
        for kind, texts in (("backchannel", backchannels), ("interruption", interruptions)):
            for i, text in enumerate(texts):
                rec = recording(stages, hello, identity, text, f"{script}-{kind}-{i}")
                onset = utterances(frame_dbfs(rec.pcm, LINE_RATE))[-1][0]
                row = {
                    "script": script,
                    "kind": kind,
                    "case": i,
                    **judge(asyncio.run(one(stages, rec)), onset),
                }
                rows.append(row)
                print(row, flush=True)
    result = {"machine": platform.machine(), "cases": rows, "summary": summary(rows)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "barge_in.json").write_text(json.dumps(result, indent=2))
    (out / "barge_in.md").write_text(markdown(result["summary"]))
    print(markdown(result["summary"]))


def summary(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    out = {}
    for lang in ("en", "zh"):
        mine = [r for r in rows if str(r["script"]).endswith(lang) and r["overlapped"]]
        back = [r for r in mine if r["kind"] == "backchannel"]
        real = [r for r in mine if r["kind"] == "interruption"]
        cuts = summarize([float(r["cut_ms"]) for r in real if r["cut_ms"] is not None])  # type: ignore[arg-type]
        out[lang] = {
            "backchannels": len(back),
            "false_barge_in": sum(bool(r["cut"]) for r in back),
            "interruptions": len(real),
            "missed": sum(not r["cut"] for r in real),
            "cut_ms_p50": round(cuts.p50),
            "cut_ms_max": round(cuts.max),
            "not_overlapped": sum(
                not r["overlapped"] for r in rows if str(r["script"]).endswith(lang)
            ),
        }
    return out


def markdown(s: dict[str, dict[str, object]]) -> str:
    lines = [
        "# Barge-in: backchannels vs real interruptions over the bot's first line",
        "",
        "Synthetic callee recordings (the script's voice), virtual time, full pipeline. "
        "Cut delay = caller's audible onset -> the line cut. Command: "
        "`python benchmarks/barge_in.py`.",
        "",
        "| language | backchannels | false barge-ins | interruptions | missed | cut p50 ms "
        "| cut max ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang, r in s.items():
        lines.append(
            f"| {lang} | {r['backchannels']} | {r['false_barge_in']} | {r['interruptions']} | "
            f"{r['missed']} | {r['cut_ms_p50']} | {r['cut_ms_max']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
