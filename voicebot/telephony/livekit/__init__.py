"""LiveKit call control: dial out on a LiveKit SIP outbound trunk, transfer, hang up (`calls`),
and the settings (`config`). No media and no script: the agent session in the room is
`voicebot.livekit`.

`calls` needs the optional extra (`pip install 'voicebot[livekit]'`) and says so when it is
missing; `config` needs nothing extra."""

from __future__ import annotations

import importlib
from types import ModuleType

INSTALL = "pip install 'voicebot[livekit]'"


def require(module: str) -> ModuleType:
    """Import a livekit module, or fail with the command that installs it (every LiveKit module
    of voicebot imports through this)."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        raise ImportError(
            f"voicebot's LiveKit adapter needs livekit-agents ({module} is missing): {INSTALL}"
        ) from e
