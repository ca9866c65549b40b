"""Per-language scores of one benchmark run: WER/CER, intent and slot accuracy, false accepts,
speech dropped as silence, non-speech turned into words."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from voicebot.nlu.slots import _zh_to_arabic

_EN_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def normalise(text: str, language: str) -> list[str]:
    """Tokens for error rates: words (English, digits spelled) or characters (Mandarin)."""
    if language == "zh":
        t = _zh_to_arabic(re.sub(r"[^\w]", "", text))
        return list(t)
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    return [_EN_DIGITS[int(w)] if w.isdigit() and int(w) <= 10 else w for w in words]


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def _errors(ref: str, hyp: str, language: str) -> int:
    return edit_distance(normalise(ref, language), normalise(hyp, language))


# A turn is "heard well" when the recogniser got most of its words (under 30 % token errors),
# and its "words lost" when half or more came back wrong: no classifier can read those reliably.
HEARD_WELL_BELOW, WORDS_LOST_AT = 0.3, 0.5


def turn_error(row: dict[str, Any], language: str) -> float:
    """Token error rate of one turn's heard text against what was said (1.0: nothing heard)."""
    ref = normalise(row["text"], language)
    return _errors(row["text"], row["heard"], language) / max(1, len(ref))


def _rate(rows: list[dict[str, Any]]) -> float | None:
    return round(sum(r["ok"] for r in rows) / len(rows), 4) if rows else None


def score(rows: list[dict[str, Any]], language: str) -> dict[str, Any]:
    """Aggregate one language's per-clip rows (see run.py for their fields)."""
    speech = [r for r in rows if r["kind"] != "noise"]
    noise = [r for r in rows if r["kind"] == "noise"]
    errors = sum(_errors(r["text"], r["heard"], language) for r in speech)
    errors_raw = sum(_errors(r["text"], r["raw"], language) for r in speech)
    tokens = sum(len(normalise(r["text"], language)) for r in speech) or 1
    intents = [r for r in speech if r["kind"] == "intent" and r["expect"] != "not_affirm"]
    slots = [r for r in speech if r["kind"] in ("rating", "when")]
    ratings = [r for r in speech if r["kind"] == "rating"]
    yes_no = [
        r for r in speech if r["yes_no"] and r["expect"] != "affirm" and "affirm" not in r["also"]
    ]
    false_accepts = [r for r in yes_no if "affirm" in r["labels"]]
    dropped = [r for r in speech if "nothing" in r["labels"] or "silence" in r["labels"]]
    words = [r for r in noise if r["labels"] != ["nothing"]]
    decode = [r["decode_s"] for r in speech if r["decode_s"] > 0]
    heard_well = [r for r in intents if turn_error(r, language) < HEARD_WELL_BELOW]
    words_lost = [r for r in speech if turn_error(r, language) >= WORDS_LOST_AT]
    by_condition = {
        c: _rate([r for r in speech if r["condition"] == c and r["kind"] != "text"])
        for c in ("clean", "noise", "loss")
    }
    by_voice = {
        v: _rate([r for r in speech if r["voice"] == v and r["kind"] != "text"])
        for v in sorted({r["voice"] for r in speech})
    }
    return {
        "clips": len(rows),
        "speech_clips": len(speech),
        "noise_clips": len(noise),
        ("cer" if language == "zh" else "wer"): round(errors / tokens, 4),
        ("cer_raw" if language == "zh" else "wer_raw"): round(errors_raw / tokens, 4),
        "intent_accuracy": _rate(intents),
        "intent_n": len(intents),
        "intent_accuracy_heard_well": _rate(heard_well),
        "heard_well_n": len(heard_well),
        "words_lost_rate": round(len(words_lost) / len(speech), 4) if speech else None,
        "slot_accuracy": _rate(slots),
        "slot_n": len(slots),
        "rating_capture": _rate(ratings),
        "rating_n": len(ratings),
        "false_accept_rate": round(len(false_accepts) / len(yes_no), 4) if yes_no else None,
        "false_accept_n": len(yes_no),
        "false_accepts": [r["text"] for r in false_accepts],
        "speech_dropped_rate": round(len(dropped) / len(speech), 4) if speech else None,
        "speech_dropped": [r["text"] for r in dropped],
        "noise_to_words_rate": round(len(words) / len(noise), 4) if noise else None,
        "noise_to_words": [f"{r['text']} -> {r['heard']!r}" for r in words],
        "decode_ms_p50": round(float(np.percentile(decode, 50)) * 1000, 1) if decode else None,
        "decode_ms_p95": round(float(np.percentile(decode, 95)) * 1000, 1) if decode else None,
        "accuracy_by_condition": by_condition,
        "accuracy_by_voice": by_voice,
    }
