"""`voicebot demo`: the embedded default. A small campaign of the English survey on the
simulated trunk: one contact per simulated persona, dialled several at once over loopback lines
by the campaign dialer (SQLite store, no trunk, no server). Prints the outcome table, a latency
summary and the campaign report; writes call reports, stereo recordings and the report.

`voicebot trial` runs the same personas against any script without the campaign around it."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from voicebot.app.config import VoicebotConfig
from voicebot.core.clock import Clock, RealClock, VirtualClock
from voicebot.metrics.ear import DETECTOR
from voicebot.metrics.report import ABANDON_CAP, ABANDON_S, CallReport, abandonment_rate
from voicebot.metrics.stats import summarize
from voicebot.models.registry import cache_dir
from voicebot.models.store import ModelStore
from voicebot.policy.schema import load_script
from voicebot.session.dialogue import unvisited
from voicebot.sim.coverage import Coverage, coverage
from voicebot.sim.persona import Persona, choose
from voicebot.sim.trial import Trial, TrialCall

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
STAGES = ["asr", "intent", "tts_first_audio", "end_to_end"]


def run_trial(
    script: Path,
    personas: list[Persona],
    out: Path,
    concurrency: int,
    realtime: bool,
    console: Console,
    config: VoicebotConfig,
) -> list[TrialCall]:
    trial = _load(script, out, console, config)
    clock: Clock = RealClock() if realtime else VirtualClock()
    with Progress(*_columns(), console=console) as progress:
        task = progress.add_task(
            f"{len(personas)} calls, {concurrency} at once", total=len(personas)
        )

        def done(call: TrialCall) -> None:
            mark = "ok" if call.passed else "UNEXPECTED"
            progress.console.print(f"  {call.persona.name:<18} {call.report.outcome:<13} {mark}")
            progress.advance(task)

        async def main() -> list[TrialCall]:
            work = trial.run(personas, clock, concurrency, on_done=done)
            return await (clock.run(work) if isinstance(clock, VirtualClock) else work)

        return asyncio.run(main())


def run_campaign(
    script: Path,
    personas: list[Persona],
    out: Path,
    concurrency: int,
    realtime: bool,
    console: Console,
    config: VoicebotConfig,
) -> list[TrialCall]:
    """The personas as a campaign's contact list, dialled once each by the real dialer."""
    from voicebot.app.trunks import PersonaTrunk
    from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig
    from voicebot.campaign.contacts import import_contacts
    from voicebot.campaign.dialer import Dialer, WallClock
    from voicebot.campaign.report import daily_report
    from voicebot.campaign.store import Store

    trial = _load(script, out, console, config)
    out.mkdir(parents=True, exist_ok=True)
    (out / "campaign.db").unlink(missing_ok=True)
    store = Store(f"sqlite:///{out / 'campaign.db'}")
    campaign = CampaignConfig(
        window=CallingWindow(start="00:00", end="23:59:59", days=list(DAYS)),
        max_attempts=1,
        concurrency=concurrency,
        cps=2,
    )
    store.create("demo", str(script), campaign)
    contacts = out / "contacts.csv"
    contacts.write_text(
        "phone,persona\n"
        + "".join(f"+1 212 555 {100 + i:04d},{p.name}\n" for i, p in enumerate(personas))
    )
    import_contacts(store, "demo", contacts, source="demo")
    base: Clock = RealClock() if realtime else VirtualClock()
    trunk = PersonaTrunk(trial, base)
    with Progress(*_columns(), console=console) as progress:
        task = progress.add_task(
            f"campaign: {len(personas)} contacts, {concurrency} lines", total=len(personas)
        )

        def done(_dial: object, _result: object) -> None:
            call = trunk.calls[-1]
            mark = "ok" if call.passed else "UNEXPECTED"
            progress.console.print(f"  {call.persona.name:<18} {call.report.outcome:<13} {mark}")
            progress.advance(task)

        dialer = Dialer(store, "demo", trunk, WallClock(base), done, poll_s=None)
        asyncio.run(base.run(dialer.run()) if isinstance(base, VirtualClock) else dialer.run())
    report = daily_report(store, "demo", out / "report")
    console.print(f"campaign report: {report}")
    order = {p.name: i for i, p in enumerate(personas)}
    return sorted(trunk.calls, key=lambda c: order[c.persona.name])


def _columns() -> tuple[ProgressColumn, ...]:
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


def _load(script: Path, out: Path, console: Console, config: VoicebotConfig) -> Trial:
    if config.tts.prerender_dir is None:
        tts = config.tts.model_copy(update={"prerender_dir": cache_dir() / "lines"})
        config = config.model_copy(update={"tts": tts})
    started = time.perf_counter()
    with console.status("loading models and pre-rendering the script's fixed lines ..."):
        trial = Trial(script, ModelStore(config), config.call, record_to=out / "recordings")
        new = trial.prerender()
    console.print(f"ready in {time.perf_counter() - started:.1f} s ({new} lines rendered)")
    return trial


def write_reports(calls: list[TrialCall], out: Path) -> None:
    folder = out / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for call in calls:
        (folder / f"{call.report.call_id}.json").write_text(call.report.model_dump_json(indent=2))


def latency_summary(reports: list[CallReport]) -> dict[str, dict[str, int]]:
    """The caller's-ear reply and greeting gaps (the headline, from each call's audio at the
    bot's port: loopback adds no delay), then the internal stages as the breakdown."""
    ears = [r.ear for r in reports if r.ear is not None]
    out = {}
    for name, samples in (
        ("callers_ear", [ms for e in ears for ms in e.replies_ms]),
        ("greeting", [e.greeting_ms for e in ears if e.greeting_ms is not None]),
    ):
        s = summarize(samples)
        out[name] = {"n": s.n, "p50": round(s.p50), "p95": round(s.p95)}
    out["cutoffs"] = {"n": sum(e.cutoffs for e in ears), "p50": 0, "p95": 0}
    for stage in STAGES:
        s = summarize([ms for r in reports for ms in r.latencies_ms(stage)])
        out[stage] = {"n": s.n, "p50": round(s.p50), "p95": round(s.p95)}
    return out


def abandonment_line(rate: float, answered: int) -> str:
    """The answered-call abandonment rate, warned about over the legal cap."""
    line = (
        f"abandonment rate: {rate:.1%} of {answered} answered calls "
        f"(first bot audio over {ABANDON_S:g} s after the hello, or none)"
    )
    if rate > ABANDON_CAP:
        line += f" WARNING: over the {ABANDON_CAP:.0%} cap of outbound-calling rules"
    return line


def print_tables(calls: list[TrialCall], console: Console) -> None:
    table = Table(title="Outcomes")
    for col in ["persona", "expected", "outcome", "grade", "answers", "hand-off", "DNC", "secs"]:
        table.add_column(col)
    for c in calls:
        r = c.report
        answers = " ".join(
            str(v)
            for k, v in r.records.items()
            if k.startswith("survey.") and not isinstance(v, str)
        )
        handoff = (
            "-" if r.transfer is None else ("agent" if r.transfer["connected"] else "none free")
        )
        outcome = r.outcome if c.passed else f"[red]{r.outcome}[/red]"
        table.add_row(
            c.persona.name,
            c.expected,
            outcome,
            r.lead_grade or "-",
            answers or "-",
            handoff,
            "yes" if r.dnc else "-",
            f"{r.duration_s:.0f}",
        )
    console.print(table)
    lat = Table(
        title="Latency per caller turn (ms). callers_ear: end of the caller's audible speech "
        f"-> first audible bot sample ({DETECTOR}); greeting: end of the hello -> the bot's "
        "first word; cutoffs: bot lines begun while the caller was mid-utterance; the rest: "
        "internal stages from the true end of caller speech"
    )
    for col in ["stage", "turns", "p50", "p95"]:
        lat.add_column(col)
    for stage, s in latency_summary([c.report for c in calls]).items():
        lat.add_row(stage, str(s["n"]), str(s["p50"]), str(s["p95"]))
    console.print(lat)


def print_drop_off(parts: Coverage, console: Console) -> None:
    """Per node: the calls that reached it, and those that ended there without it closing
    them (and how they ended)."""
    table = Table(title="Drop-off per node (calls that ended at a node that does not close)")
    for col in ["node", "reached", "ended here", "drop-off", "how"]:
        table.add_column(col)
    for d in parts.drop_off:
        how = ", ".join(f"{k} {v}" for k, v in sorted(d.how.items())) or "-"
        table.add_row(d.node, str(d.reached), str(d.ended_here), f"{d.rate:.0%}", how)
    console.print(table)


def main(
    out: Path,
    concurrency: int = 4,
    personas: list[str] | None = None,
    realtime: bool = False,
    script: Path | None = None,
    strict: bool = False,
    config: VoicebotConfig | None = None,
) -> int:
    """Exit 0 when the calls ran; with `strict` (the trial), 1 unless every persona reached the
    outcome it expects."""
    console = Console(width=None if Console().is_terminal else 110)
    chosen = choose(personas)
    script = script or PROMPTS / "survey_en.yaml"
    run = run_trial if strict else run_campaign
    calls = run(script, chosen, out, concurrency, realtime, console, config or VoicebotConfig())
    write_reports(calls, out)
    print_tables(calls, console)
    script_obj = load_script(script)
    missing = unvisited(script_obj, [tuple(c.report.path) for c in calls])
    covered = len(script_obj.nodes) - len(missing)
    console.print(
        f"node coverage: {covered}/{len(script_obj.nodes)}"
        + (f"; never visited: {', '.join(missing)}" if missing else "")
    )
    parts = coverage(script_obj, [c.report for c in calls])
    console.print(parts.handlers.line("global handler coverage"))
    console.print(parts.reprompts.line("reprompt coverage"))
    print_drop_off(parts, console)
    rate, answered = abandonment_rate([c.report.abandoned() for c in calls])
    console.print(abandonment_line(rate, answered))
    summary = {
        "script": str(script),
        "calls": len(calls),
        "as_expected": sum(c.passed for c in calls),
        "latency_ms": latency_summary([c.report for c in calls]),
        "abandonment_rate": rate,
        "clock": "real" if realtime else "virtual",
        "nodes_not_visited": missing,
        "coverage": parts.as_dict(),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(
        f"{summary['as_expected']}/{len(calls)} calls reached the expected outcome; "
        f"reports in {out}/reports, stereo recordings in {out}/recordings"
    )
    return 1 if strict and summary["as_expected"] != len(calls) else 0
