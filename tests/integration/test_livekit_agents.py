"""The voicebot stages as livekit-agents plugins in a real AgentSession (no server): the recorded
calls the native engine passes give the same outcomes, and typed conversations through the
framework's own test helpers show the script policy's lines and tool calls."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

pytest.importorskip("livekit.agents")

from livekit.agents import AgentSession

from tests.conftest import ROOT
from voicebot.core.clock import RealClock
from voicebot.handoff.agents import SimulatedAgents
from voicebot.session.call import CallOptions
from voicebot.sim.trial import Trial
from voicebot.telephony.livekit.fileio import run_wav_call
from voicebot.telephony.livekit.plugins import ScriptAgent, ScriptLLM

pytestmark = pytest.mark.integration
CALLS = ROOT / "benchmarks" / "data" / "calls"


@pytest.fixture(scope="module")
def survey(store) -> Trial:  # type: ignore[no-untyped-def]
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=90))
    trial.prerender()
    return trial


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


@pytest.mark.parametrize("name", ["cooperative", "refuses", "busy", "asks_for_person",
                                  "talks_over"])  # fmt: skip
def test_recorded_calls_end_as_they_do_on_the_native_engine(survey: Trial, name: str,
                                                            store) -> None:  # type: ignore[no-untyped-def]  # fmt: skip
    expected = json.loads((CALLS / f"{name}.json").read_text())
    call = asyncio.run(run_wav_call(survey, CALLS / f"{name}.wav"))
    assert call.outcome == expected["outcome"]
    for key, value in expected["records"].items():
        assert call.records[key] == value
    assert call.lines[0][0] == "greet" and len(call.turns) >= 2
    if name == "asks_for_person":
        assert call.transfer is not None and "Ann Lee" in call.transfer["summary"]
    if name == "talks_over":  # the caller talks over the bot: playback is cut
        assert any(interrupted for _, interrupted in call.segments)
    if name == "cooperative":  # the caller's ear got the greeting, in words
        rate = survey.tts.rate
        first = call.heard[: int(7.5 * rate)]
        from voicebot.audio.resample import resample

        said = store.asr("en").transcribe(resample(first, rate, 16000)).text
        greet = call.lines[0][1]
        assert len(words(greet) & words(said)) >= 0.6 * len(words(greet)), said


def agent_for(survey: Trial, agents_free: int = 1) -> tuple[ScriptAgent, list[str]]:
    script_llm = ScriptLLM(survey.script, "en", survey.stages.classifier,
                           dict(survey.script.example_contact))  # fmt: skip
    ended: list[str] = []

    async def end(outcome: str) -> None:
        ended.append(outcome)

    pool = SimulatedAgents(RealClock(), free=agents_free, answer_after_s=0.0)
    return ScriptAgent(script_llm, pool.transfer, end), ended


def said(result: Any) -> str:
    return " ".join(e.item.text_content or "" for e in result.events
                    if e.type == "message" and e.item.role == "assistant")  # fmt: skip


def test_typed_turns_follow_the_script_and_end_with_a_tool_call(survey: Trial) -> None:
    async def go() -> None:
        agent, ended = agent_for(survey)
        async with AgentSession(llm=agent.script_llm) as session:
            await session.start(agent)
            result = await session.run(user_input="Yes, speaking.")
            result.expect.next_event().is_message(role="assistant")
            assert "three quick questions" in said(result)
            result = await session.run(user_input="Yes, go ahead.")
            assert "punctuality" in said(result)
            for answer in ("Four.", "Five.", "Nine."):
                await session.run(user_input=answer)
            result = await session.run(user_input="No, that's all.")
            assert "Thank you, Ann Lee" in said(result)
            closing = {"outcome": "completed"}
            result.expect.contains_function_call(name="end_call", arguments=closing)
        assert ended == ["completed"]
        records = agent.script_llm.dialogue.state.recorded()  # type: ignore[union-attr]
        assert (records["survey.punctuality"], records["survey.recommend"]) == (4, 9)

    asyncio.run(go())


def test_asking_for_a_person_is_a_transfer_tool_call_and_no_agent_means_a_callback(
    survey: Trial,
) -> None:
    async def go(free: int) -> tuple[str, list[str], str]:
        agent, ended = agent_for(survey, agents_free=free)
        async with AgentSession(llm=agent.script_llm) as session:
            await session.start(agent)
            await session.run(user_input="Yes, that's me.")
            result = await session.run(user_input="Can I talk to a real person please?")
            why = {"reason": "caller asked for a person"}
            result.expect.contains_function_call(name="transfer_to_agent", arguments=why)
            await asyncio.sleep(0.5)
        return str(agent.script_llm.dialogue.ended), ended, said(result)

    outcome, ended, text = asyncio.run(go(1))
    assert (outcome, ended) == ("transferred", ["transferred"]) and "put you through" in text
    outcome, ended, text = asyncio.run(go(0))  # no agent free: an apology and a callback
    assert (outcome, ended) == ("callback", ["callback"]) and "call you back" in text
