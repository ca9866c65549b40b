"""The outbound worker: one campaign dial through LiveKit. The bot joins a fresh room while the
callee is dialled into it through the LiveKit SIP outbound trunk (waiting until answered); the
script then runs as an AgentSession in the room with the voicebot plugins. Hand-offs go out by
TransferSIPParticipant, phone keys arrive as `sip_dtmf_received` events, and the call ends by
deleting the room. `LiveKitPlacer` is the campaign dialer's transport (`--transport livekit`)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from voicebot.telephony.livekit import require

require("livekit.agents")

from livekit import api, rtc  # noqa: E402
from livekit.agents import room_io  # noqa: E402

from voicebot.campaign.dialer import CallResult, Dial  # noqa: E402
from voicebot.core.outcomes import Outcome  # noqa: E402
from voicebot.policy.actions import Say  # noqa: E402
from voicebot.telephony.livekit.calls import Dialled, LiveKitCalls  # noqa: E402
from voicebot.telephony.livekit.config import LiveKitOutbound  # noqa: E402
from voicebot.telephony.livekit.plugins import ScriptAgent, ScriptLLM, script_session  # noqa: E402

log = logging.getLogger(__name__)


class LiveKitPlacer:
    """Places campaign calls through LiveKit. `trial` holds the loaded stages (voicebot Trial)."""

    def __init__(self, trial: Any, settings: LiveKitOutbound, calls: LiveKitCalls) -> None:
        self.trial, self.settings, self.calls = trial, settings, calls

    def token(self, room: str) -> str:
        server = self.settings.server
        grants = api.VideoGrants(room_join=True, room=room, can_publish=True,
                                 can_subscribe=True)  # fmt: skip
        token = api.AccessToken(server.key(), server.secret())
        return token.with_identity(self.settings.bot_identity).with_grants(grants).to_jwt()

    async def place(self, dial: Dial) -> CallResult:
        room_name = self.calls.new_room()
        room = rtc.Room()
        joining = asyncio.ensure_future(room.connect(self.settings.server.url,
                                                     self.token(room_name)))  # fmt: skip
        call = await self.calls.dial(dial.phone, room_name, identity="callee",
                                     attributes={"attempt": str(dial.attempt_id)})  # fmt: skip
        try:
            if not call.answered:
                joining.cancel()
                return CallResult(outcome=call.control.outcome or Outcome.FAILED)
            try:
                await joining
            except (rtc.ConnectError, OSError) as e:  # answered, but the bot cannot get in
                log.error("attempt %s: bot could not join room %s: %s", dial.attempt_id,
                          room_name, e)  # fmt: skip
                await self.calls.hang_up(call)
                return CallResult(outcome=Outcome.FAILED)
            return await self._converse(dial, call, room)
        finally:
            await asyncio.gather(joining, return_exceptions=True)
            await room.disconnect()

    async def _converse(self, dial: Dial, call: Dialled, room: rtc.Room) -> CallResult:
        trial = self.trial
        contact = {**dial.variables, "name": dial.name} if dial.name else dict(dial.variables)
        script_llm = ScriptLLM(trial.script, trial.language, trial.stages.classifier, contact)
        ended = asyncio.Event()
        transferred = False

        async def transfer(reason: str, summary: str) -> bool:
            nonlocal transferred
            for target in self.settings.agents:
                moved = await self.calls.transfer(call, target, self.settings.transfer_ring_s)
                if moved.ok:
                    transferred = True
                    return True
                log.info("transfer to agent %d failed: %s %s",
                         self.settings.agents.index(target), moved.code, moved.reason)  # fmt: skip
            return False

        async def end(_outcome: str) -> None:
            ended.set()

        agent = ScriptAgent(script_llm, transfer, end)
        started = time.monotonic()
        session = script_session(trial, script_llm)

        def on_key(event: rtc.SipDTMF) -> None:  # "press 1 to confirm"
            for action in script_llm.keypress(event.digit):
                if isinstance(action, Say):
                    session.say(action.text)
            if script_llm.dialogue.ended:
                ended.set()

        room.on("sip_dtmf_received", on_key)
        room.on("participant_disconnected",
                lambda p: ended.set() if p.identity == call.identity else None)  # fmt: skip
        options = room_io.RoomOptions(participant_identity=call.identity,
                                      close_on_disconnect=True)  # fmt: skip
        await session.start(agent, room=room, room_options=options)
        try:
            await asyncio.wait_for(ended.wait(), trial.options.max_call_s)
        except TimeoutError:
            pass
        finally:
            await session.aclose()
            if not transferred:
                await self.calls.hang_up(call)
        state, said = script_llm.dialogue.state, script_llm.state
        outcome = (state.ended if state else None) or Outcome.HUNG_UP
        callback = said.callback_at.replace(tzinfo=None) if said.callback_at else None
        return CallResult(outcome=outcome, duration_s=round(time.monotonic() - started, 1),
                          answers=state.recorded() if state else {}, grade=said.grade,
                          dnc=said.dnc, transferred=transferred,
                          callback_at=callback)  # fmt: skip
