"""What the console shows, computed from the store and the call reports: the wallboard
numbers of a campaign, the calls list, one call's report, the script's flow with visit
counts. Personal data is shown in full only to roles that may see it (`pii=True`)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, func, select

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.erase import personal_values
from voicebot.campaign.models import Attempt, Campaign, Contact
from voicebot.campaign.store import CampaignError, Store
from voicebot.core.outcomes import ANSWERED, Outcome
from voicebot.metrics.stats import summarize
from voicebot.web.auth import mask_phone

MACHINE = {Outcome.VOICEMAIL}
DROPPED = {Outcome.RTP_TIMEOUT, Outcome.INTERRUPTED}  # the line was lost mid-call
SIP_CODES = {
    "busy": "486/600",
    "declined": "603",
    "no_answer": "408/480/487",
    "incompatible": "488/606",
    "failed": "5xx/other",
    "rtp_timeout": "RTP",
}
DROP_CAP = 0.03
FLOW_WINDOW = 2000  # the flow graph counts the paths of the last this many reported calls
LATENCY_WINDOW = 500  # the wallboard's bot latency: over the last this many calls


def campaigns(store: Store) -> list[dict[str, Any]]:
    with store.session() as s:
        counts = dict(
            s.execute(select(Contact.campaign_id, func.count()).group_by(Contact.campaign_id)).all()
        )
        return [
            {
                "name": c.name,
                "script": c.script,
                "state": c.state,
                "contacts": counts.get(c.id, 0),
                "created_at": c.created_at.isoformat(),
            }
            for c in s.scalars(select(Campaign).order_by(Campaign.id))
        ]


def wallboard(
    store: Store,
    name: str,
    pii: bool,
    last_event_at: float | None = None,
    recent: int = 12,
    live_calls: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """The live numbers of one campaign (from the store: true across processes). `live_calls`:
    (ringing, answered) of the calls this server placed, when it placed the campaign's calls."""
    with store.session() as s:
        c = store.campaign(s, name)
        config = CampaignConfig.model_validate(c.config)
        states = dict(
            s.execute(
                select(Contact.state, func.count())
                .where(Contact.campaign_id == c.id)
                .group_by(Contact.state)
            ).all()
        )
        groups = s.execute(
            select(
                Attempt.state,
                Attempt.outcome,
                func.count(),
                func.sum(case((Attempt.transferred, 1), else_=0)),
                func.sum(case((Attempt.dnc, 1), else_=0)),
            )
            .where(Attempt.campaign_id == c.id)
            .group_by(Attempt.state, Attempt.outcome)
        ).all()
        latencies = s.scalars(
            select(Attempt.latency_ms)
            .where(Attempt.campaign_id == c.id, Attempt.state == "ended")
            .order_by(Attempt.id.desc())
            .limit(LATENCY_WINDOW)
        ).all()
        last = s.execute(
            select(Attempt, Contact.phone)
            .join(Contact, Attempt.contact_id == Contact.id)
            .where(Attempt.campaign_id == c.id)
            .order_by(Attempt.id.desc())
            .limit(recent)
        ).all()
        state = c.state
    ended_groups = [g for g in groups if g[0] == "ended"]
    outcomes = Counter({str(g[1]): int(g[2]) for g in ended_groups})
    ended = sum(outcomes.values())
    human = sum(n for o, n in outcomes.items() if o in ANSWERED)
    machine = sum(n for o, n in outcomes.items() if o in MACHINE)
    dropped = sum(n for o, n in outcomes.items() if o in DROPPED)
    e2e = [float(x["end_to_end_p50"]) for x in latencies if "end_to_end_p50" in (x or {})]
    lat = summarize(e2e)
    return {
        "campaign": name,
        "state": state,
        "cap": config.concurrency,
        "in_progress": sum(int(g[2]) for g in groups if g[0] == "dialing"),
        "ringing": None if live_calls is None else max(0, live_calls[0]),
        "talking": None if live_calls is None else max(0, live_calls[1]),
        "ended": ended,
        "contacts": states,
        "outcomes": dict(outcomes.most_common()),
        "answered": human + machine,
        "answer_rate": round((human + machine) / ended, 3) if ended else 0.0,
        "human": human,
        "machine": machine,
        "drop_rate": round(dropped / (human + dropped), 4) if human + dropped else 0.0,
        "drop_cap": DROP_CAP,
        "transfers": sum(int(g[3] or 0) for g in ended_groups),
        "opt_outs": sum(int(g[4] or 0) for g in ended_groups),
        "latency_ms": {"p50": round(lat.p50), "p95": round(lat.p95), "n": lat.n},
        "sip_failures": {f"{o} ({SIP_CODES[o]})": n for o, n in outcomes.items() if o in SIP_CODES},
        "recent": [call_row(a, phone, pii) for a, phone in last],
        "last_event_at": last_event_at,
    }


def call_row(a: Attempt, phone: str, pii: bool) -> dict[str, Any]:
    return {
        "id": a.id,
        "contact": a.contact_id,
        "phone": phone if pii else mask_phone(phone),
        "state": a.state,
        "outcome": a.outcome,
        "started_at": a.started_at.isoformat(),
        "duration_s": a.duration_s,
        "lead_grade": a.lead_grade,
        "dnc": a.dnc,
        "transferred": a.transferred,
        "recording": bool(a.recording_path),
        "report": bool(a.report_path),
    }


def calls(
    store: Store,
    pii: bool,
    campaign: str | None = None,
    outcome: str | None = None,
    limit: int = 100,
    offset: int = 0,
    day: date | None = None,
    contact: int | None = None,
) -> list[dict[str, Any]]:
    """Newest first; filters: campaign, outcome, day the call started (UTC), contact id."""
    with store.session() as s:
        query = select(Attempt, Contact.phone).join(Contact, Attempt.contact_id == Contact.id)
        if campaign is not None:
            query = query.where(Attempt.campaign_id == store.campaign(s, campaign).id)
        if outcome is not None:
            query = query.where(Attempt.outcome == outcome)
        if day is not None:
            start = datetime.combine(day, time())
            query = query.where(
                Attempt.started_at >= start, Attempt.started_at < start + timedelta(days=1)
            )
        if contact is not None:
            query = query.where(Attempt.contact_id == contact)
        rows = s.execute(query.order_by(Attempt.id.desc()).limit(limit).offset(offset)).all()
        return [call_row(a, phone, pii) for a, phone in rows]


def attempt(store: Store, attempt_id: int) -> tuple[Attempt, Contact, str]:
    with store.session() as s:
        a = s.get(Attempt, attempt_id)
        contact = s.get(Contact, a.contact_id) if a else None
        if a is None or contact is None:
            raise CampaignError(f"no call {attempt_id}")
        campaign = s.get(Campaign, a.campaign_id)
        return a, contact, campaign.name if campaign else ""


def call_detail(store: Store, attempt_id: int, pii: bool) -> dict[str, Any]:
    """One call: its attempt row and its report; transcripts and answers need `pii`."""
    a, contact, campaign = attempt(store, attempt_id)
    report = read_report(a.report_path)
    if report is not None and not pii:
        hide = personal_values(contact) + [str(v) for v in report.get("contact", {}).values()]
        hide = [v for v in hide if len(v) >= 3]
        report["contact"], report["records"] = {}, {}
        for turn in report.get("turns", []):
            turn["text"] = "(hidden: operators only)"
        for line in report.get("bot_lines", []):
            if any(v in line.get("text", "") for v in hide):
                line["text"] = "(hidden: it names the contact)"
        if isinstance(report.get("transfer"), dict):
            report["transfer"]["summary"] = "(hidden)"
    turns = []
    for turn in (report or {}).get("turns", []):
        turns.append({**turn, "stage_ms": stage_ms(turn.get("latency", {}))})
    return {
        **call_row(a, contact.phone, pii),
        "campaign": campaign,
        "name": contact.name if pii else "",
        "answers": a.answers if pii else {},
        "latency_ms": a.latency_ms,
        "report": report,
        "turns": turns,
    }


def stage_ms(lat: dict[str, Any]) -> dict[str, float]:
    from voicebot.metrics.report import TurnLatency

    try:
        return TurnLatency.model_validate(lat).stage_ms()
    except ValueError:
        return {}


def read_report(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def flow(store: Store, name: str) -> dict[str, Any]:
    """Per script node: calls that visited it and calls that ended there (drop-off), from the
    paths in the call reports; the closings say how each call ended."""
    with store.session() as s:
        c = store.campaign(s, name)
        paths = list(
            s.scalars(
                select(Attempt.report_path)
                .where(Attempt.campaign_id == c.id, Attempt.report_path.is_not(None))
                .order_by(Attempt.id.desc())
                .limit(FLOW_WINDOW)
            )
        )
        script = c.script
    visits: Counter[str] = Counter()
    ended_at: Counter[str] = Counter()
    calls_n = 0
    for path in paths:
        report = read_report(path)
        if not report or not report.get("path"):
            continue
        calls_n += 1
        visits.update(set(report["path"]))
        ended_at[report["path"][-1]] += 1
    return {"script": script, "calls": calls_n, "visits": dict(visits), "ended_at": dict(ended_at)}


def report_for(data: dict[str, Any], pii: bool) -> dict[str, Any]:
    """The daily report summary as a role may see it: free-text answers (which can quote the
    caller) only for operators; viewers keep the numeric questions."""
    if pii:
        return data
    numeric = {
        q: counts for q, counts in data["questions"].items() if all(_is_number(v) for v in counts)
    }
    return {**data, "questions": numeric}


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True
