"""The outbound worker: one campaign dial through LiveKit. The bot joins a fresh room while the
callee is dialled into it through the LiveKit SIP outbound trunk (waiting until answered); the
script then runs as an AgentSession in the room with the voicebot plugins, recorded (when the
campaign or script says calls are) by livekit-agents' RecorderIO on the room's audio. Hand-offs
go out by TransferSIPParticipant, phone keys arrive as `sip_dtmf_received` events, and the call
ends by deleting the room. Every dial writes its call report (answered or not), and the
campaign's result comes from it (`CallResult.of`), as on the SIP trunk. `LiveKitPlacer` is the
campaign dialer's transport (`--transport livekit`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voicebot.livekit import require

require("livekit.agents")

from livekit import api, rtc  # noqa: E402
from livekit.agents import room_io  # noqa: E402

from voicebot.campaign.dialer import CallResult, Dial  # noqa: E402
from voicebot.core.clock import RealClock  # noqa: E402
from voicebot.core.outcomes import Outcome  # noqa: E402
from voicebot.livekit.agent import ScriptAgent  # noqa: E402
from voicebot.livekit.llm import ScriptLLM  # noqa: E402
from voicebot.livekit.record import CallRecord  # noqa: E402
from voicebot.livekit.recording import CallRecorder  # noqa: E402
from voicebot.livekit.session import script_session  # noqa: E402
from voicebot.metrics.report import CallReport  # noqa: E402
from voicebot.telephony.livekit.calls import Dialled, LiveKitCalls  # noqa: E402
from voicebot.telephony.livekit.config import LiveKitOutbound  # noqa: E402

if TYPE_CHECKING:
    from voicebot.app.stages import ScriptStages

log = logging.getLogger(__name__)
TRANSPORT = "LiveKit"
SERVER_GRACE_S = 30.0  # LiveKit ends the SIP call this long after the bot's own deadline


class LiveKitPlacer:
    """Places campaign calls through LiveKit; `stages`: the campaign script's loaded stages
    (voicebot.app.stages.ScriptStages); reports go to `reports/<call_id>.json`."""

    def __init__(
        self,
        stages: ScriptStages,
        settings: LiveKitOutbound,
        calls: LiveKitCalls,
        reports: Path | None = None,
        record_to: Path | None = None,
    ) -> None:
        """`record_to`: the folder for each answered call's stereo WAV (`<call_id>.wav`)."""
        self.stages, self.settings, self.calls = stages, settings, calls
        self.reports, self.record_to = reports, record_to

    def token(self, room: str) -> str:
        server = self.settings.server
        grants = api.VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True)
        token = api.AccessToken(server.key(), server.secret())
        return token.with_identity(self.settings.bot_identity).with_grants(grants).to_jwt()

    async def place(self, dial: Dial) -> CallResult:
        report = await self.call(dial)
        path = report.save(self.reports) if self.reports is not None else None
        wav = self.record_to / f"{report.call_id}.wav" if self.record_to is not None else None
        return CallResult.of(report, path, wav if wav is not None and wav.exists() else None)

    async def call(self, dial: Dial) -> CallReport:
        """One dial, its report: the conversation's, or the dial's when nobody could talk."""
        room_name = self.calls.new_room()
        room = rtc.Room()
        joining = asyncio.ensure_future(
            room.connect(self.settings.server.url, self.token(room_name))
        )
        max_call_s = self.stages.options.max_call_s + SERVER_GRACE_S
        rendering = asyncio.ensure_future(self.stages.ring(RealClock(), dial.contact))
        call = await self.calls.dial(
            dial.phone,
            room_name,
            identity="callee",
            attributes={"attempt": str(dial.attempt_id)},
            max_call_s=max_call_s,
        )
        await rendering  # the contact's first lines, rendered while the phone rang
        later: asyncio.Future[None] | None = None
        try:
            if not call.answered:
                joining.cancel()
                return self._unanswered(dial, call, call.control.outcome or Outcome.FAILED)
            later = asyncio.ensure_future(self.stages.in_call(RealClock(), dial.contact))
            try:
                await joining
            except (rtc.ConnectError, OSError) as e:  # answered, but the bot cannot get in
                log.error(
                    "attempt %s: bot could not join room %s: %s",
                    dial.attempt_id,
                    room_name,
                    type(e).__name__,
                )
                await self.calls.hang_up(call)
                return self._unanswered(dial, call, Outcome.FAILED)
            return await self._converse(dial, call, room)
        finally:
            if later is not None:
                later.cancel()
            await asyncio.gather(joining, *[later] if later else [], return_exceptions=True)
            self.stages.ended(dial.contact)  # the contact's lines leave the cache
            await room.disconnect()

    def _unanswered(self, dial: Dial, call: Dialled, outcome: Outcome) -> CallReport:
        report = CallRecord.of(self.stages, dial.contact, TRANSPORT).report
        report.outcome, report.ended_by = outcome, call.control.ended_by or ""
        report.signalling = call.control.as_report()
        return report

    async def _converse(self, dial: Dial, call: Dialled, room: rtc.Room) -> CallReport:
        stages = self.stages
        record = CallRecord.of(stages, dial.contact, TRANSPORT, RealClock())  # 0 = answer
        # the call's wall time is the contact's local time: "tomorrow at three" is three there
        started = dial.local_time(datetime.now(UTC).replace(tzinfo=None))
        record.report.started_at = started.isoformat(timespec="seconds")
        script_llm = ScriptLLM(
            stages.script,
            stages.language,
            stages.stages.classifier,
            dial.contact,
            now=lambda: started + timedelta(seconds=record.clock.now()),
            record=record,
        )
        ended = asyncio.Event()
        hung_up_by, transferred = "bot", False

        async def transfer(reason: str, summary: str) -> bool:
            nonlocal transferred
            for target in self.settings.agents:
                moved = await self.calls.transfer(call, target, self.settings.transfer_ring_s)
                if moved.ok:
                    transferred = True
                    return True
                log.info(
                    "transfer to agent %d failed: %s %s",
                    self.settings.agents.index(target),
                    moved.code,
                    moved.reason,
                )
            return False

        async def end(_outcome: str) -> None:
            ended.set()

        def left(participant: Any) -> None:
            nonlocal hung_up_by
            if participant.identity == call.identity and not ended.is_set():
                hung_up_by = "callee"
                ended.set()

        agent = ScriptAgent(script_llm, transfer, end)
        session = script_session(stages, script_llm)
        keys: set[asyncio.Task[None]] = set()

        def on_key(event: rtc.SipDTMF) -> None:  # "press 1 to confirm"
            task = asyncio.ensure_future(agent.keypress(event.digit))
            keys.add(task)
            task.add_done_callback(keys.discard)

        room.on("sip_dtmf_received", on_key)
        room.on("participant_disconnected", left)
        options = room_io.RoomOptions(participant_identity=call.identity, close_on_disconnect=True)
        # the room's audio in and out, set up here so a recorder can tap them before the greeting
        room_audio = room_io.RoomIO(room=room, agent_session=session, options=options)
        await room_audio.start()
        recorder = None
        if self.record_to is not None:
            recorder = CallRecorder(self.record_to, record.report.call_id)
            await recorder.start(session)
        await session.start(agent)
        otherwise = Outcome.HUNG_UP
        try:
            await asyncio.wait_for(ended.wait(), stages.options.max_call_s)
        except TimeoutError:
            otherwise, hung_up_by = Outcome.MAX_DURATION, "deadline"
        finally:
            await asyncio.gather(*keys, return_exceptions=True)
            await session.aclose()
            await room_audio.aclose()
            if recorder is not None:
                await recorder.finish()
            if not transferred:
                await self.calls.hang_up(call)
        if transferred:  # the callee may leave the room before the script hears it connected
            otherwise = Outcome.TRANSFERRED
            record.report.transfer = {**(record.report.transfer or {}), "connected": True}
        report = record.finish(script_llm.dialogue, hung_up_by, otherwise)
        report.signalling = call.control.as_report()
        return report
