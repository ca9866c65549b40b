"""`voicebot bench understanding` (= `./dev bench understanding`): renders caller turns with
voices unlike the bot's own through a phone line, runs them through the bot's hearing and writes
benchmarks/results/understanding.{json,md} and understanding_confusion.png.

    python -m benchmarks.understanding.run --split test            # the held-out report
    python -m benchmarks.understanding.run --split dev --limit 20  # a quick sample
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.understanding.cases import clips
from benchmarks.understanding.evaluate import Hearing, correct, primary
from benchmarks.understanding.metrics import score
from benchmarks.understanding.render import ClipCache, Synthesizers, non_speech, phone_line
from voicebot.asr.whisper import AsrOptions, WhisperRecognizer
from voicebot.models.registry import ModelRegistry, cache_dir
from voicebot.nlu.encoders import E5Encoder, SentenceEncoder, TransformersEncoder
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import script_classifier

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = {"en": ["survey_en", "reminder_en"], "zh": ["upgrade_zh", "followup_zh"]}


def load_hearing(
    language: str,
    asr_model: str | None,
    registry: ModelRegistry,
    typed: bool = False,
    beam: int | None = None,
) -> Hearing:
    """The bot's hearing for one language; `typed`: text only, no recogniser loaded; `beam`:
    another decoder beam than the bot's."""
    spec = registry.spec(asr_model) if asr_model else registry.default("asr", language)
    options = AsrOptions(language=language, **({"beam_size": beam} if beam else {}))
    asr = None if typed else WhisperRecognizer(registry.resolve(spec.name), options)
    nlu = registry.default("nlu", language)
    folder = registry.resolve(nlu.name)
    encoder: SentenceEncoder = (
        TransformersEncoder(folder, nlu.name)
        if nlu.engine == "transformers"
        else E5Encoder(folder / nlu.main, nlu.name)
    )
    scripts = {n: load_script(ROOT / "prompts" / f"{n}.yaml") for n in SCRIPTS[language]}
    classifiers = {n: script_classifier(s, language, encoder) for n, s in scripts.items()}
    return Hearing(language, asr, classifiers, scripts)


def run_language(
    language: str, split: str, args: argparse.Namespace, registry: ModelRegistry
) -> list[dict[str, Any]]:
    model = getattr(args, f"asr_{language}")
    hearing = load_hearing(language, model, registry, args.typed, args.beam)
    cache = ClipCache(Path(args.cache))
    synth = Synthesizers()
    rows: list[dict[str, Any]] = []
    batch = clips(language, split, args.voices_per_phrasing, args.limit)
    if args.typed:  # each phrasing once, as text: no voice, no line, no recogniser
        once = {c.case.id: c for c in reversed(batch) if c.voice is not None}
        batch = list(reversed(once.values()))
    for i, clip in enumerate(batch):
        case = clip.case

        def make(clip=clip) -> Any:
            if clip.voice is None:
                kind = clip.case.text.strip("<>").split(":")[0]
                return non_speech(kind, clip.channel.seed)
            pcm, rate = synth.synthesize(clip.voice, clip.case.text)
            return phone_line(pcm, rate, clip.channel, clip.level_db)

        out = hearing.read(clip) if args.typed else hearing.hear(clip, cache.get(clip.key, make))
        labels = sorted(out.labels)
        node = hearing.scripts[case.script].nodes[case.node]
        rows.append(
            {
                "id": case.id,
                "split": split,
                "text": case.text,
                "kind": case.kind,
                "expect": case.expect,
                "also": list(case.also),
                "at": f"{case.script}/{case.node}",
                "yes_no": bool(node.ask and node.ask.slot == "yes_no"),
                "voice": clip.voice.name if clip.voice else "-",
                "condition": clip.channel.condition,
                "heard": out.heard,
                "raw": out.raw,
                "dropped": out.dropped,
                "no_speech": round(out.no_speech, 3),
                "logprob": round(out.logprob, 3),
                "speech_s": round(out.speech_s, 2),
                "decode_s": round(out.decode_s, 3),
                "intent": out.intent,
                "confidence": round(out.confidence, 3),
                "labels": labels,
                "rescored": out.rescored,
                "ok": correct(case.expect, case.also, out.labels),
                "understood": primary(case.expect, case.also, out.labels),
            }
        )
        if args.verbose:
            mark = "ok " if rows[-1]["ok"] else "BAD"
            print(f"{mark} {i + 1}/{len(batch)} {case.text!r} -> {out.heard!r} {labels}")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="voicebot bench understanding", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", choices=["dev", "test"], default="test")
    parser.add_argument("--languages", nargs="+", choices=["en", "zh"], default=["en", "zh"])
    parser.add_argument("--limit", type=int, help="at most this many phrasings per language")
    parser.add_argument("--voices-per-phrasing", type=int, default=2)
    parser.add_argument("--asr-en", help="manifest ASR model for English (default: the bot's)")
    parser.add_argument("--asr-zh", help="manifest ASR model for Mandarin")
    parser.add_argument("--beam", type=int, help="decoder beam size (default: the bot's)")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results"))
    parser.add_argument("--name", default="understanding", help="result file stem")
    parser.add_argument(
        "--cache",
        default=str(cache_dir() / "understanding"),
        help="rendered clips (built here, never committed)",
    )
    parser.add_argument("--verbose", action="store_true", help="one line per clip")
    parser.add_argument(
        "--rescore",
        metavar="JSON",
        help="score the rows of an earlier run again (after a change to the metrics) and write "
        "its report anew; nothing is rendered or decoded",
    )
    parser.add_argument(
        "--typed",
        action="store_true",
        help="the phrasings as text, once each: the classifier and policy alone (no audio)",
    )


def run(args: argparse.Namespace) -> int:
    if args.rescore:
        return rescore(Path(args.rescore))
    from voicebot.core.runtime import configure_threads

    configure_threads()
    registry = ModelRegistry()
    result: dict[str, Any] = {"split": args.split, "languages": {}, "rows": {}}
    started = time.perf_counter()
    for language in args.languages:
        rows = run_language(language, args.split, args, registry)
        model = getattr(args, f"asr_{language}") or registry.default("asr", language).name
        beam = args.beam or AsrOptions().beam_size
        result["languages"][language] = {"asr": model, "beam": beam, **score(rows, language)}
        result["rows"][language] = rows
    result["seconds"] = round(time.perf_counter() - started, 1)
    return write(result, Path(args.out), args.name)


def rescore(path: Path) -> int:
    """The report of an earlier run's rows under the current metrics, written where it was."""
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
        for language, rows in result["rows"].items():
            setup = {k: result["languages"][language][k] for k in ("asr", "beam")}
            result["languages"][language] = {**setup, **score(rows, language)}
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SystemExit(f"{path}: not a result of this benchmark ({e})") from None
    return write(result, path.parent, path.stem)


def write(result: dict[str, Any], out: Path, name: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(
        json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    from benchmarks.understanding.report import confusion_png, markdown

    (out / f"{name}.md").write_text(markdown(result), encoding="utf-8")
    confusion_png(result, out / f"{name}_confusion.png")
    print(markdown(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
