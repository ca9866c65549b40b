"""The LiveKit Agents integration: voicebot's engine inside a livekit-agents `AgentSession`.

One module per adapter: `vad` (webrtcvad + the engine's end of turn), `stt` (the engine's
listener: end of turn, speculative decode, latency stamps), `tts` (piper through the line cache),
`llm` (the script policy), `agent` (greeting, hand-off and hang-up as tool calls), `session`
(the local-only AgentSession of a script), `record` (the call report a LiveKit call writes),
`worker` (campaign dials through LiveKit SIP) and `fileio` (recorded calls from WAV files).
Call control itself (dial, transfer, hang up) is `voicebot.telephony.livekit`.

Needs the optional extra: `pip install 'voicebot[livekit]'` (livekit-agents 1.8). Importing an
adapter module without it raises ImportError with that command."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = "pip install 'voicebot[livekit]'"


def require(module: str) -> ModuleType:
    """Import a livekit module, or fail with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"voicebot's LiveKit adapter needs livekit-agents ({module} is missing): {INSTALL}"
        ) from e
