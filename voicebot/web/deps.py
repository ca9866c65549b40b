"""Request dependencies: the console's parts, and who is asking (bearer token or session
cookie; CSRF token required on a cookie session's state changes), with role checks."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.templating import Jinja2Templates

from voicebot.campaign.store import Store
from voicebot.web.auth import LoginLimiter, Principal, from_session, from_token
from voicebot.web.metrics import ConsoleMetrics
from voicebot.web.runner import CampaignRunner, LiveBus

COOKIE = "vb_session"
SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass
class Console:
    """What every request may use; `out` holds reports, recordings and uploads."""

    store: Store
    out: Path
    scripts: Path
    runner: CampaignRunner
    bus: LiveBus
    metrics: ConsoleMetrics
    limiter: LoginLimiter
    templates: Jinja2Templates
    secure_cookies: bool = False


def console(request: Request) -> Console:
    parts: Console = request.app.state.console
    return parts


def who(request: Request) -> Principal | None:
    """The caller, or None when not logged in. A bad bearer token is None, never a fallback
    to the cookie. Raises 403 for a cookie session's state change without its CSRF token."""
    c = console(request)
    header = request.headers.get("authorization")
    if header:
        scheme, _, token = header.partition(" ")
        return from_token(c.store, token.strip()) if scheme.lower() == "bearer" else None
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    principal = from_session(c.store, session_id)
    if principal is not None and request.method not in SAFE:
        sent = request.headers.get("x-csrf-token", "")
        if not hmac.compare_digest(sent, principal.csrf or ""):
            raise HTTPException(403, "CSRF token missing or wrong (header X-CSRF-Token)")
    return principal


def principal(request: Request) -> Principal:
    found = who(request)
    if found is None:
        raise HTTPException(
            401,
            "login required: `Authorization: Bearer <token>` or a session",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return found


def require(role: str) -> Callable[[Principal], Principal]:
    def check(p: Annotated[Principal, Depends(principal)]) -> Principal:
        if not p.can(role):
            raise HTTPException(403, f"this needs the {role} role (you are {p.role})")
        return p

    return check


Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
ConsoleDep = Annotated[Console, Depends(console)]
