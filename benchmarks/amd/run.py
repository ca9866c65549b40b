"""`./dev bench amd`: answering-machine detection on greetings spoken by voices unlike the bot's
own (benchmarks/understanding/voices.yaml, split by voice) through a phone line (clean, line
noise, frame loss), each played into a real call (the full pipeline, virtual time). Reports the
human-as-machine rate (people the bot treats as voicemail: with a hang-up script, silence and a
hang-up) and the machine-as-human rate (machines the bot greets), per language and overall, to
benchmarks/results/amd_<split>.{json,md}.

    python -m benchmarks.amd.run --split test            # the held-out report
    python -m benchmarks.amd.run --split dev --limit 4   # a quick sample
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from benchmarks.understanding.cases import load_voices
from benchmarks.understanding.render import ClipCache, Synthesizers, VoiceSpec
from voicebot.audio.frames import as_int16
from voicebot.audio.g711 import ulaw_decode, ulaw_encode
from voicebot.audio.resample import resample
from voicebot.bench.replay import Recording, replay_one
from voicebot.core.clock import VirtualClock
from voicebot.metrics.report import CallReport
from voicebot.models.registry import cache_dir

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RATE = 8000
SCRIPTS = {"en": "reminder_en", "zh": "followup_zh"}  # both leave a message: the path shows
CONDITIONS = ("clean", "noise", "loss")


@dataclass(frozen=True)
class Greeting:
    """One thing that answers a call: a person's hello or a machine's greeting."""

    id: str
    language: str
    kind: str  # person | machine
    sentences: tuple[str, ...]
    beep: bool
    split: str


@dataclass(frozen=True)
class Clip:
    """A greeting spoken by one voice through one line condition."""

    greeting: Greeting
    voice: VoiceSpec
    condition: str
    seed: int

    @property
    def key(self) -> str:
        g = self.greeting
        return f"amd|{g.sentences}|{g.beep}|{g.kind}|{self.voice.key}|{self.condition}|{self.seed}"


def load_greetings(language: str, split: str) -> list[Greeting]:
    data = yaml.safe_load((HERE / "greetings.yaml").read_text(encoding="utf-8"))[language]
    out: list[Greeting] = []
    for kind in ("person", "machine"):
        for i, item in enumerate(data[kind][split]):
            say, beep = (
                (item, False) if isinstance(item, list) else (item["say"], item.get("beep", False))
            )
            out.append(
                Greeting(f"{language}-{kind}-{split}-{i}", language, kind, tuple(say), beep, split)
            )
    # a machine that only beeps (no greeting recorded)
    out.append(Greeting(f"{language}-machine-{split}-beep", language, "machine", (), True, split))
    return out


def clips(language: str, split: str, voices_per: int, limit: int | None) -> list[Clip]:
    greetings = load_greetings(language, split)
    if limit is not None:  # the first `limit` of each kind
        greetings = [
            g for k in ("person", "machine") for g in [x for x in greetings if x.kind == k][:limit]
        ]
    voices = load_voices(language, split)
    out = []
    for i, g in enumerate(greetings):
        for j in range(min(voices_per, len(voices))):
            seed = zlib.crc32(f"{g.id}|{j}".encode())
            condition = CONDITIONS[(i * voices_per + j) % len(CONDITIONS)]
            out.append(Clip(g, voices[(i + j) % len(voices)], condition, seed))
    return out


def render(clip: Clip, synth: Synthesizers) -> np.ndarray:
    """The callee side of the first seconds of the call, at the line rate."""
    rng = np.random.default_rng(clip.seed)
    level = 32768 * 10 ** (rng.uniform(-30, -18) / 20)
    parts = [np.zeros(int(rng.uniform(0.2, 0.6) * RATE))]
    for n, sentence in enumerate(clip.greeting.sentences):
        pcm, rate = synth.synthesize(clip.voice, sentence)
        x = resample(as_int16(pcm), rate, RATE).astype(np.float64)
        x *= level / (float(np.sqrt(np.mean(x**2))) or 1.0)
        if n:
            parts.append(np.zeros(int(rng.uniform(0.3, 0.7) * RATE)))
        parts.append(x)
    if clip.greeting.beep:
        t = np.arange(int(rng.uniform(0.3, 0.8) * RATE)) / RATE
        hz = float(rng.choice([440.0, 850.0, 1000.0, 1400.0]))
        parts += [np.zeros(int(0.4 * RATE)), 9000 * np.sin(2 * np.pi * hz * t)]
    parts.append(np.zeros(int((6.0 if clip.greeting.kind == "machine" else 3.0) * RATE)))
    x = np.concatenate(parts)
    if clip.condition == "noise":  # line noise, 15-25 dB under the speech, over the whole call
        x += rng.normal(0, level * 10 ** (-rng.uniform(15, 25) / 20), len(x))
    out = ulaw_decode(ulaw_encode(np.clip(x, -32768, 32767).astype(np.int16))).copy()
    if clip.condition == "loss":  # 1-3 % of 20 ms frames lost
        frame = RATE // 50
        for i in np.flatnonzero(rng.random(len(out) // frame) < rng.uniform(0.01, 0.03)):
            out[i * frame : (i + 1) * frame] = 0
    return out


def verdict(report: CallReport) -> str:
    """What the bot did: machine (voicemail path), screener, greeted, or silent."""
    kinds = [e.kind for e in report.timeline]
    if "answering_machine" in kinds:
        return "machine"
    if "call_screening" in kinds:
        return "screener"
    return "greeted" if report.bot_lines else "silent"


def run_language(language: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    from voicebot.models.store import ModelStore
    from voicebot.session.call import CallOptions
    from voicebot.sim.trial import Trial

    options = CallOptions(**dict(_setting(item) for item in args.set))
    trial = Trial(ROOT / "prompts" / f"{SCRIPTS[language]}.yaml", ModelStore(), options)
    cache, synth = ClipCache(Path(args.cache)), Synthesizers()
    rows = []
    batch = clips(language, args.split, args.voices_per_greeting, args.limit)
    for n, clip in enumerate(batch):
        pcm = cache.get(clip.key, lambda clip=clip: render(clip, synth))
        clock = VirtualClock()
        rec = Recording(Path(clip.greeting.id), pcm)
        report = asyncio.run(clock.run(replay_one(trial, rec, clock)))
        did = verdict(report)
        detail = next((e.detail for e in report.timeline if e.kind == "answering_machine"), "")
        g = clip.greeting
        row = {
            "id": g.id,
            "kind": g.kind,
            "text": " ".join(g.sentences) or "<beep>",
            "beep": g.beep,
            "voice": clip.voice.name,
            "condition": clip.condition,
            "did": did,
            "reason": detail,
            "heard": [t.text for t in report.turns][:2],
            # a person: end of the hello -> the bot's first audible word, at the callee's ear
            "greeting_ms": report.ear.greeting_ms if report.ear else None,
            # a machine the bot spoke to before it knew (its greeting, not the message)
            "spoke_to_machine": g.kind == "machine"
            and any(line.node != "voicemail" for line in report.bot_lines),
            "error": (g.kind == "person" and did != "greeted")
            or (g.kind == "machine" and did != "machine"),
        }
        rows.append(row)
        if args.verbose:
            mark = "BAD" if row["error"] else "ok "
            print(f"{mark} {n + 1}/{len(batch)} {g.kind} {row['text'][:50]!r} -> {did} {detail}")
    return rows


def _setting(item: str) -> tuple[str, float]:
    key, _, value = item.partition("=")
    return key.strip(), float(value)


def rates(rows: list[dict[str, Any]]) -> dict[str, Any]:
    people = [r for r in rows if r["kind"] == "person"]
    machines = [r for r in rows if r["kind"] == "machine"]
    h_as_m = sum(r["did"] != "greeted" for r in people)
    m_as_h = sum(r["did"] != "machine" for r in machines)
    gaps = [r["greeting_ms"] for r in people if r.get("greeting_ms") is not None]
    return {
        "greeting_p50_ms": round(float(np.percentile(gaps, 50))) if gaps else None,
        "greeting_p95_ms": round(float(np.percentile(gaps, 95))) if gaps else None,
        "spoke_to_machine": sum(bool(r.get("spoke_to_machine")) for r in machines),
        "people": len(people),
        "machines": len(machines),
        "human_as_machine": h_as_m,
        "machine_as_human": m_as_h,
        "human_as_machine_rate": round(h_as_m / len(people), 3) if people else None,
        "machine_as_human_rate": round(m_as_h / len(machines), 3) if machines else None,
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# AMD benchmark ({result['split']} split)",
        "",
        "Greetings by voices unlike the bot's own, through a phone line, each played into a real "
        "call (`./dev bench amd --split " + result["split"] + "`).",
        "",
        f"Call options: {result.get('options') or 'shipped defaults'}. Greeting gap = end of a "
        "person's hello -> the bot's first audible word (caller's-ear detector); spoke to a "
        "machine = machines that heard a bot line other than the voicemail message.",
        "",
        "| language | people | machines | human-as-machine | machine-as-human | spoke to a machine "
        "| greeting gap p50 / p95 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for lang, s in [*result["languages"].items(), ("all", result["all"])]:
        lines.append(
            f"| {lang} | {s['people']} | {s['machines']} | "
            f"{s['human_as_machine']} ({_pct(s['human_as_machine_rate'])}) | "
            f"{s['machine_as_human']} ({_pct(s['machine_as_human_rate'])}) | "
            f"{s['spoke_to_machine']} | {s['greeting_p50_ms']} / {s['greeting_p95_ms']} |"
        )
    errors = [r for rows in result["rows"].values() for r in rows if r["error"]]
    if errors:
        lines += [
            "",
            "## Misses",
            "",
            "| kind | greeting | voice | line | bot | heard |",
            "|---|---|---|---|---|---|",
        ]
        for r in errors:
            heard = " / ".join(r["heard"]) or "-"
            lines.append(
                f"| {r['kind']} | {r['text']} | {r['voice']} | {r['condition']} | "
                f"{r['did']} {r['reason']} | {heard} |"
            )
    return "\n".join(lines) + "\n"


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f} %"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="./dev bench amd", description=__doc__)
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--languages", nargs="+", choices=["en", "zh"], default=["en", "zh"])
    parser.add_argument("--limit", type=int, help="at most this many greetings of each kind")
    parser.add_argument("--voices-per-greeting", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--cache", default=str(cache_dir() / "amd"), help="rendered clips")
    parser.add_argument("--verbose", action="store_true", help="one line per clip")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=SECONDS",
        help="a call option for this run, e.g. --set answer_pause_s=0.6 (repeatable)",
    )
    parser.add_argument("--name", help="results file name (default amd_<split>)")
    args = parser.parse_args(argv)
    from voicebot.core.runtime import configure_threads

    configure_threads()
    started = time.perf_counter()
    rows = {lang: run_language(lang, args) for lang in args.languages}
    result: dict[str, Any] = {
        "split": args.split,
        "options": " ".join(args.set),
        "languages": {lang: rates(r) for lang, r in rows.items()},
        "all": rates([r for rs in rows.values() for r in rs]),
        "rows": rows,
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = args.name or f"amd_{args.split}"
    (out / f"{name}.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
