"""The campaign store: SQLite (WAL) by default, PostgreSQL by URL; the schema comes from the
alembic migrations in campaign/migrations, applied on open."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.models import Campaign, ConsentEntry, DncEntry
from voicebot.core.errors import VoicebotError

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///out/voicebot.db"


class CampaignError(VoicebotError):
    """A campaign, contact list or store problem; names the campaign, file, row or field."""


def dnc_hash(phone: str) -> str:
    """What an erased contact leaves on the do-not-call list: still suppresses the number,
    no longer shows it (20 characters, the width of the phone column)."""
    return "h:" + hashlib.sha256(phone.encode()).hexdigest()[:18]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Store:
    """`Store(url)`; `with store.session() as s:` is one transaction (committed on success)."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        busy_timeout_ms: int = 5000,
        creator: Callable[[], Any] | None = None,
    ) -> None:
        """`busy_timeout_ms`: how long a SQLite write waits for a lock another connection holds
        before it fails (the dialer then retries, and journals). `creator`: makes the DB-API
        connections (tests put a faulty disk under the store with it)."""
        self.url = url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        extra = {"creator": creator} if creator is not None else {}
        self.engine: Engine = create_engine(url, future=True, **extra)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", partial(_sqlite_pragmas, busy_timeout_ms))
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.migrate()

    def migrate(self) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def create(self, name: str, script: str, config: CampaignConfig) -> Campaign:
        with self.session() as s:
            if s.scalar(select(Campaign).where(Campaign.name == name)) is not None:
                raise CampaignError(f"campaign {name!r} already exists")
            campaign = Campaign(
                name=name,
                script=script,
                config=config.model_dump(mode="json"),
                state="ready",
                created_at=utcnow(),
            )
            s.add(campaign)
        return campaign

    def campaign(self, s: Session, name: str) -> Campaign:
        campaign = s.scalar(select(Campaign).where(Campaign.name == name))
        if campaign is None:
            known = ", ".join(s.scalars(select(Campaign.name))) or "none yet"
            raise CampaignError(f"no campaign {name!r} (campaigns: {known})")
        return campaign

    def set_state(self, name: str, state: str) -> None:
        with self.session() as s:
            self.campaign(s, name).state = state

    def add_dnc(self, s: Session, phone: str, campaign_id: int | None, reason: str) -> None:
        same_list = (
            DncEntry.campaign_id.is_(None)
            if campaign_id is None
            else DncEntry.campaign_id == campaign_id
        )
        exists = s.scalar(select(DncEntry).where(DncEntry.phone == phone, same_list))
        if exists is None:
            s.add(DncEntry(phone=phone, campaign_id=campaign_id, reason=reason, added_at=utcnow()))

    def on_dnc(self, s: Session, phone: str, campaign_id: int) -> bool:
        query = select(DncEntry.id).where(
            DncEntry.phone.in_([phone, dnc_hash(phone)]),
            (DncEntry.campaign_id.is_(None)) | (DncEntry.campaign_id == campaign_id),
        )
        return s.scalar(query.limit(1)) is not None

    def set_consent(
        self, s: Session, phone: str, purpose: str, granted: bool, campaign_id: int | None
    ) -> None:
        """The callee's latest answer to the consent question, for this purpose."""
        entry = s.scalar(
            select(ConsentEntry).where(ConsentEntry.phone == phone, ConsentEntry.purpose == purpose)
        )
        if entry is None:
            s.add(
                ConsentEntry(
                    phone=phone,
                    purpose=purpose,
                    granted=granted,
                    campaign_id=campaign_id,
                    at=utcnow(),
                )
            )
        else:
            entry.granted, entry.campaign_id, entry.at = granted, campaign_id, utcnow()

    def refused_consent(self, s: Session, phone: str, purpose: str) -> bool:
        """Whether the number said no to future contact for calls of this purpose (in clear, or
        as the hash an erased contact left)."""
        query = select(ConsentEntry.id).where(
            ConsentEntry.phone.in_([phone, dnc_hash(phone)]),
            ConsentEntry.purpose == purpose,
            ConsentEntry.granted.is_(False),
        )
        return s.scalar(query.limit(1)) is not None

    def dnc_numbers(self, s: Session, campaign_id: int) -> set[str]:
        """Numbers on the lists in clear, and the hashes erased contacts left (`dnc_hash`)."""
        query = select(DncEntry.phone).where(
            (DncEntry.campaign_id.is_(None)) | (DncEntry.campaign_id == campaign_id)
        )
        return set(s.scalars(query))


def _sqlite_pragmas(busy_timeout_ms: int, connection: Any, _record: Any) -> None:
    """WAL, and FULL sync: a committed claim or result survives a power loss (NORMAL may drop
    the last transactions in WAL mode)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.close()
