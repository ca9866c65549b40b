"""The JSON API under /api: campaigns, contacts and do-not-call, calls, reports, users.
Every route needs a login and a role; every state change writes an audit row."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import delete, select

from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.contacts import csv_text, import_contacts, normalise
from voicebot.campaign.erase import erase_contact
from voicebot.campaign.models import Contact, DncEntry
from voicebot.campaign.report import attempts, summary
from voicebot.campaign.store import CampaignError, dnc_hash
from voicebot.web import views
from voicebot.web.auth import add_user, audit, create_token, mask_phone
from voicebot.web.deps import Admin, Console, ConsoleDep, Operator, Viewer
from voicebot.web.models import AuditEntry
from voicebot.web.runner import RunOptions

router = APIRouter(prefix="/api")
UPLOAD_BATCH = 1000  # rows per insert: memory is this many rows, whatever the file's size
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"


class CampaignIn(BaseModel):
    name: str = Field(pattern=NAME)
    script: str | None = Field(None, description="a script file in the server's scripts folder")
    script_yaml: str | None = Field(None, description="admin only: the script itself (YAML)")
    config: dict[str, Any] = Field(default_factory=dict, description="campaign.yaml as JSON")


class StartIn(BaseModel):
    trunk: Literal["simulated", "personas", "sip"] = "simulated"
    speed: float = Field(1.0, gt=0, le=10000, description="simulated trunk: this much faster")
    virtual: bool = Field(False, description="virtual time (trial runs)")
    seed: int = 0


class DncIn(BaseModel):
    phone: str = Field(min_length=3, max_length=40)
    campaign: str | None = Field(None, description="a campaign's list; none: the global list")
    region: str = Field("US", description="for numbers without +country code")
    reason: str = Field("", max_length=200)


class UserIn(BaseModel):
    name: str = Field(pattern=NAME)
    role: Literal["viewer", "operator", "admin"]
    password: str | None = Field(None, min_length=10)


class TokenIn(BaseModel):
    label: str = Field("", max_length=100)


# --- campaigns -------------------------------------------------------------------------------
@router.get("/me")
def me(p: Viewer) -> dict[str, str]:
    return {"name": p.name, "role": p.role}


@router.get("/campaigns")
def list_campaigns(p: Viewer, c: ConsoleDep) -> list[dict[str, Any]]:
    return [{**row, "running": c.runner.running(row["name"])} for row in views.campaigns(c.store)]


@router.post("/campaigns", status_code=201)
def create_campaign(body: CampaignIn, p: Operator, c: ConsoleDep) -> dict[str, Any]:
    return new_campaign(c, p.name, p.can("admin"), body)


def new_campaign(c: Console, actor: str, admin: bool, body: CampaignIn) -> dict[str, Any]:
    script = _script(c, body, admin)
    try:
        config = CampaignConfig.model_validate(body.config)
    except ValidationError as e:
        raise HTTPException(
            422,
            "; ".join(
                f"config.{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()
            ),
        ) from None
    c.store.create(body.name, str(script), config)
    audit(c.store, actor, "campaign.create", f"campaign {body.name}", {"script": script.name})
    return {"name": body.name, "script": str(script), "state": "ready"}


def _script(c: Console, body: CampaignIn, admin: bool) -> Path:
    from voicebot.policy.lint import check_file

    if body.script_yaml is not None:
        if not admin:
            raise HTTPException(403, "script_yaml: uploading a script needs the admin role")
        path = c.out / "scripts" / f"{body.name}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body.script_yaml, encoding="utf-8")
    elif body.script:
        path = (c.scripts / body.script).resolve()
        if path.parent != c.scripts.resolve() or not path.is_file():
            known = ", ".join(sorted(p.name for p in c.scripts.glob("*.yaml")))
            raise HTTPException(422, f"script: no {body.script!r} in the scripts folder ({known})")
    else:
        raise HTTPException(422, "script: give a script file name (or script_yaml, admin)")
    problems = check_file(path)
    if problems:
        if body.script_yaml is not None:
            path.unlink()
        raise HTTPException(422, "script: " + "; ".join(str(x) for x in problems[:5]))
    return path


@router.get("/campaigns/{name}")
def campaign_status(name: str, p: Viewer, c: ConsoleDep) -> dict[str, Any]:
    board = views.wallboard(
        c.store,
        name,
        p.can("operator"),
        c.bus.last_event_at(name),
        live_calls=c.bus.calls(name),
    )
    return {**board, "running": c.runner.running(name)}


@router.post("/campaigns/{name}/contacts")
def upload_contacts(
    name: str,
    p: Operator,
    c: ConsoleDep,
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form()] = "",
    segment: Annotated[str, Form()] = "",
) -> dict[str, Any]:
    return import_upload(c, p.name, name, file, source, segment)


def import_upload(
    c: Console, actor: str, name: str, file: UploadFile, source: str, segment: str
) -> dict[str, Any]:
    """The upload is copied to disk in chunks and imported streaming, in one transaction:
    bad rows are listed by row number, a file unreadable as a whole imports nothing."""
    suffix = ".json" if (file.filename or "").lower().endswith(".json") else ".csv"
    folder = c.out / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(8)}{suffix}"
    try:
        with path.open("wb") as out:
            shutil.copyfileobj(file.file, out, 1 << 20)
        try:
            result = import_contacts(c.store, name, path, source, segment, batch=UPLOAD_BATCH)
        except CampaignError as e:
            if str(e).startswith("no campaign"):
                raise
            raise HTTPException(422, str(e).replace(str(path), file.filename or "upload")) from None
    finally:
        path.unlink(missing_ok=True)
    audit(
        c.store,
        actor,
        "contacts.import",
        f"campaign {name}",
        {"imported": result.imported, "merged": result.merged, "rejected": result.rejected_count},
    )
    return {
        "imported": result.imported,
        "merged": result.merged,
        "skipped": result.skipped,
        "rejected_count": result.rejected_count,
        "rejected": result.rejected,
    }


@router.post("/campaigns/{name}/start")
def start(
    name: str, p: Operator, c: ConsoleDep, body: Annotated[StartIn | None, Body()] = None
) -> dict[str, Any]:
    options = body or StartIn()
    c.runner.start(name, RunOptions(options.trunk, options.speed, options.virtual, options.seed))
    audit(c.store, p.name, "campaign.start", f"campaign {name}", options.model_dump())
    return {"campaign": name, "running": True}


@router.post("/campaigns/{name}/{action}")
def control(
    name: str, action: Literal["pause", "resume", "stop"], p: Operator, c: ConsoleDep
) -> dict[str, Any]:
    control_campaign(c, p.name, name, action)
    return {"campaign": name, "action": action}


def control_campaign(c: Console, actor: str, name: str, action: str) -> None:
    if action == "pause":
        c.runner.pause(name)
    elif action == "resume":
        c.runner.resume(name)
    else:
        c.runner.stop(name)
    audit(c.store, actor, f"campaign.{action}", f"campaign {name}")


@router.get("/campaigns/{name}/live")
async def live(name: str, request: Request, p: Viewer, c: ConsoleDep) -> StreamingResponse:
    """Server-sent events: the wallboard's numbers on every call event (and every 5 s)."""
    views.wallboard(c.store, name, False)  # 404 before the stream starts
    pii = p.can("operator")

    async def events() -> AsyncIterator[str]:
        sent, quiet = -1, 0.0
        while not await request.is_disconnected():
            version = c.bus.version(name)
            if version != sent or quiet >= 5.0:
                board = await asyncio.to_thread(
                    views.wallboard,
                    c.store,
                    name,
                    pii,
                    c.bus.last_event_at(name),
                    live_calls=c.bus.calls(name),
                )
                board["running"], board["version"] = c.runner.running(name), version
                yield f"data: {json.dumps(board)}\n\n"
                sent, quiet = version, 0.0
            await asyncio.sleep(0.1)
            quiet += 0.1

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/campaigns/{name}/flow")
def flow(name: str, p: Viewer, c: ConsoleDep) -> dict[str, Any]:
    return views.flow(c.store, name)


@router.get("/campaigns/{name}/report", response_model=None)
def report(
    name: str,
    p: Viewer,
    c: ConsoleDep,
    request: Request,
    day: date | None = None,
    format: Literal["json", "html"] = "json",
) -> dict[str, Any] | HTMLResponse:
    data = views.report_for(summary(c.store, name, attempts(c.store, name, day)), p.can("operator"))
    if format == "json":
        return data
    return c.templates.TemplateResponse(
        request, "report.html", {"data": data, "day": day, "user": p, "name": name}
    )


@router.get("/campaigns/{name}/export")
def export(
    name: str, p: Operator, c: ConsoleDep, format: Literal["csv", "json"] = "csv"
) -> Response:
    rows = attempts(c.store, name)
    audit(c.store, p.name, "campaign.export", f"campaign {name}", {"rows": len(rows)})
    headers = {"Content-Disposition": f'attachment; filename="{name}_attempts.{format}"'}
    if format == "json":
        return Response(
            json.dumps(rows, ensure_ascii=False), media_type="application/json", headers=headers
        )
    flat = [
        {
            **r,
            "answers": json.dumps(r["answers"], ensure_ascii=False),
            "followups": json.dumps(r["followups"], ensure_ascii=False),
            "latency_ms": json.dumps(r["latency_ms"]),
        }
        for r in rows
    ]
    return Response(csv_text(flat), media_type="text/csv", headers=headers)


# --- contacts and do-not-call ----------------------------------------------------------------
def _contact_json(contact: Contact, pii: bool) -> dict[str, Any]:
    return {
        "id": contact.id,
        "campaign_id": contact.campaign_id,
        "phone": contact.phone if pii else mask_phone(contact.phone),
        "name": contact.name if pii else "",
        "variables": contact.variables if pii else {},
        "segment": contact.segment,
        "state": contact.state,
        "attempts": contact.attempts,
        "outcome": contact.outcome,
        "reason": contact.reason,
    }


@router.get("/contacts/{contact_id}")
def get_contact(contact_id: int, p: Viewer, c: ConsoleDep) -> dict[str, Any]:
    with c.store.session() as s:
        contact = s.get(Contact, contact_id)
        if contact is None:
            raise CampaignError(f"no contact {contact_id}")
        return _contact_json(contact, p.can("operator"))


@router.get("/contacts")
def find_contacts(p: Operator, c: ConsoleDep, phone: str, region: str = "US") -> list[Any]:
    """Search by number (any format)."""
    e164 = _number(phone, region)
    with c.store.session() as s:
        found = s.scalars(select(Contact).where(Contact.phone == e164).limit(100))
        return [_contact_json(x, True) for x in found]


@router.post("/contacts/{contact_id}/erase")
def erase(contact_id: int, p: Admin, c: ConsoleDep) -> dict[str, Any]:
    done = erase_contact(c.store, contact_id)
    audit(c.store, p.name, "contact.erase", f"contact {contact_id}", vars(done))
    return vars(done)


def _number(raw: str, region: str) -> str:
    try:
        return normalise(raw, region)[0]
    except ValueError as e:
        raise HTTPException(422, str(e)) from None


def _list_id(c: Console, campaign: str | None) -> int | None:
    if campaign is None:
        return None
    with c.store.session() as s:
        return c.store.campaign(s, campaign).id


@router.post("/dnc", status_code=201)
def dnc_add(body: DncIn, p: Operator, c: ConsoleDep) -> dict[str, Any]:
    phone, list_id = _number(body.phone, body.region), _list_id(c, body.campaign)
    with c.store.session() as s:
        c.store.add_dnc(s, phone, list_id, body.reason or f"added by {p.name}")
    target = f"dnc {body.campaign or 'global'} {mask_phone(phone)}"
    audit(c.store, p.name, "dnc.add", target)
    return {"phone": mask_phone(phone), "list": body.campaign or "global"}


@router.delete("/dnc")
def dnc_remove(body: DncIn, p: Operator, c: ConsoleDep) -> dict[str, Any]:
    phone, list_id = _number(body.phone, body.region), _list_id(c, body.campaign)
    same = DncEntry.campaign_id.is_(None) if list_id is None else DncEntry.campaign_id == list_id
    with c.store.session() as s:
        removed = s.execute(
            delete(DncEntry).where(DncEntry.phone.in_([phone, dnc_hash(phone)]), same)
        ).rowcount  # type: ignore[attr-defined]
    audit(c.store, p.name, "dnc.remove", f"dnc {body.campaign or 'global'} {mask_phone(phone)}")
    return {"removed": removed}


# --- calls -----------------------------------------------------------------------------------
@router.get("/calls")
def list_calls(
    p: Viewer,
    c: ConsoleDep,
    campaign: str | None = None,
    outcome: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
    day: date | None = None,
    contact: int | None = None,
) -> list[dict[str, Any]]:
    return views.calls(c.store, p.can("operator"), campaign, outcome, limit, offset, day, contact)


@router.get("/calls/{attempt_id}")
def get_call(attempt_id: int, p: Viewer, c: ConsoleDep) -> dict[str, Any]:
    return views.call_detail(c.store, attempt_id, p.can("operator"))


@router.get("/calls/{attempt_id}/recording")
def recording(attempt_id: int, p: Operator, c: ConsoleDep) -> FileResponse:
    a, _, _ = views.attempt(c.store, attempt_id)
    if not a.recording_path or not Path(a.recording_path).is_file():
        raise HTTPException(404, f"call {attempt_id} has no recording")
    return FileResponse(a.recording_path, media_type="audio/wav")


# --- users and the audit log -----------------------------------------------------------------
@router.post("/users", status_code=201)
def new_user(body: UserIn, p: Admin, c: ConsoleDep) -> dict[str, str]:
    add_user(c.store, body.name, body.role, body.password)
    audit(c.store, p.name, "user.add", f"user {body.name}", {"role": body.role})
    return {"name": body.name, "role": body.role}


@router.post("/users/{user}/tokens", status_code=201)
def new_token(
    user: str, p: Admin, c: ConsoleDep, body: Annotated[TokenIn | None, Body()] = None
) -> dict[str, str]:
    token = create_token(c.store, user, (body or TokenIn()).label)
    audit(c.store, p.name, "token.create", f"user {user}")
    return {"user": user, "token": token, "note": "shown once; only its hash is stored"}


@router.get("/audit")
def audit_log(
    p: Admin, c: ConsoleDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[dict[str, Any]]:
    with c.store.session() as s:
        rows = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "detail": r.detail,
            }
            for r in rows
        ]
