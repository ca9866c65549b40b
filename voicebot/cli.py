"""`voicebot ...` command line."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from voicebot.core.errors import VoicebotError
from voicebot.core.logs import configure as configure_logging
from voicebot.core.outcomes import Outcome
from voicebot.core.runtime import configure_threads

if TYPE_CHECKING:
    from voicebot.app.config import VoicebotConfig


def _models(args: argparse.Namespace) -> int:
    from voicebot.models.registry import ModelRegistry

    registry = ModelRegistry()
    if args.action == "list":
        for s in registry.specs.values():
            source = s.root or " + ".join(s.parts) or f"converted: {s.install}"
            print(f"{s.name:<24} {s.stage:<4} {','.join(s.languages):<6} {s.version}  [{source}]")
            print(f"{'':<24} licence: {s.licence or 'unknown'}")
        return 0
    if args.action == "prepare":
        from voicebot.models.prepare import prepare

        return 1 if prepare(registry) else 0
    failed = 0
    for name, spec in registry.specs.items():
        status = registry.check(name)
        optional = " (optional)" if spec.optional else ""
        print(f"{'OK ' if status.ok else 'BAD'} {name}{optional}: {status.detail}")
        failed += not status.ok and not spec.optional
    return 1 if failed else 0


def _demo(args: argparse.Namespace) -> int:
    from voicebot.app.demo import main

    return main(
        Path(args.out), args.concurrency, args.personas, args.realtime, config=_config(args)
    )


def _trial(args: argparse.Namespace) -> int:
    from voicebot.app.demo import main

    return main(
        Path(args.out),
        args.concurrency,
        args.personas,
        args.realtime,
        Path(args.script),
        strict=True,
        config=_config(args),
    )


def _config(args: argparse.Namespace) -> VoicebotConfig:
    from voicebot.app.config import VoicebotConfig

    return VoicebotConfig.load(Path(args.config) if args.config else None)


def _chat(args: argparse.Namespace) -> int:
    from voicebot.app.chat import load_contact, run_chat
    from voicebot.models.store import ModelStore

    run_chat(Path(args.script), load_contact(args.contact), ModelStore(_config(args)), args.lang)
    return 0


def _console(args: argparse.Namespace) -> int:
    from voicebot.app.chat import load_contact, run_chat
    from voicebot.models.store import ModelStore

    if args.list_devices:
        from voicebot.telephony.local import list_devices

        print(list_devices())
        return 0
    if args.script is None:
        raise SystemExit("voicebot console: a script is needed (e.g. prompts/survey_en.yaml)")
    contact, config = load_contact(args.contact), _config(args)
    if args.text:
        run_chat(Path(args.script), contact, ModelStore(config), args.lang)
        return 0
    from voicebot.app.console import run_console

    report = run_console(
        Path(args.script),
        ModelStore(config),
        contact,
        Path(args.mic) if args.mic else None,
        Path(args.speaker) if args.speaker else None,
        args.device,
        args.realtime,
        args.lang,
        options=config.call,
    )
    if args.report:
        Path(args.report).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return 0


def _script(args: argparse.Namespace) -> int:
    if args.action == "prompts":
        from voicebot.app.prompts_cli import show_prompts

        recordings = Path(args.recordings) if args.recordings else None
        return max(show_prompts(Path(f), args.lang, recordings) for f in args.files)
    if args.action == "graph":
        from voicebot.policy.graph import render

        for path in args.files:
            print(render(Path(path), args.format, args.lang, Path(args.out)))
        return 0
    from voicebot.policy.lint import check_file

    problems = [p for path in args.files for p in check_file(Path(path))]
    for problem in problems:
        print(problem)
    print(f"{len(args.files)} script(s) checked, {len(problems)} problem(s)")
    return 1 if problems else 0


def _call(args: argparse.Namespace) -> int:
    import asyncio
    from datetime import UTC, datetime

    from voicebot.app.campaign_cli import on_do_not_call
    from voicebot.app.chat import load_contact
    from voicebot.app.outbound import place_one
    from voicebot.campaign.safeguards import caller_id_problem, outside_hours, refusal
    from voicebot.core.errors import ConfigError
    from voicebot.models.store import ModelStore
    from voicebot.telephony.sip.config import HandoffConfig, SipConfig, TrunkConfig

    config = _config(args)
    if reason := refusal(args.target, args.region, config.dial):
        raise ConfigError(f"not calling {args.target}: {reason}")
    if on_do_not_call(args.db, args.target, args.region):
        raise ConfigError(f"not calling {args.target}: on the do-not-call list")
    a_number = not args.target.startswith(("sip:", "sips:"))
    if a_number and not args.any_hour:
        now = datetime.now(UTC)
        if reason := outside_hours(args.target, args.region, now, config.dial.hours):
            raise ConfigError(f"not calling {args.target} now: {reason}")
    sip = config.sip
    if args.trunk:
        trunk = (
            sip.trunk.model_copy(update={"uri": args.trunk}) if sip else TrunkConfig(uri=args.trunk)
        )
        sip = SipConfig(trunk=trunk, handoff=sip.handoff if sip else HandoffConfig())
    if sip is None:
        raise ConfigError("no trunk: give --trunk sip:host[:port] or a config with `sip.trunk`")
    if problem := caller_id_problem(sip.trunk.caller_id, sip.trunk.host, a_number):
        raise ConfigError(f"not calling {args.target}: {problem}")
    if args.agent:
        sip.handoff = sip.handoff.model_copy(update={"agents": args.agent, "mode": args.transfer})
    report = asyncio.run(
        place_one(
            Path(args.script),
            args.target,
            load_contact(args.contact),
            sip,
            ModelStore(config),
            Path(args.out),
            args.record,
            config.call,
        )
    )
    signalling = report.signalling or {}
    print(
        f"call {report.call_id}: {report.outcome} (SIP {signalling.get('final_code', '-')} "
        f"{signalling.get('final_reason', '')}), {report.duration_s:.1f} s, "
        f"{len(report.turns)} turns, grade {report.lead_grade or '-'}"
    )
    print(f"report: {Path(args.out) / (report.call_id + '.json')}")
    return 0 if report.outcome not in (Outcome.FAILED, Outcome.INCOMPATIBLE) else 1


def _bench(args: argparse.Namespace) -> int:
    if args.kind == "understanding":
        return _bench_understanding(args)
    if args.dir is None:
        raise SystemExit("voicebot bench replay: give the folder of recorded calls")
    from rich.console import Console

    from voicebot.bench.run import run_bench
    from voicebot.models.registry import cache_dir

    result = run_bench(
        Path(args.dir),
        Path(args.script),
        Path(args.out),
        args.levels,
        args.baseline,
        args.channel,
        args.clock == "virtual",
        Console(),
        cache_dir() / "lines",
    )
    print((Path(args.out) / "replay.md").read_text(encoding="utf-8"))
    return 0 if result["recordings"] else 1


def _bench_understanding(args: argparse.Namespace) -> int:
    """benchmarks/understanding lives in the source tree, next to this package."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks.understanding.run import add_arguments, run

    bench = argparse.ArgumentParser()
    add_arguments(bench)
    options = bench.parse_args([])
    for key in ("split", "languages", "limit", "asr_en", "asr_zh", "beam", "out"):
        setattr(options, key, getattr(args, key))
    return run(options)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="voicebot", description="AI voice bot for outbound calls")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    models = sub.add_parser(
        "models", help="list or verify the models each stage loads; prepare converts them once"
    )
    models.add_argument("action", choices=["list", "check", "prepare"])
    models.set_defaults(func=_models)
    script = sub.add_parser("script", help="check call scripts (exit 1 on problems) or draw them")
    script.add_argument("action", choices=["check", "graph", "prompts"])
    script.add_argument("files", nargs="+")
    script.add_argument("--format", choices=["svg", "png"], default="svg", help="for graph")
    script.add_argument("--lang", help="language of the lines shown in the graph")
    script.add_argument("--out", default="out/graphs", help="folder for graphs")
    script.add_argument("--recordings", help="prompts: check this folder of recordings")
    script.set_defaults(func=_script)
    chat = sub.add_parser("chat", help="talk to a script by typing (real intent classifier)")
    chat.add_argument("script")
    chat.add_argument("--contact", default="{}", help="JSON object, or a .json file")
    chat.add_argument("--lang", help="script language (default: its first)")
    chat.add_argument("--config", help="voicebot YAML config (models)")
    chat.set_defaults(func=_chat)
    console = sub.add_parser("console", help="talk to a script with a microphone and speaker")
    console.add_argument("script", nargs="?")
    console.add_argument("--text", action="store_true", help="type instead of speaking")
    console.add_argument("--contact", default="{}", help="JSON object, or a .json file")
    console.add_argument("--lang", help="script language (default: its first)")
    console.add_argument("--device", help="sound device number or name (see --list-devices)")
    console.add_argument("--list-devices", action="store_true")
    console.add_argument("--mic", help="headless: a WAV file plays as the caller")
    console.add_argument("--speaker", help="headless: what the bot says goes to this WAV file")
    console.add_argument("--realtime", action="store_true", help="headless, in real time")
    console.add_argument("--report", help="write the call report (JSON) here")
    console.add_argument("--config", help="voicebot YAML config (models, call options)")
    console.set_defaults(func=_console)
    demo = sub.add_parser("demo", help="the English survey against simulated callees")
    demo.add_argument("--out", default="out/demo", help="folder for reports and recordings")
    trial = sub.add_parser("trial", help="every persona against a script, before going live")
    trial.add_argument("script")
    trial.add_argument("--out", default="out/trial", help="folder for reports and recordings")
    for p in (demo, trial):
        p.add_argument("--concurrency", type=int, default=4, help="calls at once")
        p.add_argument(
            "--personas",
            nargs="+",
            help="persona names, YAML files or a set (situations: every standard phrase)",
        )
        p.add_argument("--realtime", action="store_true", help="real time, not virtual time")
        p.add_argument("--config", help="voicebot YAML config (models, call options)")
    demo.set_defaults(func=_demo)
    call = sub.add_parser("call", help="place one real call over SIP")
    call.add_argument("target", help="a number (sent to the trunk) or a SIP URI")
    call.add_argument("--script", required=True)
    call.add_argument("--contact", default="{}", help="JSON object, or a .json file")
    call.add_argument("--config", help="voicebot YAML config: `sip:` section, models, call options")
    call.add_argument(
        "--trunk", help="trunk or peer URI, e.g. sip:10.0.0.5:5060 (overrides config)"
    )
    call.add_argument("--agent", action="append", help="agent SIP URI for hand-offs (repeatable)")
    call.add_argument("--transfer", choices=["warm", "blind"], default="warm")
    call.add_argument("--record", action="store_true", help="keep the call audio")
    call.add_argument("--out", default="out/calls", help="folder for the call report")
    call.add_argument("--region", default="US", help="for numbers without a country code")
    call.add_argument(
        "--any-hour",
        action="store_true",
        help="skip the callee's local-hours check (dial.hours, default 08:00-21:00)",
    )
    call.add_argument(
        "--db",
        default=os.environ.get("VOICEBOT_DB", "sqlite:///out/voicebot.db"),
        help="the store whose global do-not-call list is checked",
    )
    call.set_defaults(func=_call)
    from voicebot.app.campaign_cli import add_dnc_parser
    from voicebot.app.campaign_cli import add_parser as add_campaign

    add_campaign(sub)
    add_dnc_parser(sub)
    from voicebot.web.cli import add_parser as add_web

    add_web(sub)
    bench = sub.add_parser("bench", help="latency benchmarks")
    bench.add_argument("kind", choices=["replay", "understanding"])
    bench.add_argument("dir", nargs="?", help="replay: folder of callee-side WAVs (+ <name>.json)")
    bench.add_argument("--script", default="prompts/survey_en.yaml")
    bench.add_argument("--channel", type=int, help="for stereo WAVs: the callee's channel")
    bench.add_argument(
        "--levels",
        type=int,
        nargs="+",
        default=[1, 2, 4, 8, 16],
        help="simultaneous calls to sweep",
    )
    bench.add_argument("--baseline", choices=["naive"], help="also run the naive baseline")
    bench.add_argument("--clock", choices=["real", "virtual"], default="real")
    bench.add_argument("--out", default="benchmarks/results")
    bench.add_argument(
        "--split",
        choices=["dev", "test"],
        default="test",
        help="understanding: which split to report",
    )
    bench.add_argument("--languages", nargs="+", choices=["en", "zh"], default=["en", "zh"])
    bench.add_argument("--limit", type=int, help="understanding: phrasings per language")
    bench.add_argument("--asr-en", help="understanding: manifest ASR model for English")
    bench.add_argument("--asr-zh", help="understanding: manifest ASR model for Mandarin")
    bench.add_argument("--beam", type=int, help="understanding: decoder beam (default: the bot's)")
    bench.set_defaults(func=_bench)
    trial.set_defaults(func=_trial)
    return parser


def main(argv: list[str] | None = None) -> int:
    configure_threads()
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    # reports, recordings, stores, exports, cached lines hold personal data: private files
    umask = os.umask(0o077)
    try:
        return int(args.func(args))
    except VoicebotError as e:
        print(f"voicebot: {e}", file=sys.stderr)
        return 2
    finally:
        os.umask(umask)


if __name__ == "__main__":
    sys.exit(main())
