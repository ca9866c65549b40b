"""The AgentSession of one call of a script, local only. Options that lean on LiveKit Cloud are
pinned off: VAD interruptions, no cloud turn detector, no cloud AMD, no preemptive generation.
The turn itself is the engine's (the STT plugin's listener), with the call options' endpoint,
VAD and speculation settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voicebot.livekit import require

require("livekit.agents")

from livekit.agents import AgentSession  # noqa: E402

from voicebot.livekit.llm import ScriptLLM  # noqa: E402
from voicebot.livekit.stt import WhisperSTT  # noqa: E402
from voicebot.livekit.tts import PiperTTS  # noqa: E402
from voicebot.livekit.vad import WebRtcVAD  # noqa: E402

if TYPE_CHECKING:
    from voicebot.app.stages import ScriptStages


def session_options() -> dict[str, Any]:
    """AgentSession keyword arguments that keep everything local (no LiveKit Cloud models)."""
    return {
        "turn_handling": {
            "turn_detection": "vad",
            # words over a protected line are heard (and answered after it), as on a phone line
            "interruption": {
                "mode": "vad",
                "min_duration": 0.3,
                "discard_audio_if_uninterruptible": False,
            },
            "preemptive_generation": {"enabled": False},
            "endpointing": {"min_delay": 0.1, "max_delay": 1.0},
        },
        "user_away_timeout": None,
    }


def script_session(stages: ScriptStages, script_llm: ScriptLLM) -> AgentSession[Any]:
    """An AgentSession on a script's loaded stages whose stamps go to `script_llm.record`."""
    options, record = stages.options, script_llm.record
    listener = WhisperSTT(
        stages.stages.listener_asr,
        stages.language,
        lambda: record.last_line,
        options.vad_aggressiveness,
        options.endpoint,
        options.speculate,
        record.clock,
        record.heard,
        script_llm.dialogue.expected,
    )
    vad = WebRtcVAD(options.vad_aggressiveness, options.endpoint)
    session: AgentSession[Any] = AgentSession(
        vad=vad, stt=listener, tts=PiperTTS(stages.tts), **session_options()
    )

    def on_state(event: Any) -> None:
        record.agent_speaking = event.new_state == "speaking"

    session.on("agent_state_changed", on_state)
    return session
