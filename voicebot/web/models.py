"""The console's tables in the campaign store: users, API tokens, browser sessions and the
audit log. Secrets are stored hashed (passwords with scrypt, tokens and session ids with
sha256); the audit log names who did what to which object, never a phone number or a name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from voicebot.campaign.models import Base

ROLES = ("viewer", "operator", "admin")  # each role can do everything the ones before it can


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(300), default=None)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked: Mapped[bool] = mapped_column(default=False)


class WebSession(Base):
    """A browser login: the cookie holds the id, the store holds its sha256 and a CSRF token."""

    __tablename__ = "web_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))  # user name, or "cli"
    action: Mapped[str] = mapped_column(String(60))  # e.g. campaign.start, contact.erase
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. campaign spring
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)  # no personal data
