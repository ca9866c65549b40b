"""`/metrics` in Prometheus format: calls started (dial rate) and ended by outcome, calls in
progress, per-stage latency from the call reports, ASR / TTS / SIP errors; contacts by state
and attempts by outcome are read from the store at scrape time (they survive restarts)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from voicebot.campaign.dialer import CallResult
from voicebot.campaign.models import Attempt, Campaign, Contact
from voicebot.campaign.store import Store
from voicebot.web.views import read_report, stage_ms

STAGES = ("endpoint", "asr", "intent", "policy", "tts_first_audio", "end_to_end")
SIP_FAILURES = {"busy", "declined", "no_answer", "incompatible", "failed", "rtp_timeout"}
BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.5, 2.0, 3.0, 5.0)


class ConsoleMetrics:
    """The server's own registry (not the process-global one: several apps in one test run)."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.started = Counter("voicebot_calls_started", "calls placed", ["campaign"], registry=r)
        self.ended = Counter(
            "voicebot_calls_ended", "calls ended by outcome", ["campaign", "outcome"], registry=r
        )
        self.in_progress = Gauge(
            "voicebot_calls_in_progress", "calls in progress", ["campaign"], registry=r
        )
        self.latency = Histogram(
            "voicebot_stage_latency_seconds",
            "per caller turn, from the true end of speech",
            ["stage"],
            buckets=BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "voicebot_errors", "errors by kind (asr, tts, sip, call)", ["kind"], registry=r
        )
        r.register(_StoreCollector(store))

    def call_started(self, campaign: str) -> None:
        self.started.labels(campaign).inc()
        self.in_progress.labels(campaign).inc()

    def call_ended(self, campaign: str, result: CallResult) -> None:
        self.in_progress.labels(campaign).dec()
        self.ended.labels(campaign, result.outcome).inc()
        if result.outcome in SIP_FAILURES:
            self.errors.labels("sip").inc()
        report = read_report(result.report_path)
        if report is None:
            if "end_to_end_p50" in result.latency_ms:
                self.latency.labels("end_to_end").observe(result.latency_ms["end_to_end_p50"] / 1e3)
            return
        for turn in report.get("turns", []):
            for stage, ms in stage_ms(turn.get("latency", {})).items():
                self.latency.labels(stage).observe(ms / 1000)
        if error := report.get("error"):
            lowered = str(error).lower()
            kind = next((k for k in ("asr", "tts") if k in lowered), "call")
            self.errors.labels(kind).inc()


class _StoreCollector(Collector):
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        contacts = GaugeMetricFamily(
            "voicebot_contacts", "contacts by state", labels=["campaign", "state"]
        )
        attempts = GaugeMetricFamily(
            "voicebot_attempts",
            "attempts by state and outcome",
            labels=["campaign", "state", "outcome"],
        )
        with self.store.session() as s:
            for name, state, n in s.execute(
                select(Campaign.name, Contact.state, func.count())
                .join(Contact, Contact.campaign_id == Campaign.id)
                .group_by(Campaign.name, Contact.state)
            ):
                contacts.add_metric([name, state], n)
            for name, state, outcome, n in s.execute(
                select(Campaign.name, Attempt.state, Attempt.outcome, func.count())
                .join(Attempt, Attempt.campaign_id == Campaign.id)
                .group_by(Campaign.name, Attempt.state, Attempt.outcome)
            ):
                attempts.add_metric([name, state, outcome or ""], n)
        yield contacts
        yield attempts
