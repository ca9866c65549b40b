"""The LLM plugin: the script policy behind the LLM interface. The reply to the caller's last
message is the script's lines for it; a hand-off and the end of the call come out as tool calls
(`transfer_to_agent`, `end_call`) that `ScriptAgent` carries out. Each answered turn goes into
the call report with its intent and policy stamps on the call clock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import DEFAULT_API_CONNECT_OPTIONS, APIConnectOptions, llm  # noqa: E402
from livekit.agents.voice.agent_activity import _SpeechHandleContextVar  # noqa: E402

from voicebot.livekit.actions import Reply, ScriptActions  # noqa: E402
from voicebot.livekit.record import CallRecord  # noqa: E402
from voicebot.metrics.report import CallReport, Turn  # noqa: E402
from voicebot.nlu.intents import IntentClassifier, IntentResult  # noqa: E402
from voicebot.policy.schema import Script  # noqa: E402
from voicebot.session.dialogue import Dialogue  # noqa: E402
from voicebot.session.listener import HeardTurn  # noqa: E402


class ScriptLLM(llm.LLM):
    """`record`: the call's report (a fresh one, on its own clock, when not given); `now`: the
    call's wall time, for dates like "tomorrow" (default: the start of the call plus its
    clock)."""

    def __init__(
        self,
        script: Script,
        language: str,
        classifier: IntentClassifier,
        contact: dict[str, Any],
        now: Callable[[], datetime] | None = None,
        record: CallRecord | None = None,
    ) -> None:
        super().__init__()
        self.script, self.classifier = script, classifier
        self.dialogue = Dialogue(script, language, classifier, contact)
        self.record = record or CallRecord(
            CallReport(
                call_id=uuid.uuid4().hex[:12],
                script=script.name,
                script_path="",
                language=language,
                transport="AgentSession",
                contact=dict(contact),
            )
        )
        started = datetime.now().astimezone()  # aware: callback times keep their zone
        self.now = now or (lambda: started + timedelta(seconds=self.record.clock.now()))
        self.actions = ScriptActions(self.record)
        self.after_protected: Callable[[], None] = lambda: None  # the agent answers held words
        self._started = False
        self._answered: set[str] = set()  # ids of the user messages already replied to

    @property
    def model(self) -> str:
        return f"script:{self.script.name}"

    @property
    def provider(self) -> str:
        return "voicebot"

    @property
    def last_line(self) -> str:
        return self.record.last_line

    def chat(
        self,
        *,
        chat_ctx: llm.ChatContext,
        tools: list[Any] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        **_: Any,
    ) -> _ScriptStream:
        stream = _ScriptStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )
        stream.speech = _SpeechHandleContextVar.get(None)  # the speech this reply becomes
        return stream

    async def respond(self, chat_ctx: llm.ChatContext, speech: Any = None) -> Reply:
        """The script's reply: to every caller turn the listener heard since the last reply,
        in order (as a phone call answers each), or, typed, to the newest user message."""
        if not self._started:
            self._started = True
            reply = await self.actions.run(self.dialogue.start())
            self._spoken(reply, speech)
            return reply
        if self.dialogue.ended:
            return Reply()
        if self.record.listening:
            return await self._answer_heard(speech)
        user = next(
            (
                item
                for item in reversed(chat_ctx.items)
                if item.type == "message" and item.role == "user"
            ),
            None,
        )
        if user is None or user.id in self._answered:
            return Reply()  # e.g. the framework asking again after a tool ran: nothing new
        self._answered.add(user.id)
        text = (user.text_content or "").strip()
        if not text:
            reply = await self.actions.run(self.dialogue.silence())
            self._spoken(reply, speech)
            return reply
        [(result, intent_at)] = await self._classify([text])
        return await self._step(text, result, intent_at, None, speech)

    async def _answer_heard(self, speech: Any) -> Reply:
        heard = self.record.unanswered
        # the only wait: nothing is answered until every turn is classified, so a reply the
        # session drops here (the caller spoke again) leaves the turns for the next one
        classified = await self._classify([turn.transcript.text for turn in heard])
        reply = Reply()
        for turn, (result, intent_at) in zip(heard, classified, strict=True):
            if self.dialogue.ended:
                break
            answer = await self._step(turn.transcript.text, result, intent_at, turn, speech)
            reply.lines += answer.lines
            reply.tools += answer.tools
        return reply

    async def _classify(self, texts: list[str]) -> list[tuple[IntentResult, float]]:
        clock = self.record.clock
        out = []
        for text in texts:
            result = await clock.run_blocking(self.classifier.classify, text)
            out.append((result, clock.now()))
        return out

    async def _step(
        self,
        text: str,
        result: IntentResult,
        intent_at: float,
        heard: HeardTurn | None,
        speech: Any,
    ) -> Reply:
        """One caller turn through the policy, into the report, its actions carried out."""
        node = self.dialogue.state.node if self.dialogue.state else ""
        transcript = heard.transcript if heard is not None else None  # typed turns: none
        actions = self.dialogue.heard(text, result, self.now(), transcript)
        policy_at = self.record.clock.now()
        turn = self.record.turn(text, result, node, intent_at, policy_at, heard)
        reply = await self.actions.run(actions)
        self._spoken(reply, speech, turn)
        return reply

    def _spoken(self, reply: Reply, speech: Any, turn: Turn | None = None) -> None:
        """Into the report; a protected line (the script's `protected`) makes its speech one
        that barge-in cannot cut, as on a phone line. The session drops a user turn that ends
        over such a speech, so the words are answered once it is over (`after_protected`)."""
        self.record.spoken(reply.lines, speech, turn)
        protected = any(line.protected for line in reply.lines)
        if protected and speech is not None and not speech.interrupted:
            speech.allow_interruptions = False
            speech.add_done_callback(lambda _: self.after_protected())

    async def handoff(self, connected: bool) -> Reply:
        if self.record.report.transfer is not None:
            self.record.report.transfer["connected"] = connected
        return await self.actions.run(self.dialogue.handoff(connected))

    async def keypress(self, digit: str) -> Reply:
        self.record.event("dtmf")  # the digit itself may be personal (an account number)
        return await self.actions.run(self.dialogue.keypress(digit, self.now()))


class _ScriptStream(llm.LLMStream):
    speech: Any = None

    async def _run(self) -> None:
        owner: ScriptLLM = self._llm  # type: ignore[assignment]
        reply = await owner.respond(self.chat_ctx, self.speech)
        chunk_id = uuid.uuid4().hex
        if reply.lines:
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=chunk_id, delta=llm.ChoiceDelta(role="assistant", content=reply.text)
                )
            )
        if reply.tools:
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=chunk_id,
                    delta=llm.ChoiceDelta(
                        role="assistant",
                        tool_calls=[
                            llm.FunctionToolCall(
                                name=name,
                                arguments=json.dumps(args),
                                call_id=f"call_{uuid.uuid4().hex[:8]}",
                            )
                            for name, args in reply.tools
                        ],
                    ),
                )
            )
