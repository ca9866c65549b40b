"""LiveKit: the voicebot stages as livekit-agents plugins, and outbound calls through LiveKit SIP.

Needs the optional extra: `pip install 'voicebot[livekit]'` (livekit-agents 1.8). Importing a
module of this package without it raises ImportError with that command; the configuration
(`voicebot.telephony.livekit.config`) needs nothing extra."""

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
