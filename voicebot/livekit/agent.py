"""The agent: greets with the script's opening and carries out its tool calls. `transfer` asks
the transport to hand the caller to a human; `end` hangs up once the last line is heard. Phone
keys go through the script the same way (`keypress`)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import Agent, RunContext, function_tool  # noqa: E402

from voicebot.livekit.actions import Reply  # noqa: E402
from voicebot.livekit.llm import ScriptLLM  # noqa: E402

HELD_S = 0.3  # after a protected line: a user turn the session commits itself comes first
Transferrer = Callable[[str, str], Awaitable[bool]]  # (reason, summary) -> connected
Ender = Callable[[str], Awaitable[None]]  # outcome -> hang up


class ScriptAgent(Agent):
    """The script's agent in an AgentSession; `outcome` is set once the call is ended."""

    def __init__(
        self, script_llm: ScriptLLM, transfer: Transferrer | None = None, end: Ender | None = None
    ) -> None:
        super().__init__(
            instructions=f"Follow the call script {script_llm.script.name}.", llm=script_llm
        )
        self.script_llm = script_llm
        self._transfer, self._end = transfer, end
        self.outcome: str | None = None
        self._ending: asyncio.Future[None] | None = None
        self._held: asyncio.Future[None] | None = None
        script_llm.after_protected = self._protected_done

    async def on_enter(self) -> None:
        self.session.generate_reply()

    def _protected_done(self) -> None:
        self._held = asyncio.ensure_future(self._answer_held())

    async def _answer_held(self) -> None:
        """The caller's words that ended over a protected line, answered now (as a phone call
        answers them once the line is played)."""
        await asyncio.sleep(HELD_S)
        if self.script_llm.record.unanswered and not self.script_llm.dialogue.ended:
            self.session.generate_reply()

    @function_tool
    async def transfer_to_agent(self, context: RunContext, reason: str) -> None:
        """Hand the caller to a human agent (the script decided it)."""
        await context.wait_for_playout()
        record = self.script_llm.record
        summary = (record.report.transfer or {}).get("summary", "")
        record.event("transfer", reason)
        connected = await self._transfer(reason, summary) if self._transfer else False
        self.deliver(await self.script_llm.handoff(connected))

    @function_tool
    async def end_call(self, context: RunContext, outcome: str) -> None:
        """End the call: the script reached its closing."""
        await context.wait_for_playout()
        await self._finish(outcome, [])

    async def keypress(self, digit: str) -> None:
        """A phone key the caller pressed ("press 1 to confirm")."""
        self.deliver(await self.script_llm.keypress(digit))

    def deliver(self, reply: Reply) -> None:
        """Say the reply's lines; once the script has ended the call, hang up after them (the
        hang-up waits outside the tool: speech waits for the tool)."""
        handles = []
        for line in reply.lines:
            handle = self.session.say(line.text, allow_interruptions=not line.protected)
            self.script_llm.record.spoken([line], handle)
            handles.append(handle)
        if self.script_llm.dialogue.ended:  # e.g. "connecting you now": hang up once it is said
            outcome = str(self.script_llm.dialogue.ended)
            self._ending = asyncio.ensure_future(self._finish(outcome, handles))

    async def _finish(self, outcome: str, handles: list[Any]) -> None:
        for handle in handles:
            await handle.wait_for_playout()
        self.outcome = outcome
        if self._end is not None:
            await self._end(outcome)
