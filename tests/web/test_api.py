"""The console's HTTP API: every route refuses a missing or wrong token (401) and a role
without the right (403); campaigns, uploads, the dialer, DNC, erasure and the audit log."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.web.conftest import PASSWORD, Console
from voicebot.web import api, pages

pytestmark = pytest.mark.integration

# every API route, the least role it needs, and a sample path
ROUTES = {
    ("GET", "/api/me"): "viewer",
    ("GET", "/api/campaigns"): "viewer",
    ("POST", "/api/campaigns"): "operator",
    ("GET", "/api/campaigns/{name}"): "viewer",
    ("POST", "/api/campaigns/{name}/contacts"): "operator",
    ("POST", "/api/campaigns/{name}/start"): "operator",
    ("POST", "/api/campaigns/{name}/{action}"): "operator",
    ("GET", "/api/campaigns/{name}/live"): "viewer",
    ("GET", "/api/campaigns/{name}/flow"): "viewer",
    ("GET", "/api/campaigns/{name}/report"): "viewer",
    ("GET", "/api/campaigns/{name}/export"): "operator",
    ("GET", "/api/contacts/{contact_id}"): "viewer",
    ("GET", "/api/contacts"): "operator",
    ("POST", "/api/contacts/{contact_id}/erase"): "admin",
    ("POST", "/api/dnc"): "operator",
    ("DELETE", "/api/dnc"): "operator",
    ("GET", "/api/calls"): "viewer",
    ("GET", "/api/calls/{attempt_id}"): "viewer",
    ("GET", "/api/calls/{attempt_id}/recording"): "operator",
    ("POST", "/api/users"): "admin",
    ("POST", "/api/users/{user}/tokens"): "admin",
    ("GET", "/api/audit"): "admin",
    ("GET", "/metrics"): "viewer",
    ("GET", "/openapi.json"): "viewer",
    ("GET", "/docs"): "viewer",
    # pages (a browser without a login is sent to /login) and their htmx form targets
    ("GET", "/"): "viewer",
    ("GET", "/campaigns/{name}"): "viewer",
    ("GET", "/campaigns/{name}/script"): "viewer",
    ("GET", "/campaigns/{name}/report"): "viewer",
    ("GET", "/calls/{attempt_id}"): "viewer",
    ("POST", "/ui/campaigns"): "operator",
    ("POST", "/ui/import"): "operator",
    ("POST", "/ui/campaigns/{name}/{action}"): "operator",
}
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/logout")}
SAMPLE = {
    "{name}": "spring",
    "{action}": "pause",
    "{contact_id}": "1",
    "{attempt_id}": "1",
    "{user}": "viewer",
}
LOWER = {"viewer": None, "operator": "viewer", "admin": "operator"}
CSV = (
    "phone,name,segment\n+1 415 555 0101,Ann Lee,gold\nnot a number,Bob,gold\n"
    "+1 415 555 0102,Cy Dee,\n+1 415 555 0101,Ann Lee,\n+99 1,Dan,\n"
)


def _path(template: str) -> str:
    for key, value in SAMPLE.items():
        template = template.replace(key, value)
    return template


def test_the_table_lists_every_route() -> None:
    routers = (api.router, pages.router)
    routes = {
        (m, r.path) for x in routers for r in x.routes if isinstance(r, APIRoute) for m in r.methods
    }
    assert routes - PUBLIC == {
        k for k in ROUTES if k[1] not in ("/metrics", "/openapi.json", "/docs")
    }


@pytest.mark.parametrize(("method", "template"), list(ROUTES))
def test_every_route_refuses_missing_wrong_token_and_lower_role(
    console: Console, method: str, template: str
) -> None:
    path = _path(template)

    def send(method: str, path: str, **kw: Any) -> Any:
        return console.client.request(method, path, follow_redirects=False, **kw)

    page = method == "GET" and not path.startswith(("/api/", "/metrics", "/openapi.json"))
    refused = (303,) if page else (401,)  # a page sends the browser to /login
    assert send(method, path).status_code in refused
    assert send(method, path, headers={"Authorization": "Bearer vb_wrong"}).status_code in refused
    assert send(method, path, headers={"Authorization": "Basic x"}).status_code in refused
    lower = LOWER[ROUTES[(method, template)]]
    if lower is not None:
        assert send(method, path, headers=console.auth(lower)).status_code == 403


def _campaign(console: Console, name: str = "spring", **config: Any) -> None:
    body = {
        "name": name,
        "script": "survey_en.yaml",
        "config": {
            "window": {
                "start": "00:00",
                "end": "23:59:59",
                "days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
            },
            "max_attempts": 1,
            "concurrency": 4,
            "cps": 50,
            **config,
        },
    }
    r = console.client.post("/api/campaigns", json=body, headers=console.auth("operator"))
    assert r.status_code == 201, r.text


def _upload(console: Console, text: str, name: str = "spring") -> Any:
    return console.client.post(
        f"/api/campaigns/{name}/contacts",
        headers=console.auth("operator"),
        files={"file": ("contacts.csv", text.encode(), "text/csv")},
    )


def test_bad_input_names_the_field_or_row_and_imports_nothing(console: Console) -> None:
    op = console.auth("operator")
    r = console.client.post(
        "/api/campaigns",
        headers=op,
        json={"name": "x", "script": "survey_en.yaml", "config": {"window": {"start": "25:00"}}},
    )
    assert r.status_code == 422 and "config.window.start" in r.json()["detail"]
    r = console.client.post("/api/campaigns", headers=op, json={"name": "x", "script": "nope.yaml"})
    assert r.status_code == 422 and "script" in r.json()["detail"]
    r = console.client.post("/api/campaigns", headers=op, json={"name": "x", "script_yaml": "a"})
    assert r.status_code == 403  # uploading a script is for admins
    _campaign(console)
    r = _upload(console, CSV)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["imported"], body["merged"], body["rejected_count"]) == (2, 1, 2)
    assert body["rejected"][0].startswith("row 3: phone")
    assert body["rejected"][1].startswith("row 6: phone")
    r = _upload(console, "name,city\nAnn,Oslo\n")
    assert r.status_code == 422 and "no phone column" in r.json()["detail"]
    r = _upload(console, "phone,name\n+1 415 555 0111,Al\n+1 415 555 0112,B,extra\n")
    assert r.status_code == 422 and "row 3" in r.json()["detail"]
    status = console.client.get("/api/campaigns/spring", headers=console.auth("viewer")).json()
    assert status["contacts"] == {"pending": 2}  # the broken files added nothing
    assert _upload(console, CSV, "autumn").status_code == 404
    assert not list((console.out / "uploads").iterdir())  # uploads do not stay on disk


def _wait_until(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_campaign_runs_pauses_and_stops_with_drain(console: Console) -> None:
    _campaign(console, concurrency=2)
    rows = "".join(f"+1 415 555 {200 + i:04d},P{i}\n" for i in range(40))
    assert _upload(console, "phone,name\n" + rows).json()["imported"] == 40
    op, viewer = console.auth("operator"), console.auth("viewer")
    r = console.client.post(
        "/api/campaigns/spring/start", headers=op, json={"trunk": "simulated", "speed": 40}
    )
    assert r.status_code == 200
    assert console.client.post("/api/campaigns/spring/start", headers=op).status_code == 409

    def status() -> dict[str, Any]:
        return console.client.get("/api/campaigns/spring", headers=viewer).json()

    _wait_until(lambda: status()["ended"] >= 2)
    assert console.client.post("/api/campaigns/spring/pause", headers=op).status_code == 200
    _wait_until(lambda: not status()["running"])
    paused = status()
    assert paused["state"] == "paused" and paused["in_progress"] == 0  # drained
    assert 2 <= paused["ended"] < 40
    console.client.post("/api/campaigns/spring/resume", headers=op)
    _wait_until(lambda: status()["ended"] > paused["ended"])
    console.client.post("/api/campaigns/spring/stop", headers=op)
    _wait_until(lambda: not status()["running"])
    stopped = status()
    assert stopped["in_progress"] == 0 and stopped["state"] == "stopped"
    assert sum(stopped["outcomes"].values()) == stopped["ended"]
    actions = [
        a["action"] for a in console.client.get("/api/audit", headers=console.auth("admin")).json()
    ]
    for done in (
        "campaign.create",
        "contacts.import",
        "campaign.start",
        "campaign.pause",
        "campaign.resume",
        "campaign.stop",
    ):
        assert done in actions
    metrics = console.client.get("/metrics", headers=viewer).text
    ended = sum(float(m) for m in re.findall(r"voicebot_calls_ended_total\{.*\} (\S+)", metrics))
    assert ended == stopped["ended"]
    assert 'voicebot_contacts{campaign="spring"' in metrics
    today = time.strftime("%Y-%m-%d", time.gmtime())
    everything = console.client.get(
        f"/api/calls?campaign=spring&day={today}&limit=1000", headers=viewer
    ).json()
    assert len(everything) == stopped["ended"]
    assert console.client.get("/api/calls?day=2001-01-01", headers=viewer).json() == []
    one = everything[0]
    by_contact = console.client.get(f"/api/calls?contact={one['contact']}", headers=viewer).json()
    assert [c["id"] for c in by_contact] == [one["id"]]
    by_outcome = console.client.get(
        f"/api/calls?outcome={one['outcome']}&limit=1000", headers=viewer
    ).json()
    assert len(by_outcome) == stopped["outcomes"][one["outcome"]]
    calls = console.client.get("/api/calls?campaign=spring&limit=5", headers=viewer).json()
    assert len(calls) == 5 and all("*" in c["phone"] for c in calls)
    full = console.client.get("/api/calls?campaign=spring&limit=5", headers=op).json()
    assert all(re.fullmatch(r"\+1415555\d{4}", c["phone"]) for c in full)
    report = console.client.get("/api/campaigns/spring/report", headers=viewer).json()
    assert report["attempts"] == stopped["ended"]
    export = console.client.get("/api/campaigns/spring/export?format=csv", headers=op)
    assert export.text.count("\n") == stopped["ended"] + 1


def test_viewer_sees_masked_numbers_only(console: Console) -> None:
    _campaign(console)
    _upload(console, CSV)
    viewer = console.client.get("/api/contacts/1", headers=console.auth("viewer")).json()
    assert viewer["phone"] == "+1 415 ***-**01" and viewer["name"] == ""
    operator = console.client.get("/api/contacts/1", headers=console.auth("operator")).json()
    assert operator["phone"] == "+14155550101" and operator["name"] == "Ann Lee"
    found = console.client.get(
        "/api/contacts", params={"phone": "(415) 555-0101"}, headers=console.auth("operator")
    ).json()
    assert [c["id"] for c in found] == [1]


def test_dnc_and_erase(console: Console) -> None:
    _campaign(console)
    _upload(console, CSV)
    op, admin = console.auth("operator"), console.auth("admin")
    r = console.client.post("/api/dnc", headers=op, json={"phone": "+1 415 555 0102"})
    assert r.status_code == 201 and r.json()["phone"] == "+1 415 ***-**02"
    assert console.client.post("/api/dnc", headers=op, json={"phone": "12"}).status_code == 422
    r = console.client.request("DELETE", "/api/dnc", headers=op, json={"phone": "+14155550102"})
    assert r.json() == {"removed": 1}
    assert console.client.post("/api/contacts/1/erase", headers=op).status_code == 403
    r = console.client.post("/api/contacts/1/erase", headers=admin)
    assert r.status_code == 200 and r.json()["contacts"] == 1
    after = console.client.get("/api/contacts/1", headers=op).json()
    assert after["name"] == "" and "4155550101" not in after["phone"]
    assert console.client.post("/api/contacts/1/erase", headers=admin).status_code == 404
    audit = console.client.get("/api/audit", headers=admin).json()
    assert {"dnc.add", "dnc.remove", "contact.erase"} <= {a["action"] for a in audit}
    assert "0102" not in str(audit)  # the audit log names masked numbers only


def _login(console: Console, name: str, password: str) -> Any:
    page = console.client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    return console.client.post(
        "/login",
        follow_redirects=False,
        data={"name": name, "password": password, "csrf_token": csrf.group(1)},
    )


def test_browser_session_cookie_csrf_and_login_rate_limit(console: Console) -> None:
    assert console.client.get("/", follow_redirects=False).headers["location"].startswith("/login")
    r = _login(console, "operator", PASSWORD)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert console.client.get("/").status_code == 200
    body = {"name": "c1", "script": "survey_en.yaml"}
    assert console.client.post("/api/campaigns", json=body).status_code == 403  # no CSRF token
    csrf = re.search(r'data-csrf="([^"]+)"', console.client.get("/").text)
    assert csrf is not None
    r = console.client.post("/api/campaigns", json=body, headers={"X-CSRF-Token": csrf.group(1)})
    assert r.status_code == 201
    console.client.cookies.clear()
    for _ in range(5):
        assert _login(console, "admin", "wrong password").status_code == 401
    assert _login(console, "admin", PASSWORD).status_code == 429  # even with the right one
    assert "login.failed" in {
        a["action"] for a in console.client.get("/api/audit", headers=console.auth("admin")).json()
    }


def test_access_log_carries_no_numbers(console: Console, caplog: pytest.LogCaptureFixture) -> None:
    _campaign(console)
    _upload(console, CSV)
    with caplog.at_level(logging.INFO, logger="voicebot.web.access"):
        console.client.get(
            "/api/contacts", params={"phone": "+14155550101"}, headers=console.auth("operator")
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "voicebot.web.access"]
    assert lines and all("5550101" not in line for line in lines)
    assert any(line.startswith("GET /api/contacts 200") for line in lines)


def test_users_and_tokens_from_the_api(console: Console) -> None:
    admin = console.auth("admin")
    r = console.client.post("/api/users", headers=admin, json={"name": "crm", "role": "operator"})
    assert r.status_code == 201
    token = console.client.post("/api/users/crm/tokens", headers=admin).json()["token"]
    me = console.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"name": "crm", "role": "operator"}
    r = console.client.post("/api/users", headers=admin, json={"name": "crm", "role": "viewer"})
    assert r.status_code == 409
    from sqlalchemy import select

    from voicebot.web.models import ApiToken

    with console.store.session() as s:
        hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert token not in hashes and all(len(h) == 64 for h in hashes)


def test_the_grafana_dashboard_asks_for_metrics_the_server_exports(console: Console) -> None:
    import json

    from tests.conftest import ROOT

    dashboard = json.loads((ROOT / "docs" / "grafana-voicebot.json").read_text())
    asked = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"voicebot_\w+", target["expr"])
    }
    text = console.client.get("/metrics", headers=console.auth("viewer")).text
    exported = set(re.findall(r"^# TYPE (voicebot_\w+) ", text, re.M))
    series = {n + suffix for n in exported for suffix in ("", "_total", "_bucket", "_count")}
    assert asked and asked <= series, asked - series


def test_openapi_docs_describe_the_api_and_its_bearer_token(console: Console) -> None:
    schema = console.client.get("/openapi.json", headers=console.auth("viewer")).json()
    assert schema["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
    assert {"/api/campaigns", "/api/campaigns/{name}/contacts", "/api/calls/{attempt_id}"} <= set(
        schema["paths"]
    )
    assert not any(p.startswith("/ui/") for p in schema["paths"])
    page = console.client.get("/docs", headers=console.auth("viewer")).text
    assert "/swagger-ui/swagger-ui-bundle.js" in page and "//cdn" not in page
    assert console.client.get("/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_serve_demo_seeds_the_demo_campaign_and_a_first_admin_once(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.conftest import ROOT
    from voicebot.campaign.store import Store
    from voicebot.web.auth import login
    from voicebot.web.cli import seed_demo
    from voicebot.web.views import campaigns

    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    seed_demo(store, ROOT / "prompts" / "survey_en.yaml")
    password = re.search(r"password (\S+) ", capsys.readouterr().out)
    assert password is not None and login(store, "admin", password.group(1)) is not None
    seed_demo(store, ROOT / "prompts" / "survey_en.yaml")
    assert "password" not in capsys.readouterr().out  # a second start adds nobody
    [demo] = campaigns(store)
    from voicebot.sim.persona import all_personas

    assert demo["name"] == "demo" and demo["contacts"] == len(all_personas())  # one each
    assert not list(tmp_path.glob("*.csv"))  # the contact list does not stay on disk
