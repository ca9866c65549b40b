"""A fake LiveKit server API on loopback: the Twirp endpoints the outbound worker uses
(SIP.CreateSIPParticipant, SIP.TransferSIPParticipant, RoomService.DeleteRoom), protobuf in and
out, tokens checked as LiveKit checks them (HS256 with the API secret, issuer = API key, the
grants each call needs). What a dialled number does is set per number: answer, or a SIP status.
A boundary fake: the client under test is the real livekit-api over real HTTP."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from livekit import api

SIP_NAMES = {
    486: "SIP_STATUS_BUSY_HERE",
    603: "SIP_STATUS_DECLINE",
    480: "SIP_STATUS_TEMPORARILY_UNAVAILABLE",
    408: "SIP_STATUS_REQUEST_TIMEOUT",
    404: "SIP_STATUS_NOT_FOUND",
    488: "SIP_STATUS_NOT_ACCEPTABLE_HERE",
    503: "SIP_STATUS_SERVICE_UNAVAILABLE",
}
# the Twirp code LiveKit answers a failed INVITE with (the SIP status rides in `meta`)
TWIRP_FOR_SIP = {
    486: ("unavailable", 503),
    603: ("permission_denied", 403),
    480: ("unavailable", 503),
    408: ("deadline_exceeded", 504),
    404: ("not_found", 404),
    488: ("invalid_argument", 400),
    503: ("unavailable", 503),
}


@dataclass
class FakeLiveKit:
    key: str = "APIfake"
    secret: str = "fake-secret-that-is-long-enough-for-hs256"
    numbers: dict[str, int] = field(default_factory=dict)  # number -> SIP status (200: answer)
    transfers: dict[str, int] = field(default_factory=dict)  # transfer_to -> SIP status
    requests: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    rooms: set[str] = field(default_factory=set)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- server ----------------------------------------------------------------------------
    def __enter__(self) -> FakeLiveKit:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            app = web.Application(middlewares=[_errors])
            app.router.add_post("/twirp/livekit.SIP/{method}", self._sip)
            app.router.add_post("/twirp/livekit.RoomService/{method}", self._room)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self._runner.cleanup())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        assert ready.wait(10), "fake LiveKit did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # --- endpoints -------------------------------------------------------------------------
    def _claims(self, request: web.Request) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            raise _twirp("unauthenticated", 401, "no token")
        try:
            claims = jwt.decode(header[7:], self.secret, algorithms=["HS256"], leeway=10)
        except jwt.PyJWTError as e:
            raise _twirp("unauthenticated", 401, f"invalid token: {e}") from None
        if claims.get("iss") != self.key:
            raise _twirp("unauthenticated", 401, "unknown API key")
        return dict(claims)

    async def _sip(self, request: web.Request) -> web.Response:
        claims = self._claims(request)
        if not claims.get("sip", {}).get("call"):
            raise _twirp("permission_denied", 403, "needs the sip.call grant")
        method, body = request.match_info["method"], await request.read()
        if request.content_type != "application/protobuf":
            raise _twirp("malformed", 400, "protobuf expected")
        if method == "CreateSIPParticipant":
            create = api.CreateSIPParticipantRequest.FromString(body)
            self.requests.append((method, create, claims))
            if not create.sip_trunk_id.startswith("ST_"):
                raise _twirp("not_found", 404, f"trunk {create.sip_trunk_id!r} not found")
            status = self.numbers.get(create.sip_call_to, 480)
            if status != 200:
                raise _sip_failure(status)
            self.rooms.add(create.room_name)
            info = api.SIPParticipantInfo(
                participant_id="PA_fake",
                room_name=create.room_name,
                participant_identity=create.participant_identity,
                sip_call_id="SCL_fake",
            )
            return _proto(info)
        if method == "TransferSIPParticipant":
            transfer = api.TransferSIPParticipantRequest.FromString(body)
            self.requests.append((method, transfer, claims))
            video = claims.get("video", {})
            if not video.get("roomAdmin") or video.get("room") != transfer.room_name:
                raise _twirp("permission_denied", 403, "needs roomAdmin on the room")
            if transfer.room_name not in self.rooms:
                raise _twirp("not_found", 404, "room not found")
            status = self.transfers.get(transfer.transfer_to, 200)
            if status != 200:
                raise _sip_failure(status, transfer=True)
            return _proto(
                api.TransferSIPParticipantResponse(
                    transfer_id="TR_fake",
                    status=api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL,
                    sip_status=api.SIPStatus(code=200, status="OK"),
                )
            )
        raise _twirp("bad_route", 404, f"no method {method}")

    async def _room(self, request: web.Request) -> web.Response:
        claims = self._claims(request)
        if not claims.get("video", {}).get("roomCreate"):
            raise _twirp("permission_denied", 403, "needs the roomCreate grant")
        if request.match_info["method"] != "DeleteRoom":
            raise _twirp("bad_route", 404, "no such method")
        delete = api.DeleteRoomRequest.FromString(await request.read())
        self.requests.append(("DeleteRoom", delete, claims))
        if delete.room not in self.rooms:
            raise _twirp("not_found", 404, "room not found")
        self.rooms.discard(delete.room)
        return _proto(api.DeleteRoomResponse())


def _proto(message: Any) -> web.Response:
    return web.Response(body=message.SerializeToString(), content_type="application/protobuf")


class TwirpFailure(Exception):
    def __init__(self, code: str, status: int, msg: str, meta: dict[str, str]) -> None:
        super().__init__(msg)
        self.body = {"code": code, "msg": msg, "meta": meta}
        self.status = status


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)  # type: ignore[no-any-return]
    except TwirpFailure as e:
        return web.json_response(e.body, status=e.status)


def _twirp(code: str, status: int, msg: str, meta: dict[str, str] | None = None) -> TwirpFailure:
    return TwirpFailure(code, status, msg, meta or {})


def _sip_failure(status: int, transfer: bool = False) -> TwirpFailure:
    code, http = TWIRP_FOR_SIP.get(status, ("unknown", 500))
    name = SIP_NAMES.get(status, f"SIP_STATUS_{status}")
    meta = {"sip_status_code": str(status), "sip_status": name}
    if transfer:
        meta["sip_transfer_reason"] = "STR_SIP_ERROR"
    return _twirp(code, http, f"INVITE failed: sip status: {status} ({name})", meta)
