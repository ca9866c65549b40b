"""Backchannels vs real interruptions over the bot's line, English and Mandarin.

    .venv/bin/python -m benchmarks.barge_in [--voices N] [--out benchmarks/results]

Each case is a callee-side recording spoken by a caller voice that is not the bot's (the
understanding benchmark's test-split voices: espeak-ng variants, shifted piper, other Kokoro
speakers): "hello" at 0.3 s, "yes, speaking" after the (protected) greeting, then, while the
bot's next line plays, either a backchannel ("uh-huh", "okay", 嗯, 对) or a real interruption
("sorry, who is this?", 我现在没空). It is replayed through the full pipeline in virtual time
(compute charged at its real cost), with the default barge-in settings. A backchannel that cut
the line is a false barge-in; an interruption that did not is a missed one. For every overlap,
the delay from the caller's audible onset to the bot going quiet (the line paused or cut), and
for backchannels how long the line stayed paused before it went on.
Writes barge_in.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
from pathlib import Path

import numpy as np

from benchmarks.understanding.cases import load_voices
from benchmarks.understanding.render import CallerVoice
from voicebot.app.config import VoicebotConfig
from voicebot.app.stages import LINE_RATE, ScriptStages
from voicebot.audio.resample import resample
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
GREET_AFTER_S = 0.9  # the greeting starts about this long after the hello ends
ANSWER_AFTER_S = 0.6  # the callee confirms this long after the greeting ends
OVERLAP_AFTER_S = 1.6  # the overlap starts this long after the confirmation ends
CASES = {
    "survey_en": (
        "Hello?",
        "Yes, speaking.",
        ["Uh-huh.", "Okay.", "Right.", "Mm-hmm.", "Yeah.", "Sure.", "I see.", "Got it."],
        [
            "Sorry, who is this?",
            "I'm not interested, thank you.",
            "Can you call me back later?",
            "Wait, what is this about?",
            "No, I don't have time now.",
            "Hold on a second.",
            "Who gave you my number?",
            "Stop, please, I'm driving.",
            # short ones, which end before the hold: their words alone must cut the line
            "Stop.",
            "Wait.",
            "No, stop.",
            "Hang on.",
        ],
    ),
    "upgrade_zh": (
        "喂，你好。",
        "是的，我就是。",
        ["嗯。", "对。", "嗯嗯。", "对对。", "好的。", "是的。", "哦。", "明白。"],
        [
            "不好意思，我现在没空。",
            "你是哪里？",
            "等一下，你说什么？",
            "我不需要，谢谢。",
            "你打错了吧。",
            "你先停一下。",
            "这个多少钱？",
            "我在开车呢。",
            "停。",
            "等等。",
            "不要。",
            "别说了。",
        ],
    ),
}


def pause(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * LINE_RATE), np.int16)


def recording(
    stages: ScriptStages, voice: CallerVoice, hello: str, identity: str, overlap: str, name: str
) -> Recording:
    contact = dict(stages.script.example_contact)
    greeting = stages.tts.render(
        filled(text_of(stages.script.nodes[stages.script.start].say, stages.language), contact)
    )
    greet_s = GREET_AFTER_S + len(greeting) / LINE_RATE + ANSWER_AFTER_S

    def say(text: str) -> np.ndarray:
        return resample(voice.synthesize(text), voice.sample_rate, LINE_RATE)

    pcm = np.concatenate(
        [
            pause(0.3),
            say(hello),
            pause(greet_s),
            say(identity),
            pause(OVERLAP_AFTER_S),
            say(overlap),
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
    quiet = [p for p in line.paused_at if p >= onset]
    if line.interrupted and line.ended_at is not None:
        quiet.append(line.ended_at)
    quiet_ms = round((min(quiet) - onset) * 1000, 1) if quiet else None
    resumed = [e.t for e in report.timeline if e.kind == "resumed" and quiet and e.t >= min(quiet)]
    paused_ms = (
        round((resumed[0] - min(quiet)) * 1000, 1) if resumed and not line.interrupted else None
    )
    return {
        "overlapped": True,
        "heard": [  # the benchmark's own phrases (no personal data): text, seconds, confidence
            [
                t.text,
                round(t.latency.speech_end - t.latency.speech_start, 2),
                round(t.asr_confidence, 2),
            ]
            for t in report.turns
        ],
        "cut": line.interrupted,
        "quiet_ms": quiet_ms,
        "paused_ms": paused_ms,
    }


async def one(stages: ScriptStages, rec: Recording) -> CallReport:
    clock = VirtualClock()
    return await clock.run(replay_one(stages, rec, clock))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voices", type=int, default=2, help="caller voices per phrase")
    parser.add_argument("--split", default="test", choices=["dev", "test"], help="caller voices")
    parser.add_argument("--lang", default="en,zh", help="languages to run")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    args = parser.parse_args()
    configure_threads()
    config = VoicebotConfig()
    tts = config.tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
    store = ModelStore(config.model_copy(update={"tts": tts}))  # fixed lines rendered once
    rows = []
    for script, (hello, identity, backchannels, interruptions) in CASES.items():
        if script.rsplit("_", 1)[1] not in args.lang.split(","):
            continue
        stages = ScriptStages(ROOT / "prompts" / f"{script}.yaml", store, CallOptions())
        stages.prerender()
        voices = [CallerVoice(v) for v in load_voices(stages.language, args.split)]
        for kind, texts in (("backchannel", backchannels), ("interruption", interruptions)):
            for i, text in enumerate(texts):
                for k in range(args.voices):
                    voice = voices[(i + k) % len(voices)]
                    name = f"{script}-{kind}-{i}-{voice.name}"
                    rec = recording(stages, voice, hello, identity, text, name)
                    onset = utterances(frame_dbfs(rec.pcm, LINE_RATE))[-1][0]
                    row = {
                        "script": script,
                        "kind": kind,
                        "case": i,
                        "voice": voice.name,
                        **judge(asyncio.run(one(stages, rec)), onset),
                    }
                    rows.append(row)
                    print(row, flush=True)
    result = {
        "machine": platform.machine(),
        "split": args.split,
        "hold_s": CallOptions().barge_in_hold_s,
        "cases": rows,
        "summary": summary(rows),
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"barge_in_{args.split}.json").write_text(json.dumps(result, indent=2))
    text = markdown(result["summary"], args.split, result["hold_s"])
    (out / f"barge_in_{args.split}.md").write_text(text)
    print(text)


def summary(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    out = {}
    for lang in ("en", "zh"):
        mine = [r for r in rows if str(r["script"]).endswith(lang) and r["overlapped"]]
        back = [r for r in mine if r["kind"] == "backchannel"]
        real = [r for r in mine if r["kind"] == "interruption"]
        quiet = summarize([float(r["quiet_ms"]) for r in real if r["quiet_ms"] is not None])  # type: ignore[arg-type]
        held = summarize([float(r["paused_ms"]) for r in back if r["paused_ms"] is not None])  # type: ignore[arg-type]
        out[lang] = {
            "backchannels": len(back),
            "false_barge_in": sum(bool(r["cut"]) for r in back),
            "interruptions": len(real),
            "missed": sum(not r["cut"] for r in real),
            "quiet_ms_p50": round(quiet.p50),
            "quiet_ms_p95": round(quiet.p95),
            "backchannel_pause_ms_p50": round(held.p50),
            "not_overlapped": sum(
                not r["overlapped"] for r in rows if str(r["script"]).endswith(lang)
            ),
        }
    return out


def markdown(s: dict[str, dict[str, object]], split: str, hold_s: float) -> str:
    lines = [
        "# Barge-in: backchannels vs real interruptions over the bot's first line",
        "",
        f"Callee recordings spoken by the understanding benchmark's {split}-split voices (not "
        f"the bot's), virtual time, full pipeline, default barge-in settings (hold {hold_s} s). "
        "Quiet = caller's "
        "audible onset -> the bot's line paused or cut; backchannel pause = how long a line "
        "held for a backchannel stayed quiet before it went on. Command: "
        f"`python -m benchmarks.barge_in --split {split}`.",
        "",
        "| language | backchannels | false barge-ins | interruptions | missed | quiet p50 ms "
        "| quiet p95 ms | backchannel pause p50 ms | not overlapped |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for lang, r in s.items():
        if not r["backchannels"] and not r["interruptions"]:
            continue
        lines.append(
            f"| {lang} | {r['backchannels']} | {r['false_barge_in']} | {r['interruptions']} | "
            f"{r['missed']} | {r['quiet_ms_p50']} | {r['quiet_ms_p95']} | "
            f"{r['backchannel_pause_ms_p50']} | {r['not_overlapped']} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
