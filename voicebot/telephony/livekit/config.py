"""LiveKit settings: server URL, API key and secret (from the environment or a secrets file,
never logged), the outbound SIP trunk, timeouts."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from voicebot.core.errors import ConfigError
from voicebot.core.secrets import read_secret


class LiveKitConfig(BaseModel):
    """The LiveKit server and its outbound SIP trunk. How long a call may last is the call
    options' `max_call_s` (LiveKit is told that plus a grace, as a server-side cap)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="LiveKit server, e.g. https://livekit.example.com or ws://...")
    api_key: str = ""
    api_key_env: str = "LIVEKIT_API_KEY"
    api_secret: SecretStr | None = None
    api_secret_env: str = "LIVEKIT_API_SECRET"
    api_secret_file: Path | None = None
    sip_trunk_id: str = Field("", description="the outbound trunk (ST_...) calls go out on")
    caller_id: str = Field("", description="the number shown to the callee (the trunk's own)")
    ring_timeout_s: float = Field(30.0, gt=0)
    request_timeout_s: float = Field(10.0, gt=0, description="API calls other than dialling")
    room_prefix: str = "voicebot-"

    def key(self) -> str:
        key = self.api_key or os.environ.get(self.api_key_env, "")
        if not key:
            raise ConfigError(f"livekit.api_key: not set (nor ${self.api_key_env})")
        return key

    def secret(self) -> str:
        """The API secret: api_secret_file, then the environment, then the field."""
        secret = read_secret(
            "LiveKit API secret", self.api_secret_file, self.api_secret_env, self.api_secret
        )
        if not secret:
            raise ConfigError(
                f"livekit.api_secret: not set (nor ${self.api_secret_env}, nor api_secret_file)"
            )
        return secret


class LiveKitOutbound(BaseModel):
    """The `livekit:` section of a voicebot config: the server, and where hand-offs go."""

    model_config = ConfigDict(extra="forbid")

    server: LiveKitConfig
    agents: list[str] = Field(
        default_factory=list, description="transfer targets in order (tel:+1... or sip:...)"
    )
    transfer_ring_s: float = Field(30.0, gt=0)
    bot_identity: str = "voicebot"
