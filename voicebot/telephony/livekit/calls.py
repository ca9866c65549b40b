"""Call control through LiveKit's server API: dial out on a LiveKit SIP outbound trunk
(CreateSIPParticipant, waiting until answered), transfer (TransferSIPParticipant), hang up
(DeleteRoom). SIP statuses map to the same outcomes as the direct SIP transport, through the
same `CallControl` state machine."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from voicebot.core.clock import Clock, RealClock
from voicebot.core.errors import VoicebotError
from voicebot.telephony.control import CallControl
from voicebot.telephony.livekit import require
from voicebot.telephony.livekit.config import LiveKitConfig

api = require("livekit.api")
aiohttp = require("aiohttp")
log = logging.getLogger(__name__)
REFUSED = ("unauthenticated", "permission_denied")


class LiveKitError(VoicebotError):
    """LiveKit refused the request itself (credentials, trunk, arguments): not a call outcome."""


@dataclass
class Dialled:
    """One call placed through LiveKit: the room it lives in and what came of the dial."""

    room: str
    identity: str
    control: CallControl = field(default_factory=CallControl)
    participant_id: str = ""
    sip_call_id: str = ""

    @property
    def answered(self) -> bool:
        return self.control.answered


@dataclass(frozen=True, slots=True)
class Transferred:
    ok: bool
    code: int = 0  # the SIP status the transfer target answered with, when known
    reason: str = ""


class LiveKitCalls:
    """The call-control client. No media: the agent session in the room does that."""

    def __init__(self, config: LiveKitConfig, clock: Clock | None = None) -> None:
        self.config, self.clock = config, clock or RealClock()
        timeout = aiohttp.ClientTimeout(total=config.request_timeout_s)
        # failover off: a dial retried against another region would ring the callee twice
        self._api = api.LiveKitAPI(
            config.url, config.key(), config.secret(), timeout=timeout, failover=False
        )

    async def __aenter__(self) -> LiveKitCalls:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._api.aclose()

    def new_room(self) -> str:
        return f"{self.config.room_prefix}{uuid.uuid4().hex[:12]}"

    async def dial(
        self,
        number: str,
        room: str | None = None,
        identity: str = "callee",
        attributes: dict[str, str] | None = None,
        max_call_s: float | None = None,
    ) -> Dialled:
        """Ring `number` into `room` and wait for the answer (or the reason there was none).
        `max_call_s`: LiveKit ends the call after this long whatever the bot does, a cap on the
        server side (the worker passes the call options' `max_call_s` plus a grace; None:
        LiveKit's own default)."""
        call = Dialled(room or self.new_room(), identity)
        control = call.control
        control.dial(self.clock.now())
        request = api.CreateSIPParticipantRequest(
            sip_trunk_id=self.config.sip_trunk_id,
            sip_call_to=number,
            sip_number=self.config.caller_id,
            room_name=call.room,
            participant_identity=identity,
            participant_name=identity,
            participant_attributes=attributes or {},
            wait_until_answered=True,
            ringing_timeout=_duration(self.config.ring_timeout_s),
            max_call_duration=_duration(max_call_s) if max_call_s else None,
            krisp_enabled=False,
            play_dialtone=False,
        )
        try:
            info = await self._api.sip.create_sip_participant(request)
        except api.SipCallError as e:
            control.end(self.clock.now(), e.sip_status_code or 0, _status_text(e), by="callee")
        except api.TwirpError as e:
            self._refused(e, "dial")
            control.end(
                self.clock.now(), 0, f"LiveKit {e.status} {e.code}: {e.message}", by="network"
            )
        except (aiohttp.ClientError, TimeoutError) as e:
            control.end(self.clock.now(), 0, f"LiveKit unreachable: {e!r}", by="network")
        else:
            call.participant_id, call.sip_call_id = info.participant_id, info.sip_call_id
            control.answer(self.clock.now())
        return call

    async def transfer(self, call: Dialled, to: str, ring_timeout_s: float = 30.0) -> Transferred:
        """Hand the callee to `to` (tel: or sip: URI) by SIP REFER through LiveKit."""
        request = api.TransferSIPParticipantRequest(
            participant_identity=call.identity,
            room_name=call.room,
            transfer_to=to,
            play_dialtone=False,
            ringing_timeout=_duration(ring_timeout_s),
        )
        try:
            response = await self._api.sip.transfer_sip_participant(request)
        except api.SipCallError as e:
            return Transferred(False, e.sip_status_code or 0, _status_text(e))
        except api.TwirpError as e:
            self._refused(e, "transfer")
            return Transferred(False, 0, f"LiveKit {e.status} {e.code}: {e.message}")
        except (aiohttp.ClientError, TimeoutError) as e:
            return Transferred(False, 0, f"LiveKit unreachable: {e!r}")
        ok = response.status == api.SIPTransferStatus.STS_TRANSFER_SUCCESSFUL
        return Transferred(ok, int(response.sip_status.code), response.sip_status.status)

    async def hang_up(self, call: Dialled, by: str = "bot") -> None:
        """End the call for everyone: the room is deleted (a room already gone is fine)."""
        try:
            await self._api.room.delete_room(api.DeleteRoomRequest(room=call.room))
        except api.TwirpError as e:
            if e.code != "not_found":
                self._refused(e, "hang-up")
                log.warning("hang-up of room %s: LiveKit %s %s", call.room, e.code, e.message)
        except (aiohttp.ClientError, TimeoutError) as e:
            log.warning("hang-up of room %s: LiveKit unreachable (%r)", call.room, e)
        call.control.end(self.clock.now(), 0, "room deleted", by=by)

    def _refused(self, e: Any, what: str) -> None:
        if e.code in REFUSED or e.status in (401, 403):
            raise LiveKitError(
                f"LiveKit refused the {what} (API key {self.config.key()!r}): {e.code}: {e.message}"
            ) from None


def _duration(seconds: float) -> object:
    from google.protobuf.duration_pb2 import Duration

    whole = int(seconds)
    return Duration(seconds=whole, nanos=int((seconds - whole) * 1e9))


def _status_text(e: object) -> str:
    status = getattr(e, "sip_status", None) or ""
    return str(status).removeprefix("SIP_STATUS_").replace("_", " ").title() or str(e)
