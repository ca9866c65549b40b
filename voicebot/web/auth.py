"""Who is asking: users with roles, API tokens (sha256 in the store, shown once), browser
sessions (HttpOnly, SameSite=Strict cookie; a CSRF token per session), a failed-login rate
limit, phone masking for viewers, and the audit log."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import phonenumbers
from sqlalchemy import delete, select

from voicebot.campaign.store import CampaignError, Store, utcnow
from voicebot.web.models import ROLES, ApiToken, AuditEntry, User, WebSession

TOKEN_PREFIX = "vb_"
SESSION_TTL = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user of one request; `csrf` is set for cookie sessions only."""

    user_id: int
    name: str
    role: str
    csrf: str | None = None

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt, digest = stored.split("$")
    got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=2**14, r=8, p=1)
    return hmac.compare_digest(got.hex(), digest)


def add_user(store: Store, name: str, role: str, password: str | None = None) -> User:
    if role not in ROLES:
        raise CampaignError(f"role {role!r}: use one of {', '.join(ROLES)}")
    if not name or len(name) > 100:
        raise CampaignError("name: 1 to 100 characters")
    with store.session() as s:
        if s.scalar(select(User).where(User.name == name)) is not None:
            raise CampaignError(f"user {name!r} already exists")
        user = User(
            name=name,
            role=role,
            created_at=utcnow(),
            password_hash=hash_password(password) if password else None,
        )
        s.add(user)
    return user


def create_token(store: Store, user_name: str, label: str = "") -> str:
    """A new API token for `user_name`: returned once, only its sha256 is kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == user_name))
        if user is None:
            raise CampaignError(f"no user {user_name!r} (add one: voicebot users add NAME)")
        s.add(ApiToken(user_id=user.id, token_hash=sha256(token), label=label, created_at=utcnow()))
    return token


def from_token(store: Store, token: str) -> Principal | None:
    with store.session() as s:
        row = s.execute(
            select(ApiToken, User)
            .join(User, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_hash == sha256(token),
                ApiToken.revoked.is_(False),
                User.disabled.is_(False),
            )
        ).first()
        if row is None:
            return None
        row[0].last_used_at = utcnow()
        return Principal(row[1].id, row[1].name, row[1].role)


def login(store: Store, name: str, password: str) -> tuple[str, Principal] | None:
    """A new browser session (the cookie value, the principal) or None for bad credentials."""
    with store.session() as s:
        user = s.scalar(select(User).where(User.name == name, User.disabled.is_(False)))
        if user is None or not check_password(password, user.password_hash):
            return None
        session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        now = utcnow()
        s.execute(delete(WebSession).where(WebSession.expires_at <= now))  # expired ones go
        s.add(
            WebSession(
                id_hash=sha256(session_id),
                user_id=user.id,
                csrf=csrf,
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
        return session_id, Principal(user.id, user.name, user.role, csrf)


def from_session(store: Store, session_id: str) -> Principal | None:
    with store.session() as s:
        row = s.execute(
            select(WebSession, User)
            .join(User, WebSession.user_id == User.id)
            .where(
                WebSession.id_hash == sha256(session_id),
                WebSession.expires_at > utcnow(),
                User.disabled.is_(False),
            )
        ).first()
        return None if row is None else Principal(row[1].id, row[1].name, row[1].role, row[0].csrf)


def logout(store: Store, session_id: str) -> None:
    with store.session() as s:
        session = s.get(WebSession, sha256(session_id))
        if session is not None:
            s.delete(session)


class LoginLimiter:
    """At most `limit` failed logins per user name and per client address in `window_s`."""

    def __init__(self, limit: int = 5, window_s: float = 300.0, max_keys: int = 10_000) -> None:
        self.limit, self.window_s, self.max_keys = limit, window_s, max_keys
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def retry_after(self, *keys: str) -> float:
        """Seconds until another try is allowed (0: now)."""
        now = time.monotonic()
        with self._lock:
            waits = [self._wait(key, now) for key in keys]
        return max(waits, default=0.0)

    def _wait(self, key: str, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and now - times[0] > self.window_s:
            times.popleft()
        return self.window_s - (now - times[0]) if len(times) >= self.limit else 0.0

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            if len(self._failures) >= self.max_keys:  # many addresses: forget the stale ones
                for key in [k for k, t in self._failures.items() if now - t[-1] > self.window_s]:
                    del self._failures[key]
            for key in keys:
                times = self._failures.setdefault(key, deque())
                times.append(now)
                while len(times) > self.limit:  # only the last `limit` failures matter
                    times.popleft()

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


def mask_phone(phone: str) -> str:
    """`+14155550167` -> `+1 415 ***-**67`: country and area code, the last two digits."""
    try:
        shown = phonenumbers.format_number(
            phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
    except phonenumbers.NumberParseException:
        shown = phone
    head, _, tail = shown.partition(" ")
    area, rest = [*tail.replace("-", " ", 1).split(" ", 1), ""][:2] if tail else ("", "")
    if not rest:
        area, rest = "", area
    digits = sum(c.isdigit() for c in rest)
    out, seen = [], 0
    for c in rest:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits - 2 else "*")
        else:
            out.append(c)
    return " ".join(p for p in (head, area, "".join(out)) if p)


def audit(
    store: Store, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None
) -> None:
    """One audit row: who, what, to which object, when. `detail` must not hold personal data."""
    with store.session() as s:
        s.add(
            AuditEntry(at=utcnow(), actor=actor, action=action, target=target, detail=detail or {})
        )
