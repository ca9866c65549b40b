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

from voicebot.telephony.livekit import INSTALL, require

__all__ = ["INSTALL", "require"]
