"""The understanding benchmark's markdown table and confusion-matrix chart."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

_ROWS = [
    ("ASR model", "asr"),
    ("decoder beam (greedy when other decodes wait)", "beam"),
    ("clips (speech + non-speech)", "clips"),
    ("WER (en) / CER (zh), text the policy saw", "wer|cer"),
    ("WER / CER of the raw decode", "wer_raw|cer_raw"),
    ("intent accuracy", "intent_accuracy"),
    ("intent accuracy on turns heard well (< 30 % token errors)", "intent_accuracy_heard_well"),
    ("turns heard well / intent turns", "heard_well_n|intent_n"),
    ("turns with half or more of their words lost by the recogniser", "words_lost_rate"),
    ("slot accuracy (ratings, dates, times)", "slot_accuracy"),
    ("rating capture", "rating_capture"),
    ("false accepts on identity / confirmation", "false_accept_rate"),
    ("real speech dropped as silence", "speech_dropped_rate"),
    ("noise or tones turned into words", "noise_to_words_rate"),
    ("ASR decode p50 / p95 (ms)", "decode_ms_p50|decode_ms_p95"),
]


def _cell(stats: dict[str, Any], key: str) -> str:
    if key in ("decode_ms_p50|decode_ms_p95", "heard_well_n|intent_n"):
        first, second = key.split("|")
        return f"{stats.get(first)} / {stats.get(second)}"
    value = next((stats[k] for k in key.split("|") if k in stats), None)
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def markdown(result: dict[str, Any]) -> str:
    langs = list(result["languages"])
    lines = [
        f"# Understanding benchmark ({result['split']} split)",
        "",
        "Voices unlike the bot's own, phrasings written apart from the exemplars, through an "
        "8 kHz mu-law line (clean / 20-30 dB noise / 1-3 % loss). "
        "`./dev bench understanding` regenerates this.",
        "",
        "| | " + " | ".join(langs) + " |",
        "|---|" + "---|" * len(langs),
    ]
    for title, key in _ROWS:
        lines.append(
            f"| {title} | " + " | ".join(_cell(result["languages"][lg], key) for lg in langs) + " |"
        )
    for lg in langs:
        s = result["languages"][lg]
        lines += [
            "",
            f"## {lg}",
            "",
            "accuracy by condition: "
            + ", ".join(f"{c} {v}" for c, v in s["accuracy_by_condition"].items()),
            "",
            "accuracy by voice: "
            + ", ".join(f"{v} {a}" for v, a in s["accuracy_by_voice"].items()),
        ]
        wrong = [r for r in result["rows"][lg] if not r["ok"]]
        if wrong:
            lines += [
                "",
                "| said | voice / line | heard | understood | expected |",
                "|---|---|---|---|---|",
            ]
            for r in wrong[:60]:
                heard = r["heard"] or f"({r['dropped'] or 'nothing'})"
                lines.append(
                    f"| {r['text']} | {r['voice']} / {r['condition']} | {heard} "
                    f"| {', '.join(r['labels'])} | {r['expect']} |"
                )
    lines.append(f"\n{result['seconds']} s\n")
    return "\n".join(lines)


def confusion_png(result: dict[str, Any], path: Path) -> None:
    """Expected vs understood intent per language (slots and non-speech left out)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    for name in ("WenQuanYi Zen Hei", "Noto Sans CJK SC"):
        if any(f.name == name for f in font_manager.fontManager.ttflist):
            plt.rcParams["font.family"] = [name, "DejaVu Sans"]
    langs = list(result["languages"])
    fig, axes = plt.subplots(1, len(langs), figsize=(9 * len(langs), 8), squeeze=False)
    for ax, lg in zip(axes[0], langs, strict=True):
        rows = [r for r in result["rows"][lg] if r["kind"] == "intent"]
        expected = sorted({r["expect"] for r in rows})
        got = expected + sorted({r["understood"] for r in rows} - set(expected))
        counts = Counter((r["expect"], r["understood"]) for r in rows)
        grid = [[counts[(e, g)] for g in got] for e in expected]
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(got)), got, rotation=70, fontsize=8)
        ax.set_yticks(range(len(expected)), expected, fontsize=8)
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize=7)
        acc = result["languages"][lg]["intent_accuracy"]
        ax.set_title(f"{lg}: expected (rows) vs understood, intent accuracy {acc}")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
