"""The campaign store's tables (SQLAlchemy 2.0). Times are UTC. Phone numbers and names are
personal data: they live here and in call reports, never in log text."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map: ClassVar = {dict[str, Any]: JSON}


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    script: Mapped[str] = mapped_column(String(500))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(
        String(20), default="ready"
    )  # ready|running|paused|stopped|done
    created_at: Mapped[datetime]
    # campaign-wide pacing: the earliest moment the next dial of any worker may start
    next_dial_at: Mapped[datetime | None] = mapped_column(default=None)


class Contact(Base):
    """One person to call in one campaign. `state`: pending (due at next_at), dialing (claimed by
    an attempt), done (final outcome), skipped (pre-dial rule or do-not-call, with reason)."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("campaign_id", "phone"),
        Index("ix_contacts_due", "campaign_id", "state", "next_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    phone: Mapped[str] = mapped_column(String(20))  # E.164
    extension: Mapped[str] = mapped_column(String(20), default="")  # dialled after the answer
    name: Mapped[str] = mapped_column(String(200), default="")
    variables: Mapped[dict[str, Any]] = mapped_column(default=dict)
    source: Mapped[str] = mapped_column(String(100), default="")
    segment: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    preferred_time: Mapped[str | None] = mapped_column(String(5), default=None)  # HH:MM local
    state: Mapped[str] = mapped_column(String(20), default="pending")
    next_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str | None] = mapped_column(String(30), default=None)
    reason: Mapped[str | None] = mapped_column(String(300), default=None)
    import_row: Mapped[int] = mapped_column(default=0)
    priority: Mapped[int] = mapped_column(default=0)  # higher first (warm leads to call back)
    timezone_source: Mapped[str] = mapped_column(String(20), default="")  # column|number|default
    # every zone the number may be in when it spans several (the window must hold in all)
    zone_candidates: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    note: Mapped[str | None] = mapped_column(String(300), default=None)  # e.g. a shifted callback
    # the callee's answer to the script's consent question (None: not asked or not answered)
    consent: Mapped[bool | None] = mapped_column(default=None)


class Attempt(Base):
    """One dial. Written (state dialing) and committed before the call is placed, so a crash can
    never lead to the same dial twice; a restart closes attempts left open as `interrupted`."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_open", "campaign_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contacts.id"), index=True)
    number: Mapped[int]  # 1 for the first dial of this contact
    state: Mapped[str] = mapped_column(String(20), default="dialing")  # dialing|ended
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str | None] = mapped_column(String(30), default=None)
    duration_s: Mapped[float] = mapped_column(default=0.0)
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lead_grade: Mapped[str | None] = mapped_column(String(2), default=None)
    dnc: Mapped[bool] = mapped_column(default=False)
    transferred: Mapped[bool] = mapped_column(default=False)
    callback_at: Mapped[datetime | None] = mapped_column(default=None)
    latency_ms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    report_path: Mapped[str | None] = mapped_column(String(500), default=None)
    recording_path: Mapped[str | None] = mapped_column(String(500), default=None)
    worker_id: Mapped[str | None] = mapped_column(String(64), default=None)


class Worker(Base):
    """A dialer process on a campaign. It holds a lease it renews with each heartbeat; the
    attempts of a worker whose lease expired (or whose process is gone, on the same host) are
    closed as `interrupted` by whichever worker notices first."""

    __tablename__ = "workers"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default="running")  # running|draining|ended
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    lease_until: Mapped[datetime]
    in_progress: Mapped[int] = mapped_column(default=0)
    placed: Mapped[int] = mapped_column(default=0)


class DncEntry(Base):
    """Do not call: campaign_id None is the global list."""

    __tablename__ = "dnc"
    __table_args__ = (UniqueConstraint("phone", "campaign_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), default=None)
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_at: Mapped[datetime]


class ConsentEntry(Base):
    """A callee's answer to "may we contact you again?", per number and campaign purpose
    (`CampaignConfig.purpose`): the latest answer holds. A no stops every later campaign of the
    same purpose from dialling the number; unlike do-not-call, campaigns of other purposes (a
    service reminder after a marketing no) still may."""

    __tablename__ = "consent"
    __table_args__ = (UniqueConstraint("phone", "purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    granted: Mapped[bool]
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), default=None)
    at: Mapped[datetime]
