"""Campaign results: per-attempt export (CSV / JSON) and the daily report (markdown + HTML with
charts: outcome funnel, answer rate by hour, answers per question, hand-offs, latency, money)."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from sqlalchemy import select

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.contacts import csv_text
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.store import Store
from voicebot.core.outcomes import ANSWERED
from voicebot.metrics.report import ABANDON_CAP, ABANDON_S, abandonment_rate
from voicebot.metrics.stats import summarize
from voicebot.policy.schema import CONSENT_FIELD

FREE_TEXT = ("followup.", "feedback.")  # answers in the caller's own words


def campaign_zone(store: Store, campaign: str) -> ZoneInfo:
    """The campaign's own zone (its window's default zone): the zone its days are counted in."""
    with store.session() as s:
        config = CampaignConfig.model_validate(store.campaign(s, campaign).config)
    return ZoneInfo(config.window.default_timezone)


def attempts(store: Store, campaign: str, day: date | None = None) -> list[dict[str, Any]]:
    """One row per attempt (PII: phone, name, answers), oldest first. `day`: a day in the
    campaign's zone."""
    zone, utc = campaign_zone(store, campaign), ZoneInfo("UTC")
    with store.session() as s:
        c = store.campaign(s, campaign)
        query = (
            select(Attempt, Contact)
            .join(Contact, Attempt.contact_id == Contact.id)
            .where(Attempt.campaign_id == c.id)
            .order_by(Attempt.id)
        )
        rows = []
        for a, contact in s.execute(query):
            if day is not None and a.started_at.replace(tzinfo=utc).astimezone(zone).date() != day:
                continue
            local = a.started_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(
                ZoneInfo(contact.timezone)
            )
            rows.append(
                {
                    "attempt": a.id,
                    "contact": contact.id,
                    "phone": contact.phone,
                    "name": contact.name,
                    "segment": contact.segment,
                    "number": a.number,
                    "started_at": a.started_at.isoformat(timespec="seconds"),
                    "local_hour": local.hour,
                    "outcome": a.outcome or "dialing",
                    "duration_s": a.duration_s,
                    "answers": a.answers,
                    "lead_grade": a.lead_grade,
                    "dnc": a.dnc,
                    "consent": a.answers.get(CONSENT_FIELD),  # this call's answer, if asked
                    "transferred": a.transferred,
                    "callback_at": a.callback_at.isoformat() if a.callback_at else None,
                    "latency_ms": a.latency_ms,
                    "followups": followups(a.answers),
                    "report": a.report_path,
                    "recording": a.recording_path,
                }
            )
        return rows


def export(store: Store, campaign: str, fmt: str, out: Path) -> Path:
    rows = attempts(store, campaign)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    else:
        flat = [
            {
                **r,
                "answers": json.dumps(r["answers"], ensure_ascii=False),
                "followups": json.dumps(r["followups"], ensure_ascii=False),
                "latency_ms": json.dumps(r["latency_ms"]),
            }
            for r in rows
        ]
        out.write_text(csv_text(flat), encoding="utf-8")
    return out


def summary(store: Store, campaign: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    with store.session() as s:
        c = store.campaign(s, campaign)
        config = CampaignConfig.model_validate(c.config)
        states = Counter(s.scalars(select(Contact.state).where(Contact.campaign_id == c.id)))
    outcomes = Counter(r["outcome"] for r in rows)
    answered = [r for r in rows if r["outcome"] in ANSWERED]
    by_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        by_hour[r["local_hour"]][0] += 1
        by_hour[r["local_hour"]][1] += r["outcome"] in ANSWERED
    questions: dict[str, Counter[str]] = defaultdict(Counter)
    for r in rows:
        for key, value in r["answers"].items():
            if not key.startswith(FREE_TEXT):  # the caller's own words are no chart
                questions[key][str(value)] += 1
    abandonment, judged = abandonment_rate(
        [r["latency_ms"].get("abandoned") for r in rows if r["outcome"] in ANSWERED]
    )
    minutes = sum(r["duration_s"] for r in rows) / 60
    conversions = sum(_converted(r, config.conversion) for r in rows)
    e2e = [r["latency_ms"]["end_to_end_p50"] for r in rows if "end_to_end_p50" in r["latency_ms"]]
    return {
        "campaign": campaign,
        "contacts": dict(states),
        "attempts": len(rows),
        "outcomes": dict(outcomes.most_common()),
        "answered": len(answered),
        "answer_rate": round(len(answered) / len(rows), 3) if rows else 0.0,
        "by_hour": {h: {"attempts": n, "answered": a} for h, (n, a) in sorted(by_hour.items())},
        "questions": {k: dict(sorted(v.items())) for k, v in sorted(questions.items())},
        "handoffs": sum(r["transferred"] for r in rows),
        "abandonment_rate": abandonment,
        "abandonment_judged": judged,
        "abandonment_warning": abandonment > ABANDON_CAP,
        "followups": dict(Counter(k for r in rows for k in followups(r["answers"]))),
        "callbacks": sum(r["outcome"] == "callback" for r in rows),
        "dnc": sum(r["dnc"] for r in rows),
        "consent": {
            "given": sum(r["consent"] is True for r in rows),
            "refused": sum(r["consent"] is False for r in rows),
        },
        "grades": dict(Counter(r["lead_grade"] for r in rows if r["lead_grade"])),
        "latency_ms": summarize(e2e).model_dump(),
        "minutes": round(minutes, 1),
        "cost": round(minutes * config.cost_per_minute, 2),
        "conversions": conversions,
        "value": round(conversions * config.value_per_conversion, 2),
    }


def followups(answers: dict[str, Any]) -> dict[str, Any]:
    """The follow-up tasks a call left (PII: a complaint or question in the caller's words)."""
    return {k: v for k, v in answers.items() if k.startswith("followup.")}


def _converted(row: dict[str, Any], rules: list[str]) -> bool:
    for rule in rules:
        kind, _, value = rule.partition(":")
        if (kind == "grade" and row["lead_grade"] == value) or row["outcome"] == rule:
            return True
    return False


def daily_report(store: Store, campaign: str, out: Path, day: date | None = None) -> Path:
    """Writes out/report.md, out/report.html and out/*.png; returns the HTML path."""
    rows = attempts(store, campaign, day)
    data = summary(store, campaign, rows)
    out.mkdir(parents=True, exist_ok=True)
    charts = _charts(data, out)
    title = f"Campaign {campaign}: {'all days' if day is None else day.isoformat()}"
    md = _markdown(title, data, charts)
    (out / "report.md").write_text(md, encoding="utf-8")
    (out / "summary.json").write_text(json.dumps(data, indent=1, ensure_ascii=False))
    body = "".join(
        f"<p>{html.escape(line)}</p>"
        for line in md.splitlines()
        if line and not line.startswith(("#", "!", "|"))
    )
    images = "".join(
        f'<figure><img src="{c}" alt="{c}"><figcaption>{c}</figcaption></figure>' for c in charts
    )
    recorded = [(r["attempt"], r["recording"]) for r in rows if r["recording"]]
    if recorded:
        links = "".join(
            f'<li><a href="{html.escape(Path(p).resolve().as_uri())}">attempt {a}</a></li>'
            for a, p in recorded
        )
        images += f"<h2>Recordings ({len(recorded)})</h2><ul>{links}</ul>"
        md += "\n## Recordings\n\n" + "".join(f"- attempt {a}: {p}\n" for a, p in recorded)
        (out / "report.md").write_text(md, encoding="utf-8")
    table = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in data["outcomes"].items()
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1>{body}"
        f"<table><tr><th>outcome</th><th>attempts</th></tr>{table}</table>{images}"
        "</body></html>"
    )
    (out / "report.html").write_text(page, encoding="utf-8")
    return out / "report.html"


def _markdown(title: str, d: dict[str, Any], charts: list[str]) -> str:
    lat = d["latency_ms"]
    lines = [
        f"# {title}",
        "",
        f"{d['attempts']} attempts, {d['answered']} answered ({d['answer_rate']:.0%}); "
        f"{d['handoffs']} handed to agents, {d['callbacks']} callbacks booked, "
        f"{d['dnc']} asked not to be called.",
        f"Talk time {d['minutes']} min, cost {d['cost']:.2f}; {d['conversions']} conversions "
        f"worth {d['value']:.2f}.",
        f"Reply latency (end of speech to bot audio) p50 {lat['p50']:.0f} ms, "
        f"p95 {lat['p95']:.0f} ms over {lat['n']} calls.",
        f"Abandonment rate {d['abandonment_rate']:.1%} of {d['abandonment_judged']} answered "
        f"calls (first bot audio over {ABANDON_S:g} s after the hello, or none)"
        + (f"; WARNING: over the {ABANDON_CAP:.0%} cap." if d["abandonment_warning"] else "."),
        f"Consent to future contact: {d['consent']['given']} yes, "
        f"{d['consent']['refused']} no (a no is not called again by campaigns of this purpose).",
        f"Follow-up tasks: {sum(d['followups'].values())}"
        + "".join(f", {k.removeprefix('followup.')} {n}" for k, n in d["followups"].items())
        + " (the caller's words are in the export).",
        "",
        "| outcome | attempts |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in d["outcomes"].items()],
        "",
        "| contact state | contacts |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in d["contacts"].items()],
        "",
        *[f"![{c}]({c})" for c in charts],
    ]
    return "\n".join(lines) + "\n"


def _charts(d: dict[str, Any], out: Path) -> list[str]:
    names = []
    stages = [
        ("attempts", d["attempts"]),
        ("answered", d["answered"]),
        ("completed", d["outcomes"].get("completed", 0)),
        ("converted", d["conversions"]),
    ]
    names.append(
        _bar(
            out / "funnel.png",
            "Outcome funnel",
            [s for s, _ in stages],
            [v for _, v in stages],
            "#3b7dd8",
        )
    )
    hours = d["by_hour"]
    rates = [v["answered"] / v["attempts"] if v["attempts"] else 0 for v in hours.values()]
    names.append(
        _bar(
            out / "answer_rate_by_hour.png",
            "Answer rate by local hour",
            [f"{h:02d}" for h in hours],
            rates,
            "#2a9d8f",
        )
    )
    for question, counts in d["questions"].items():
        names.append(
            _bar(
                out / f"answers_{question.replace('.', '_')}.png",
                f"Answers: {question}",
                list(counts),
                list(counts.values()),
                "#e9a23b",
            )
        )
    lat = d["latency_ms"]
    names.append(
        _bar(
            out / "latency.png",
            "Reply latency (ms)",
            ["p50", "p95", "p99"],
            [lat["p50"], lat["p95"], lat["p99"]],
            "#8d5fd3",
        )
    )
    names.append(
        _bar(
            out / "money.png",
            "Cost and return",
            ["cost", "value"],
            [d["cost"], d["value"]],
            "#d1495b",
        )
    )
    names.append(
        _bar(
            out / "handoffs.png",
            "Hand-offs and callbacks",
            ["transferred", "callback", "dnc"],
            [d["handoffs"], d["callbacks"], d["dnc"]],
            "#577590",
        )
    )
    return names


def _bar(path: Path, title: str, labels: list[str], values: list[float], color: str) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.2), dpi=100)
    ax.bar(labels, values, color=color)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path.name


def purge(store: Store, campaign: str, days: int | None = None, now: datetime | None = None) -> int:
    """Delete recordings and call reports (transcripts) of attempts older than `days` (default:
    the campaign's `retention_days`; nothing when neither is set); the attempts keep their
    outcome and answers, their links are cleared. Returns how many files were deleted."""
    with store.session() as s:
        c = store.campaign(s, campaign)
        days = days or CampaignConfig.model_validate(c.config).retention_days
        if days is None:
            return 0
        cutoff = (now or datetime.now(UTC).replace(tzinfo=None)) - timedelta(days=days)
        gone = 0
        for a in s.scalars(
            select(Attempt).where(Attempt.campaign_id == c.id, Attempt.started_at < cutoff)
        ):
            for path in (a.recording_path, a.report_path):
                if path and Path(path).exists():
                    Path(path).unlink()
                    gone += 1
            a.recording_path = a.report_path = None
        return gone
