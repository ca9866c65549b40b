"""`voicebot campaign create | import | run | workers | pause | resume | stop | status | report |
export | purge | erase`.

The campaign room's commands; `run` builds the transport (simulated trunk, personas, SIP,
LiveKit) from the user's config, which is why this entry point lives in the composition layer."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import time
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlalchemy import func, select

from voicebot.app.trunks import SimulatedTrunk
from voicebot.campaign.config import CampaignConfig, ConfigFileError, load_config
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import CallResult, Dial, Dialer, WallClock, WorkerSettings
from voicebot.campaign.models import Attempt, Contact, Worker
from voicebot.campaign.safeguards import DialPolicy
from voicebot.campaign.store import DEFAULT_URL, CampaignError, Store
from voicebot.core.clock import Clock, RealClock, VirtualClock

if TYPE_CHECKING:  # the conversing transports load models: imported when a run uses them
    from voicebot.app.config import VoicebotConfig
    from voicebot.app.stages import ScriptStages

S = TypeVar("S", bound="ScriptStages")


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
    run = actions.add_parser(
        "run",
        help="dial until the campaign is done, waiting for calling windows (Ctrl-C / SIGTERM: "
        "drain, twice: force)",
    )
    run.add_argument("name")
    run.add_argument(
        "--transport", choices=["simulated", "personas", "sip", "livekit"], default="simulated"
    )
    run.add_argument(
        "--config",
        help="voicebot YAML config (models; the `sip:` or `livekit:` section for those transports)",
    )
    run.add_argument("--virtual", action="store_true", help="virtual time (trial runs)")
    run.add_argument("--speed", type=float, default=1.0, help="simulated calls this much faster")
    run.add_argument("--seed", type=int, default=0)
    run.add_argument("--dial-log", help="simulated trunk: append each dial here")
    run.add_argument("--reports", default="out/campaign", help="call reports for real calls")
    run.add_argument("--worker-id", default="", help="this dialer's name (default: host-pid-x)")
    run.add_argument(
        "--lease-s", type=float, default=30.0, help="a worker silent this long is taken for dead"
    )
    run.add_argument(
        "--drain-s",
        type=float,
        default=None,
        help="on stop, live calls (bridged transfers too) get this long; default: until they end",
    )
    run.add_argument(
        "--until-idle",
        action="store_true",
        help="exit when nothing is due now, not waiting for windows",
    )
    run.add_argument(
        "--lines",
        type=int,
        default=None,
        help="this worker's calls at once (default: the campaign cap)",
    )
    workers = actions.add_parser("workers", help="the dialers of a campaign and what they hold")
    workers.add_argument("name")
    for action in ("pause", "resume", "stop", "status"):
        actions.add_parser(action).add_argument("name")
    report = actions.add_parser("report", help="daily report: markdown + HTML with charts")
    report.add_argument("name")
    report.add_argument("--day", help="YYYY-MM-DD in the campaign's zone (default: all days)")
    report.add_argument("--out", default="out/reports")
    out = actions.add_parser("export", help="every attempt as CSV or JSON")
    out.add_argument("name")
    out.add_argument("--format", choices=["csv", "json"], default="csv")
    out.add_argument("--out")
    erase = actions.add_parser(
        "erase", help="erase one person's data (number, name, answers, transcripts, recordings)"
    )
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--contact", type=int, help="contact id (and the same number elsewhere)")
    who.add_argument("--phone", help="the person's number, in every campaign")
    erase.add_argument("--region", default="US", help="for a number without a country code")
    purge = actions.add_parser(
        "purge",
        help="past retention: delete recordings and transcripts, erase people done with the "
        "campaign",
    )
    purge.add_argument("name")
    purge.add_argument("--days", type=int, help="default: the campaign's retention_days")
    campaign.set_defaults(func=main)


def add_dnc_parser(sub: Any) -> None:
    """`voicebot dnc import FILE | export FILE`: do-not-call lists in and out."""
    dnc = sub.add_parser("dnc", help="do-not-call lists: import an existing list, export")
    dnc.add_argument("--db", default=os.environ.get("VOICEBOT_DB", DEFAULT_URL))
    actions = dnc.add_subparsers(dest="action", required=True)
    load = actions.add_parser("import", help="numbers from CSV or JSON (a phone column)")
    load.add_argument("file")
    load.add_argument("--campaign", help="that campaign's list (default: the global list)")
    load.add_argument("--region", default="US", help="for numbers without a country code")
    load.add_argument("--reason", default="imported list")
    load.add_argument("--rejects", help="CSV of rejected rows (default: FILE.rejected.csv)")
    out = actions.add_parser("export", help="every list as CSV")
    out.add_argument("file")
    dnc.set_defaults(func=dnc_main)


def dnc_main(args: argparse.Namespace) -> int:
    from voicebot.campaign.dnc import export_dnc, import_dnc

    store = Store(args.db)
    console = Console()
    if args.action == "export":
        count = export_dnc(store, Path(args.file))
        console.print(f"{count} do-not-call entries written to {args.file}")
        return 0
    source = Path(args.file)
    rejects = Path(args.rejects) if args.rejects else source.with_suffix(".rejected.csv")
    result = import_dnc(store, source, args.campaign, args.region, args.reason, rejects)
    where = f"campaign {args.campaign}" if args.campaign else "the global list"
    console.print(
        f"{result.added} numbers added to {where}, {result.already} already on it, "
        f"{result.rejected_count} rejected"
    )
    for line in result.rejected[:20]:
        console.print(f"  {args.file}: {line}")
    if result.rejects_path is not None:
        console.print(f"rejected rows with their reasons: {result.rejects_path}")
    return 0


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
        result = import_contacts(
            store, args.name, source, args.source, args.segment, rejects=rejects
        )
        console.print(
            f"{result.imported} imported, {result.merged} merged duplicates, "
            f"{sum(result.skipped.values())} skipped {result.skipped or ''}, "
            f"{result.rejected_count} rejected"
        )
        for line in result.rejected[:20]:
            console.print(f"  {args.file}: {line}")
        if result.rejects_path is not None:
            console.print(f"rejected rows with their reasons: {result.rejects_path}")
        if result.ambiguous_count:
            console.print(f"{result.ambiguous_count} numbers span several time zones:")
            for line in result.ambiguous[:20]:
                console.print(f"  {args.file}: {line}")
    elif args.action in ("pause", "resume", "stop"):
        store.set_state(
            args.name, {"pause": "paused", "resume": "ready", "stop": "stopped"}[args.action]
        )
        console.print(f"campaign {args.name}: {args.action}d")
    elif args.action == "status":
        _status(store, args.name, console)
    elif args.action == "workers":
        _workers(store, args.name, console)
    elif args.action == "report":
        from voicebot.campaign.report import daily_report

        day = date.fromisoformat(args.day) if args.day else None
        path = daily_report(store, args.name, Path(args.out) / args.name, day)
        console.print((path.parent / "report.md").read_text(encoding="utf-8"))
        console.print(f"report: {path}")
    elif args.action == "export":
        from voicebot.campaign.report import export

        path = Path(args.out or f"out/{args.name}_attempts.{args.format}")
        console.print(f"written {export(store, args.name, args.format, path)}")
    elif args.action == "purge":
        from voicebot.campaign.erase import expire
        from voicebot.campaign.report import purge

        gone = purge(store, args.name, args.days)
        console.print(f"campaign {args.name}: {gone} recordings and transcripts deleted")
        with store.session() as s:
            config = CampaignConfig.model_validate(store.campaign(s, args.name).config)
        if days := args.days or config.retention_days:
            erased = expire(store, args.name, days)
            console.print(
                f"campaign {args.name}: {erased.contacts} people done over {days} days ago "
                f"erased ({erased.dnc_hashed} do-not-call entries kept as hashes"
                + (
                    f", {erased.journaled} journaled results anonymised)"
                    if erased.journaled
                    else ")"
                )
            )
    elif args.action == "erase":
        from voicebot.campaign.contacts import normalise
        from voicebot.campaign.erase import erase_contact, erase_number

        if args.contact is not None:
            erased = erase_contact(store, args.contact)
        else:
            try:
                phone, _ = normalise(args.phone, args.region)
            except ValueError as e:
                raise CampaignError(f"--phone: {e}") from None
            erased = erase_number(store, phone)
        console.print(
            f"erased {erased.contacts} contact(s): {erased.attempts} calls, "
            f"{erased.reports} reports scrubbed, {erased.recordings} recordings deleted"
            + (f", {erased.journaled} journaled results anonymised" if erased.journaled else "")
        )
    else:
        return asyncio.run(_run(store, args, console))
    return 0


def _load_config(path: str | None) -> CampaignConfig:
    if path is None:
        return CampaignConfig()
    try:
        return load_config(Path(path))
    except ConfigFileError as e:
        raise CampaignError(str(e)) from None


def _status(store: Store, name: str, console: Console) -> None:
    with store.session() as s:
        c = store.campaign(s, name)
        states = Counter(s.scalars(select(Contact.state).where(Contact.campaign_id == c.id)))
        outcomes = dict(
            s.execute(
                select(Attempt.outcome, func.count())
                .where(Attempt.campaign_id == c.id)
                .group_by(Attempt.outcome)
            ).all()
        )
    console.print(f"campaign {name}: {c.state}; contacts {dict(states)}; attempts {outcomes}")


def _workers(store: Store, name: str, console: Console) -> None:
    """Who holds what: each worker's lease, heartbeat and the calls it has open."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with store.session() as s:
        c = store.campaign(s, name)
        workers = list(
            s.scalars(select(Worker).where(Worker.campaign_id == c.id).order_by(Worker.started_at))
        )
        held = dict(
            s.execute(
                select(Attempt.worker_id, func.count())
                .where(Attempt.campaign_id == c.id, Attempt.state == "dialing")
                .group_by(Attempt.worker_id)
            )
            .tuples()
            .all()
        )
    if not workers:
        console.print(f"campaign {name}: no workers yet")
    for w in workers:
        lease = (w.lease_until - now).total_seconds()
        beat = (now - w.heartbeat_at).total_seconds()
        live = w.state in ("running", "draining") and lease > 0
        console.print(
            f"{w.id}: {w.state if live or w.state != 'running' else 'expired'} on {w.host} "
            f"pid {w.pid}; {held.get(w.id, 0)} calls open, {w.placed} placed; heartbeat "
            f"{beat:.0f} s ago, lease {f'{lease:.0f} s left' if lease > 0 else 'expired'}"
        )
    if held.get(None):
        console.print(f"{held[None]} open attempts without a live worker (recovered next)")


def _progress_line(store: Store, dialer: Dialer) -> str:
    with store.session() as s:
        states = Counter(
            s.scalars(select(Contact.state).where(Contact.campaign_id == dialer.campaign_id))
        )
    finished = states["done"] + states["skipped"]
    return (
        f"dialled {dialer.placed} / in progress {dialer.in_progress} / done {finished} / "
        f"waiting {states['pending']}"
    )


async def _run(store: Store, args: argparse.Namespace, console: Console) -> int:
    base: Clock = VirtualClock() if args.virtual else RealClock()
    clock = WallClock(base)
    outcomes: Counter[str] = Counter()
    worker = WorkerSettings(
        worker_id=args.worker_id,
        lease_s=args.lease_s,
        heartbeat_s=max(0.5, args.lease_s / 6),
        drain_s=args.drain_s,
        until_idle=args.until_idle,
        lines=args.lines,
    )
    dialers: list[Dialer] = []

    shown = [0.0]
    live = console.is_terminal and not args.virtual

    async def status_line(dialer: Dialer) -> None:
        """On a terminal: one status line, updated every second."""
        with console.status("starting") as status:
            while True:
                status.update(_progress_line(store, dialer))
                await asyncio.sleep(1.0)

    def progress(dial: Dial, result: CallResult) -> None:
        """A progress line every 25 calls (virtual time) or 5 s at most (real time)."""
        outcomes[str(result.outcome)] += 1
        if args.virtual and sum(outcomes.values()) % 25:
            return
        if not args.virtual and (live or time.monotonic() - shown[0] < 5.0):
            return  # a terminal shows the live status line instead
        shown[0] = time.monotonic()
        line = _progress_line(store, dialers[0]) if dialers else ""
        console.print(f"{sum(outcomes.values())} calls: {dict(outcomes.most_common())}; {line}")

    def waiting(at: datetime, zone: str) -> None:
        utc = at.replace(tzinfo=UTC)
        contact = utc.astimezone(ZoneInfo(zone))
        operator = utc.astimezone()
        console.print(
            f"waiting: the next calling window opens {operator:%a %Y-%m-%d %H:%M %Z} "
            f"here ({contact:%a %H:%M} {zone} for the next contact)"
        )

    async def go() -> str:
        transport = _placer(store, args, base, clock)
        async with transport as placer:
            dialer = Dialer(
                store,
                args.name,
                placer,
                clock,
                progress,
                poll_s=None if args.virtual else 1.0,
                worker=worker,
                on_wait=waiting,
                dial=transport.dial_policy(),
            )
            dialers.append(dialer)

            def on_signal() -> None:
                if dialer.draining:
                    console.print("forced: cutting the calls in progress")
                    transport.cut_bridges()
                else:
                    grace = "until they end" if args.drain_s is None else f"{args.drain_s:g} s"
                    console.print(
                        f"draining: no new calls; {dialer.in_progress} in progress "
                        f"run on ({grace}); signal again to force"
                    )
                dialer.stop()

            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, on_signal)
            ticker = asyncio.ensure_future(status_line(dialer)) if live else None
            try:
                return await dialer.run()
            finally:
                if ticker is not None:
                    ticker.cancel()

    reason = await (base.run(go()) if isinstance(base, VirtualClock) else go())
    console.print(
        f"campaign {args.name}: {reason}; {sum(outcomes.values())} calls this run: "
        f"{dict(outcomes.most_common())}"
    )
    due = dialers[0].next_due() if dialers and reason == "idle" else None
    if due is not None:
        console.print(
            f"nothing due now; the next contact is due "
            f"{due.replace(tzinfo=UTC).astimezone():%a %Y-%m-%d %H:%M %Z}"
        )
    return 0


class _placer:
    """The transport the dialer uses, set up and torn down around the run. At the end, calls
    handed to an agent (bridged SIP transfers) run on to their own end before the stack stops
    (bounded by `--drain-s` when given)."""

    def __init__(
        self, store: Store, args: argparse.Namespace, base: Clock, clock: WallClock
    ) -> None:
        self.store, self.args, self.base, self.clock = store, args, base, clock
        self._stack: Any = None
        self._caller: Any = None
        self._livekit: Any = None
        self._config: Any = None

    def config(self) -> VoicebotConfig:
        """The user's config, read once (its import loads the model stack: only when needed)."""
        if self._config is None:
            from voicebot.app.config import VoicebotConfig

            self._config = VoicebotConfig.load(Path(self.args.config) if self.args.config else None)
        return self._config

    def dial_policy(self) -> DialPolicy:
        """What may be dialled: the config's `dial:` section, or the safe defaults."""
        return self.config().dial if self.args.config else DialPolicy()

    async def __aenter__(self) -> Any:
        args = self.args
        if args.transport == "simulated":
            log = Path(args.dial_log) if args.dial_log else None
            return SimulatedTrunk(self.clock, args.seed, args.speed, log)
        from voicebot.app.stages import ScriptStages

        config = self.config()
        if args.transport == "personas":
            from voicebot.app.trunks import PersonaTrunk
            from voicebot.sim.trial import Trial

            return PersonaTrunk(
                self._stages(config, Trial),
                self.base,
                Path(args.reports),
                self.clock,
                recording=self._recording(),
            )
        if args.transport == "livekit":
            if config.livekit is None:
                raise CampaignError("--transport livekit needs --config with a `livekit:` section")
            from voicebot.app.trunks import script_says_recorded
            from voicebot.livekit.worker import LiveKitPlacer
            from voicebot.policy.schema import load_script
            from voicebot.telephony.livekit.calls import LiveKitCalls

            recorded = self._recording() or script_says_recorded(load_script(self._script()))
            reports = Path(self.args.reports)
            self._livekit = LiveKitCalls(config.livekit.server)
            return LiveKitPlacer(
                self._stages(config, ScriptStages),
                config.livekit,
                self._livekit,
                reports,
                record_to=reports / "recordings" if recorded else None,
            )
        from voicebot.app.outbound import SipCaller
        from voicebot.app.trunks import SipTrunk
        from voicebot.telephony.sip.stack import SipStack

        if config.sip is None:
            raise CampaignError("--transport sip needs --config with a `sip:` section")
        from voicebot.campaign.safeguards import caller_id_problem

        trunk = config.sip.trunk
        if problem := caller_id_problem(trunk.caller_id, trunk.host, dialling_a_number=True):
            raise CampaignError(f"campaign {args.name}: {problem}")
        self._stack = SipStack(config.sip.trunk)
        await self._stack.start()
        self._caller = SipCaller(self._stages(config, ScriptStages), self._stack, config.sip)
        return SipTrunk(self._caller, Path(args.reports), self.clock, recording=self._recording())

    async def __aexit__(self, *exc: object) -> None:
        if self._caller is not None and self._caller.bridges:
            await self._caller.wait_bridges(within_s=self.args.drain_s)
        if self._stack is not None:
            await self._stack.stop()
        if self._livekit is not None:
            await self._livekit.aclose()

    def cut_bridges(self) -> None:
        """A forced stop: end the handed-off calls too."""
        for line in list(self._caller.bridges if self._caller is not None else []):
            line.end_bridge()

    def _recording(self) -> bool | None:
        """The campaign's `recording` switch (None: as the script says)."""
        with self.store.session() as s:
            config = CampaignConfig.model_validate(self.store.campaign(s, self.args.name).config)
        return True if config.recording else None

    def _script(self) -> Path:
        with self.store.session() as s:
            return Path(self.store.campaign(s, self.args.name).script)

    def _stages(self, config: VoicebotConfig, kind: type[S]) -> S:
        """The campaign script's stages (or a Trial) with the config's models and call options."""
        from voicebot.models.store import ModelStore

        stages = kind(self._script(), ModelStore(config), config.call)
        stages.prerender()
        return stages


def on_do_not_call(url: str, target: str, region: str) -> bool:
    """`voicebot call`: is the target (a number, or a SIP URI whose user part is one) on the
    store's global do-not-call list, or waiting in its results journal? A SQLite store that
    does not exist yet is not created for the question."""
    import re

    from voicebot.campaign.contacts import parse_number
    from voicebot.campaign.dnc import on_global_list
    from voicebot.campaign.journal import ResultJournal, journal_dir

    user = re.match(r"^sips?:([^@;]+)@", target)
    try:
        number, _ = parse_number(user.group(1) if user else target, region)
    except ValueError:
        return False  # not a phone number (a named SIP user): no list holds it
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return number in ResultJournal(journal_dir(url), 0).dnc_numbers()
    return on_global_list(Store(url), number)
