"""`create_app(...)`: the console's FastAPI app. Nothing but the login page and the bundled
static files is served without a login; OpenAPI docs (/docs) and /metrics need one too.
The access log names method, path and status only (query strings can carry numbers)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from voicebot.app.config import VoicebotConfig
from voicebot.campaign.store import CampaignError, Store
from voicebot.web import api, pages
from voicebot.web.auth import LoginLimiter
from voicebot.web.deps import Console, Viewer, console
from voicebot.web.metrics import ConsoleMetrics
from voicebot.web.runner import CampaignRunner, LiveBus

HERE = Path(__file__).parent
access = logging.getLogger("voicebot.web.access")


def create_app(
    store: Store,
    out: Path = Path("out/console"),
    scripts: Path = Path("prompts"),
    secure_cookies: bool = False,
    config: VoicebotConfig | None = None,
) -> FastAPI:
    """`config`: the models and call options of campaigns run on simulated callees."""
    bus = LiveBus()
    metrics = ConsoleMetrics(store)
    parts = Console(
        store=store,
        out=out,
        scripts=scripts,
        runner=CampaignRunner(store, out, bus, metrics, config),
        bus=bus,
        metrics=metrics,
        limiter=LoginLimiter(),
        templates=Jinja2Templates(HERE / "templates"),
        secure_cookies=secure_cookies,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        parts.runner.shutdown()

    app = FastAPI(
        title="voicebot console",
        version="0.1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.state.console = parts
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _docs(app)
    app.add_exception_handler(CampaignError, _campaign_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, pages.login_redirect)  # type: ignore[arg-type]
    app.middleware("http")(_access_log)

    @app.get("/metrics", include_in_schema=False)
    def metrics_text(p: Viewer, request: Request) -> Response:
        return Response(
            generate_latest(console(request).metrics.registry), media_type=CONTENT_TYPE_LATEST
        )

    return app


def _docs(app: FastAPI) -> None:
    import swagger_ui_bundle

    app.mount(
        "/swagger-ui", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger"
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(p: Viewer) -> dict[str, Any]:
        schema = app.openapi()
        schema.setdefault("components", {})["securitySchemes"] = {
            "token": {"type": "http", "scheme": "bearer", "description": "voicebot tokens create"}
        }
        schema["security"] = [{"token": []}]
        return schema

    @app.get("/docs", include_in_schema=False)
    def docs(p: Viewer) -> HTMLResponse:
        return HTMLResponse(
            "<!doctype html><html><head><title>voicebot API</title>"
            '<link rel="stylesheet" href="/swagger-ui/swagger-ui.css"></head><body>'
            '<div id="ui"></div><script src="/swagger-ui/swagger-ui-bundle.js"></script>'
            "<script>SwaggerUIBundle({url: '/openapi.json', dom_id: '#ui'})</script>"
            "</body></html>"
        )


def _campaign_error(_request: Request, e: CampaignError) -> JSONResponse:
    text = str(e)
    status = 404 if text.startswith("no ") else 409 if "already" in text else 400
    return JSONResponse({"detail": text}, status_code=status)


async def _access_log(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    access.info(
        "%s %s %s %.0f ms",
        request.method,
        request.url.path,
        response.status_code,
        (time.perf_counter() - started) * 1000,
    )
    return response
