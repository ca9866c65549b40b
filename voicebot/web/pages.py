"""Server-rendered pages (Jinja templates, htmx for the forms, Chart.js for charts, both
bundled): login, campaigns, the live wallboard, one call, the script's flow, the daily report.
A page asked for without a login redirects to /login; forms carry the session's CSRF token."""

from __future__ import annotations

import secrets
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from voicebot.campaign.report import attempts, summary
from voicebot.campaign.store import CampaignError
from voicebot.web import views
from voicebot.web.api import CampaignIn, control_campaign, import_upload, new_campaign
from voicebot.web.auth import Principal, audit, login, logout
from voicebot.web.deps import COOKIE, Console, ConsoleDep, Operator, console, who
from voicebot.web.flow import flow_svg
from voicebot.web.runner import RunOptions

router = APIRouter(include_in_schema=False)
LOGIN_CSRF = "vb_login_csrf"


async def login_redirect(request: Request, e: HTTPException) -> Response:
    """A page (not the API) asked for without a login goes to the login form."""
    if (
        e.status_code == 401
        and request.method == "GET"
        and not request.url.path.startswith(("/api/", "/metrics", "/openapi.json"))
    ):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return await http_exception_handler(request, e)


def _page(request: Request) -> Principal:
    p = who(request)
    if p is None:
        raise HTTPException(401, "login required")
    return p


def _render(
    c: Console,
    request: Request,
    template: str,
    user: Principal | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    return c.templates.TemplateResponse(
        request, template, {"user": user, **context}, status_code=status
    )


# --- login -----------------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, c: ConsoleDep, next: str = "/") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    page = _render(c, request, "login.html", None, csrf=token, next=_local(next), error=None)
    page.set_cookie(
        LOGIN_CSRF, token, httponly=True, samesite="strict", secure=c.secure_cookies, max_age=3600
    )
    return page


@router.post("/login")
def login_submit(
    request: Request,
    c: ConsoleDep,
    name: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    def again(error: str, status: int) -> HTMLResponse:
        page = _render(
            c, request, "login.html", None, status, csrf=csrf_token, next=_local(next), error=error
        )
        return page

    if not csrf_token or request.cookies.get(LOGIN_CSRF) != csrf_token:
        return again("The form expired: please try again.", 403)
    keys = (f"user:{name.lower()}", f"addr:{request.client.host if request.client else '-'}")
    wait = c.limiter.retry_after(*keys)
    if wait > 0:
        return again(f"Too many failed logins: try again in {wait:.0f} s.", 429)
    found = login(c.store, name, password)
    if found is None:
        c.limiter.failed(*keys)
        audit(c.store, name[:100], "login.failed")
        return again("Wrong name or password.", 401)
    c.limiter.succeeded(*keys)
    session_id, principal = found
    audit(c.store, principal.name, "login")
    response = RedirectResponse(_local(next), status_code=303)
    response.set_cookie(
        COOKIE,
        session_id,
        httponly=True,
        samesite="strict",
        secure=c.secure_cookies,
        max_age=12 * 3600,
    )
    response.delete_cookie(LOGIN_CSRF)
    return response


@router.post("/logout")
def logout_submit(
    request: Request, c: ConsoleDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    session_id = request.cookies.get(COOKIE, "")
    p = who_without_csrf(request)
    if p is not None and csrf_token == p.csrf:
        logout(c.store, session_id)
        audit(c.store, p.name, "logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE)
    return response


def who_without_csrf(request: Request) -> Principal | None:
    from voicebot.web.auth import from_session

    session_id = request.cookies.get(COOKIE)
    return from_session(console(request).store, session_id) if session_id else None


def _local(path: str) -> str:
    return path if path.startswith("/") and not path.startswith("//") else "/"


# --- pages -----------------------------------------------------------------------------------
@router.get("/")
def campaigns_page(request: Request, c: ConsoleDep) -> HTMLResponse:
    p = _page(request)
    rows = [{**r, "running": c.runner.running(r["name"])} for r in views.campaigns(c.store)]
    scripts = sorted(x.name for x in c.scripts.glob("*.yaml"))
    return _render(c, request, "campaigns.html", p, campaigns=rows, scripts=scripts)


@router.get("/campaigns/{name}")
def wallboard_page(name: str, request: Request, c: ConsoleDep) -> HTMLResponse:
    p = _page(request)
    board = views.wallboard(
        c.store,
        name,
        p.can("operator"),
        c.bus.last_event_at(name),
        live_calls=c.bus.calls(name),
    )
    board["running"] = c.runner.running(name)
    return _render(c, request, "wallboard.html", p, name=name, board=board)


@router.get("/calls/{attempt_id}")
def call_page(attempt_id: int, request: Request, c: ConsoleDep) -> HTMLResponse:
    p = _page(request)
    call = views.call_detail(c.store, attempt_id, p.can("operator"))
    return _render(c, request, "call.html", p, call=call)


@router.get("/campaigns/{name}/script")
def script_page(name: str, request: Request, c: ConsoleDep) -> HTMLResponse:
    p = _page(request)
    counts = views.flow(c.store, name)
    return _render(
        c,
        request,
        "script.html",
        p,
        name=name,
        counts=counts,
        svg=flow_svg(counts["script"], counts),
    )


@router.get("/campaigns/{name}/report")
def report_page(
    name: str, request: Request, c: ConsoleDep, day: date | None = None
) -> HTMLResponse:
    p = _page(request)
    data = views.report_for(summary(c.store, name, attempts(c.store, name, day)), p.can("operator"))
    return _render(c, request, "report.html", p, name=name, data=data, day=day)


# --- htmx form targets (fragments) -----------------------------------------------------------
def _note(
    c: Console,
    request: Request,
    p: Principal,
    text: str,
    ok: bool = True,
    status: int = 200,
    rejected: list[str] | None = None,
) -> HTMLResponse:
    return _render(c, request, "note.html", p, status, text=text, ok=ok, rejected=rejected or [])


@router.post("/ui/campaigns")
def ui_create(
    request: Request,
    p: Operator,
    c: ConsoleDep,
    name: Annotated[str, Form()],
    script: Annotated[str, Form()],
) -> HTMLResponse:
    try:
        new_campaign(
            c, p.name, p.can("admin"), CampaignIn.model_validate({"name": name, "script": script})
        )
    except (HTTPException, CampaignError, ValueError) as e:
        return _note(c, request, p, _message(e), ok=False, status=422)
    return _note(c, request, p, f"Campaign {name} created. Reload to see it in the list.")


@router.post("/ui/import")
def ui_import(
    request: Request,
    p: Operator,
    c: ConsoleDep,
    campaign: Annotated[str, Form()],
    file: Annotated[UploadFile, File()],
) -> HTMLResponse:
    name = campaign
    try:
        r = import_upload(c, p.name, name, file, "console", "")
    except (HTTPException, CampaignError) as e:
        return _note(c, request, p, f"Nothing imported: {_message(e)}", ok=False, status=422)
    text = (
        f"{r['imported']} imported, {r['merged']} merged, "
        f"{sum(r['skipped'].values())} skipped, {r['rejected_count']} rejected"
    )
    return _note(c, request, p, text, ok=not r["rejected_count"], rejected=r["rejected"])


@router.post("/ui/campaigns/{name}/{action}")
def ui_control(
    name: str,
    action: str,
    request: Request,
    p: Operator,
    c: ConsoleDep,
    trunk: Annotated[str, Form()] = "simulated",
    speed: Annotated[float, Form()] = 1.0,
    virtual: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    try:
        if action == "start":
            if trunk not in ("simulated", "personas", "sip"):
                raise HTTPException(422, f"trunk: simulated, personas or sip, not {trunk!r}")
            c.runner.start(name, RunOptions(trunk, speed, virtual))  # type: ignore[arg-type]
            audit(
                c.store,
                p.name,
                "campaign.start",
                f"campaign {name}",
                {"trunk": trunk, "speed": speed, "virtual": virtual},
            )
        elif action in ("pause", "resume", "stop"):
            control_campaign(c, p.name, name, action)
        else:
            raise HTTPException(404, f"no action {action!r}")
    except (HTTPException, CampaignError) as e:
        return _note(c, request, p, _message(e), ok=False, status=409)
    return _note(c, request, p, f"{name}: {action} sent")


def _message(e: Exception) -> str:
    if isinstance(e, HTTPException):
        return str(e.detail)
    return str(e)
