"""The call report of a LiveKit call, the same `CallReport` a SIP or loopback call writes, filled
in as the call goes: caller turns with the listener's stamps and the policy's, the bot's lines
with when the caller began to hear them, the timeline and the outcome.

One clock per call (0 = answer): the listener stamps turns on it, the script LLM its intent and
policy times, and playback, which livekit-agents reports in wall time, is put on it too."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from voicebot.core.clock import Clock, RealClock
from voicebot.core.outcomes import Outcome
from voicebot.metrics.report import BotLine, CallReport, TimelineEvent, Turn, TurnLatency
from voicebot.nlu.intents import IntentResult
from voicebot.policy.actions import Say
from voicebot.session.dialogue import Dialogue
from voicebot.session.listener import HeardTurn

if TYPE_CHECKING:
    from voicebot.app.stages import ScriptStages


@dataclass
class _Spoken:
    """Lines handed to the session as one speech, and the caller turn they answer."""

    speech: Any  # livekit SpeechHandle
    lines: list[BotLine]
    turn: Turn | None


class CallRecord:
    """One call's report in the making; `last_line` is what the caller is answering."""

    def __init__(self, report: CallReport, clock: Clock | None = None) -> None:
        self.report = report
        self.clock = clock or RealClock()
        self._wall_origin = time.time() - self.clock.now()
        self._heard: list[tuple[HeardTurn, bool]] = []  # (turn, heard over the bot)
        self._spoken: list[_Spoken] = []
        self.last_line = ""
        self.agent_speaking = False
        self.listening = False  # the caller is heard through the listener (not typed)

    @classmethod
    def of(
        cls,
        stages: ScriptStages,
        contact: dict[str, Any],
        transport: str,
        clock: Clock | None = None,
    ) -> CallRecord:
        """A new call of `stages`' script (voicebot.app.stages.ScriptStages)."""
        report = CallReport(
            call_id=uuid.uuid4().hex[:12],
            script=stages.script.name,
            script_path=str(stages.script_path),
            language=stages.language,
            transport=transport,
            contact=dict(contact),
            models=stages.stages.models,
            config=stages.options.model_dump(mode="json"),
            started_at=datetime.now().isoformat(timespec="seconds"),
        )
        return cls(report, clock)

    def event(self, kind: str, detail: str = "") -> None:
        self.report.timeline.append(
            TimelineEvent(t=round(self.clock.now(), 3), kind=kind, detail=detail)
        )

    def at(self, wall: float) -> float:
        """A wall time (time.time(), as livekit-agents stamps playback) on the call clock."""
        return wall - self._wall_origin

    # --- the caller ----------------------------------------------------------------------------
    def heard(self, turn: HeardTurn) -> None:
        """A turn from the listener: the script answers it when the session next replies."""
        if turn.transcript.text:
            self._heard.append((turn, self.agent_speaking))
            self.listening = True
        else:
            self.event("noise")

    @property
    def unanswered(self) -> list[HeardTurn]:
        """The listener turns with words the script has not answered yet, oldest first."""
        return [turn for turn, _ in self._heard]

    def turn(
        self,
        text: str,
        result: IntentResult,
        node: str,
        intent_at: float,
        policy_at: float,
        heard: HeardTurn | None = None,
    ) -> Turn:
        """A caller turn the script answered, stamped with its listener turn (`heard`, which
        is then answered); a typed turn has none: stamped when it came. A turn heard while
        the bot spoke waited for the bot's line: not a latency sample (`bot_was_speaking`)."""
        if heard is not None:
            over = next(o for t, o in self._heard if t is heard)
            self._heard = [(t, o) for t, o in self._heard if t is not heard]
            latency = TurnLatency(
                speech_start=heard.speech_start,
                speech_end=heard.speech_end,
                endpoint_at=heard.endpoint_at,
                asr_final_at=heard.asr_final_at,
                intent_at=intent_at,
                policy_at=policy_at,
                speculative=heard.speculative,
                bot_was_speaking=over or self.agent_speaking,
            )
            confidence = heard.transcript.confidence
        else:
            latency = TurnLatency(
                speech_start=intent_at,
                speech_end=intent_at,
                endpoint_at=intent_at,
                asr_final_at=intent_at,
                intent_at=intent_at,
                policy_at=policy_at,
            )
            confidence = 1.0
        record = Turn(
            text=text,
            asr_confidence=confidence,
            intent=result.intent,
            confidence=result.confidence,
            runners_up=list(result.runners_up),
            node=node,
            latency=latency,
        )
        self.report.turns.append(record)
        return record

    # --- the bot -------------------------------------------------------------------------------
    def spoken(self, lines: list[Say], speech: Any, turn: Turn | None = None) -> None:
        """Lines given to the session as one speech (`speech`: its SpeechHandle, None when
        unknown), in reply to `turn` or not."""
        if not lines:
            return
        now = self.clock.now()
        bot = [
            BotLine(
                node=line.node,
                text=line.text,
                queued_at=now,
                first_audio_at=None,
                ended_at=None,
                interrupted=False,
            )
            for line in lines
        ]
        self.report.bot_lines.extend(bot)
        self.last_line = lines[-1].text
        if speech is not None:
            self._spoken.append(_Spoken(speech, bot, turn))

    def _played(self, spoken: _Spoken) -> None:
        """When the caller heard a speech: the session's playback stamps on its message."""
        said = [
            item
            for item in spoken.speech.chat_items
            if item.type == "message" and item.role == "assistant"
        ]
        metrics = said[0].metrics if said else {}
        started, stopped = metrics.get("started_speaking_at"), metrics.get("stopped_speaking_at")
        # cut while it played; a speech still open when the session closes is not
        interrupted = said[0].interrupted if said else bool(spoken.speech.interrupted)
        if started is not None:
            spoken.lines[0].first_audio_at = round(self.at(started), 6)
            if spoken.turn is not None:
                spoken.turn.latency.first_audio_at = self.at(started)
        for line in spoken.lines:
            line.interrupted = interrupted
            line.ended_at = round(self.at(stopped), 6) if stopped is not None else None

    # --- the end -------------------------------------------------------------------------------
    def finish(self, dialogue: Dialogue, ended_by: str, otherwise: Outcome) -> CallReport:
        """Close the report: playback stamps, the script path, the outcome (the script's, or
        `otherwise` when it did not end the call)."""
        for spoken in self._spoken:
            self._played(spoken)
        state = dialogue.state
        report = self.report
        report.path = list(state.path) if state else []
        report.outcome = (state.ended if state else None) or otherwise
        report.ended_by = ended_by
        report.duration_s = round(self.clock.now(), 3)
        self.event("end", report.outcome)
        return report
