"""Long caller turns (two or three sentences) through the bot's recogniser, per beam width: does
a beam search end its text a sentence early where greedy decoding goes on?

    python -m benchmarks.long_turns --beams 1 5 --out benchmarks/results

The understanding benchmark's answers are one sentence each, so they cannot show a decoder that
stops after the first sentence. These turns were written for this check (not from the
understanding phrasings); the understanding benchmark's dev voices speak them through its phone
line (clean, 20-30 dB noise or 1-3 % loss by turn), with the bot's rating question as the decoder
context. Per beam: word (English) or character (Mandarin) recall against the text said, and the
turns where a beam lost 30 % or more of the words greedy decoding kept.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.understanding.cases import load_voices
from benchmarks.understanding.render import Channel, Synthesizers, phone_line
from voicebot.audio.resample import resample
from voicebot.core.runtime import configure_threads

ROOT = Path(__file__).resolve().parents[1]
LEVEL_DB = -20.0
LOST = 0.3  # a beam "lost the tail" when its recall is this far below greedy's
QUESTION = {
    "en": "How would you rate the visit, from one to five?",
    "zh": "请问您对这次服务满意吗？请打一到五分。",
}
TURNS = {
    "en": [
        "No, she isn't home right now. I'm her husband. Can I take a message?",
        "Yes, that's me. But I'm driving at the moment, so please be quick.",
        "I'd say a four. The technician was polite but he came two hours late.",
        "Not really. I already have a plan with another company and I'm happy with it.",
        "Hold on a second. Let me turn the radio down. Okay, go ahead.",
        "Sorry, who is this? How did you get my number? I never signed up for anything.",
        "Tuesday works. Any time after three in the afternoon is fine for me.",
        "It was fine, I guess. Nothing special. Maybe a three out of five.",
        "Please stop calling me. Take my number off your list. Thank you.",
        "Yes. Where exactly is the clinic? I've never been there before.",
        "I'm at work right now. Could you call me back this evening around seven?",
        "Honestly it was great. They cleaned everything up afterwards. Five stars.",
    ],
    "zh": [
        "她现在不在家，我是她爱人。你有什么事可以跟我说。",
        "是我。不过我正在开车，你长话短说吧。",
        "给四分吧。师傅态度挺好的，就是来晚了两个小时。",
        "不用了。我已经办了别家的套餐，用得挺好的。",
        "你等一下，我把电视关小一点。好了，你说吧。",
        "你是哪里？你怎么有我的号码？我从来没登记过。",
        "周二可以。下午三点以后都行。",
        "还行吧，一般般。给个三分。",
        "以后别再给我打电话了。把我的号码删掉。谢谢。",
        "我现在在上班，你晚上七点左右再打过来吧。",
    ],
}


def tokens(language: str, text: str) -> list[str]:
    if language == "en":
        return re.findall(r"[a-z']+|\d+", text.lower())
    return list(re.sub(r"[^\u4e00-\u9fff\d]", "", text))


def recall(language: str, said: str, heard: str) -> float:
    """Share of the words (characters) said that the text has, each counted once."""
    want, have = tokens(language, said), Counter(tokens(language, heard))
    found = 0
    for w in want:
        if have[w] > 0:
            have[w] -= 1
            found += 1
    return found / max(1, len(want))


def run(
    languages: list[str], beams: list[int], voices: int, limit: int | None = None
) -> dict[str, Any]:
    from voicebot.models.store import ModelStore

    store, synth = ModelStore(), Synthesizers()
    rows: list[dict[str, Any]] = []
    for language in languages:
        asr = store.asr(language)
        for i, text in enumerate(TURNS[language][:limit]):
            for j, voice in enumerate(load_voices(language, "dev")[:voices]):
                pcm, rate = synth.synthesize(voice, text)
                channel = Channel.pick(i + j, 1000 + 7 * i + j)
                audio = resample(phone_line(pcm, rate, channel, LEVEL_DB), 8000, 16000)
                row: dict[str, Any] = {
                    "language": language,
                    "voice": voice.name,
                    "condition": channel.condition,
                }
                for beam in beams:
                    heard = asr.transcribe(audio, QUESTION[language], beam=beam)
                    text_heard = heard.text or heard.raw_text
                    row[f"beam{beam}"] = text_heard
                    row[f"recall{beam}"] = round(recall(language, text, text_heard), 3)
                rows.append(row)
    summary: dict[str, Any] = {}
    for language in languages:
        mine = [r for r in rows if r["language"] == language]
        summary[language] = {"turns": len(mine)}
        for beam in beams:
            summary[language][f"recall_beam{beam}"] = round(
                float(np.mean([r[f"recall{beam}"] for r in mine])), 3
            )
            summary[language][f"lost_tail_beam{beam}"] = sum(
                r[f"recall{beam}"] < r[f"recall{beams[0]}"] - LOST for r in mine
            )
    return {"beams": beams, "summary": summary, "rows": rows}


def markdown(result: dict[str, Any]) -> str:
    beams = result["beams"]
    head = ["language", "turns"] + [f"recall, beam {b}" for b in beams]
    head += [f"lost >= {LOST:.0%} vs beam {beams[0]}, beam {b}" for b in beams[1:]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for language, s in result["summary"].items():
        cells = [language, str(s["turns"])] + [f"{s[f'recall_beam{b}']:.3f}" for b in beams]
        cells += [str(s[f"lost_tail_beam{b}"]) for b in beams[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.long_turns", description=__doc__)
    parser.add_argument("--languages", nargs="+", choices=["en", "zh"], default=["en", "zh"])
    parser.add_argument("--beams", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--voices", type=int, default=4, help="dev voices per turn")
    parser.add_argument("--limit", type=int, help="at most this many turns per language")
    parser.add_argument("--out", type=Path, help="write long_turns.{json,md} here")
    args = parser.parse_args(argv)
    configure_threads()
    result = run(args.languages, args.beams, args.voices, args.limit)
    table = markdown(result)
    print(table)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "long_turns.json").write_text(
            json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        (args.out / "long_turns.md").write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
