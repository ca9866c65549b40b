"""`voicebot campaign create | import | run | pause | resume | stop | status | report | export`.

The campaign room's commands; `run` builds the transport (simulated trunk, personas, SIP,
LiveKit) from the user's config, which is why this entry point lives in the composition layer."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy import func, select

from voicebot.app.config import VoicebotConfig
from voicebot.app.outbound import SipCaller
from voicebot.app.stages import ScriptStages
from voicebot.app.trunks import PersonaTrunk, SimulatedTrunk, SipTrunk
from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.report import daily_report, export
from voicebot.campaign.store import DEFAULT_URL, CampaignError, Store
from voicebot.core.clock import Clock, RealClock, VirtualClock
from voicebot.models.store import ModelStore
from voicebot.sim.trial import Trial

S = TypeVar("S", bound=ScriptStages)


def add_parser(sub: Any) -> None:
    campaign = sub.add_parser("campaign", help="outbound campaigns: contacts, dialer, reports")
    db_help = "store URL: sqlite:///file.db or postgresql+psycopg://..."
    campaign.add_argument("--db", default=os.environ.get("VOICEBOT_DB", DEFAULT_URL), help=db_help)
    actions = campaign.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create")
    create.add_argument("name")
    create.add_argument("--script", required=True)
    create.add_argument("--config", help="campaign YAML: window, retries, rules, pacing, money")
    load = actions.add_parser("import", help="contacts from CSV or JSON")
    load.add_argument("name")
    load.add_argument("file")
    load.add_argument("--source", default="")
    load.add_argument("--segment", default="")
    load.add_argument("--rejects", help="CSV of rejected rows (default: FILE.rejected.csv)")
    run = actions.add_parser("run", help="dial until nothing is left (Ctrl-C: graceful stop)")
    run.add_argument("name")
    run.add_argument("--transport", choices=["simulated", "personas", "sip", "livekit"],
                     default="simulated")  # fmt: skip
    run.add_argument(
        "--config",
        help="voicebot YAML config (models; the `sip:` or `livekit:` section for those transports)",
    )
    run.add_argument("--virtual", action="store_true", help="virtual time (trial runs)")
    run.add_argument("--speed", type=float, default=1.0, help="simulated calls this much faster")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--dial-log", help="simulated trunk: append each dial here")
    run.add_argument("--reports", default="out/campaign", help="call reports for real calls")
    for action in ("pause", "resume", "stop", "status"):
        actions.add_parser(action).add_argument("name")
    report = actions.add_parser("report", help="daily report: markdown + HTML with charts")
    report.add_argument("name")
    report.add_argument("--day", help="YYYY-MM-DD (default: all days)")
    report.add_argument("--out", default="out/reports")
    out = actions.add_parser("export", help="every attempt as CSV or JSON")
    out.add_argument("name")
    out.add_argument("--format", choices=["csv", "json"], default="csv")
    out.add_argument("--out")
    campaign.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    store = Store(args.db)
    console = Console()
    if args.action == "create":
        config = _load_config(args.config)
        store.create(args.name, args.script, config)
        console.print(f"campaign {args.name} created ({args.script})")
    elif args.action == "import":
        source = Path(args.file)
        rejects = Path(args.rejects) if args.rejects else source.with_suffix(".rejected.csv")
        result = import_contacts(store, args.name, source, args.source, args.segment,
                                 rejects=rejects)  # fmt: skip
        console.print(f"{result.imported} imported, {result.merged} merged duplicates, "
                      f"{sum(result.skipped.values())} skipped {result.skipped or ''}, "
                      f"{result.rejected_count} rejected")  # fmt: skip
        for line in result.rejected[:20]:
            console.print(f"  {args.file}: {line}")
        if result.rejects_path is not None:
            console.print(f"rejected rows with their reasons: {result.rejects_path}")
    elif args.action in ("pause", "resume", "stop"):
        store.set_state(args.name, {"pause": "paused", "resume": "ready", "stop": "stopped"}[
            args.action])  # fmt: skip
        console.print(f"campaign {args.name}: {args.action}d")
    elif args.action == "status":
        _status(store, args.name, console)
    elif args.action == "report":
        day = date.fromisoformat(args.day) if args.day else None
        path = daily_report(store, args.name, Path(args.out) / args.name, day)
        console.print((path.parent / "report.md").read_text(encoding="utf-8"))
        console.print(f"report: {path}")
    elif args.action == "export":
        path = Path(args.out or f"out/{args.name}_attempts.{args.format}")
        console.print(f"written {export(store, args.name, args.format, path)}")
    else:
        return asyncio.run(_run(store, args, console))
    return 0


def _load_config(path: str | None) -> CampaignConfig:
    if path is None:
        return CampaignConfig()
    try:
        return CampaignConfig.model_validate(yaml.safe_load(Path(path).read_text("utf-8")) or {})
    except OSError as e:
        raise CampaignError(f"{path}: cannot read ({e.strerror})") from None
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
                             for err in e.errors())  # fmt: skip
        raise CampaignError(f"{path}: {problems}") from None


def _status(store: Store, name: str, console: Console) -> None:
    with store.session() as s:
        c = store.campaign(s, name)
        states = Counter(s.scalars(select(Contact.state).where(Contact.campaign_id == c.id)))
        outcomes = dict(s.execute(select(Attempt.outcome, func.count()).where(
            Attempt.campaign_id == c.id).group_by(Attempt.outcome)).all())  # fmt: skip
    console.print(f"campaign {name}: {c.state}; contacts {dict(states)}; attempts {outcomes}")


async def _run(store: Store, args: argparse.Namespace, console: Console) -> int:
    base: Clock = VirtualClock() if args.virtual else RealClock()
    clock = WallClock(base)
    outcomes: Counter[str] = Counter()

    def progress(dial: Dial, result: CallResult) -> None:
        outcomes[result.outcome] += 1
        if sum(outcomes.values()) % 25 == 0 or not args.virtual:
            console.print(f"{sum(outcomes.values())} calls: {dict(outcomes.most_common())}")

    async def go() -> str:
        async with _placer(store, args, base, clock) as placer:
            dialer = Dialer(store, args.name, placer, clock, progress,
                            poll_s=None if args.virtual else 1.0)  # fmt: skip
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, dialer.stop)
            return await dialer.run()

    reason = await (base.run(go()) if isinstance(base, VirtualClock) else go())
    console.print(f"campaign {args.name}: {reason}; {sum(outcomes.values())} calls this run: "
                  f"{dict(outcomes.most_common())}")  # fmt: skip
    return 0


class _placer:
    """The transport the dialer uses, set up and torn down around the run."""

    def __init__(self, store: Store, args: argparse.Namespace, base: Clock,
                 clock: WallClock) -> None:  # fmt: skip
        self.store, self.args, self.base, self.clock = store, args, base, clock
        self._stack: Any = None
        self._livekit: Any = None

    async def __aenter__(self) -> Any:
        args = self.args
        if args.transport == "simulated":
            log = Path(args.dial_log) if args.dial_log else None
            return SimulatedTrunk(self.clock, args.seed, args.speed, log)
        config = VoicebotConfig.load(Path(args.config) if args.config else None)
        if args.transport == "personas":
            return PersonaTrunk(self._stages(config, Trial), self.base, Path(args.reports))
        if args.transport == "livekit":
            if config.livekit is None:
                raise CampaignError("--transport livekit needs --config with a `livekit:` section")
            from voicebot.livekit.worker import LiveKitPlacer
            from voicebot.telephony.livekit.calls import LiveKitCalls

            self._livekit = LiveKitCalls(config.livekit.server)
            return LiveKitPlacer(self._stages(config, ScriptStages), config.livekit, self._livekit,
                                 Path(self.args.reports))  # fmt: skip
        from voicebot.telephony.sip.stack import SipStack

        if config.sip is None:
            raise CampaignError("--transport sip needs --config with a `sip:` section")
        self._stack = SipStack(config.sip.trunk)
        await self._stack.start()
        caller = SipCaller(self._stages(config, ScriptStages), self._stack, config.sip)
        return SipTrunk(caller, Path(args.reports))

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            await self._stack.stop()
        if self._livekit is not None:
            await self._livekit.aclose()

    def _stages(self, config: VoicebotConfig, kind: type[S]) -> S:
        """The campaign script's stages (or a Trial) with the config's models and call options."""
        with self.store.session() as s:
            script = self.store.campaign(s, self.args.name).script
        stages = kind(Path(script), ModelStore(config), config.call)
        stages.prerender()
        return stages
