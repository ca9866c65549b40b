"""Human agents the bot hands calls to. The SIP transport brings real agent UAs; the simulated
pool answers (or not) after a delay on the call clock."""

from __future__ import annotations

from typing import Protocol

from voicebot.core.clock import Clock


class AgentPool(Protocol):
    async def transfer(self, reason: str, summary: str) -> bool:
        """Reach a free agent and pass the call over; False when none answered in time."""
        ...


class SimulatedAgents:
    """`free` agents, each taken by one transfer; answering takes `answer_after_s`."""

    def __init__(self, clock: Clock, free: int = 1, answer_after_s: float = 2.0) -> None:
        self.clock = clock
        self.free = free
        self.answer_after_s = answer_after_s
        self.handed: list[tuple[str, str]] = []

    async def transfer(self, reason: str, summary: str) -> bool:
        await self.clock.sleep(self.answer_after_s)
        if self.free <= 0:
            return False
        self.free -= 1
        self.handed.append((reason, summary))
        return True
