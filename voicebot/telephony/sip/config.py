"""Trunk and hand-off configuration for SIP calls. Secrets come from the environment or a file
and are hidden from repr and logs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from voicebot.core.secrets import read_secret

CODECS = {"PCMU": "PCMU/8000", "PCMA": "PCMA/8000", "G722": "G722/16000"}


class TrunkConfig(BaseModel):
    """Where calls go and how the bot identifies itself."""

    model_config = ConfigDict(extra="forbid")

    uri: str = Field(description="trunk or peer: sip:carrier.example.com, sip:10.0.0.5:5060")
    registrar: str | None = Field(None, description="REGISTER here first (sip:...)")
    username: str | None = Field(None, description="digest auth user")
    password: SecretStr | None = Field(None, description="prefer password_env / password_file")
    password_env: str = Field("VOICEBOT_SIP_PASSWORD", description="env var holding the password")
    password_file: Path | None = Field(None, description="file holding the password (one line)")
    realm: str = Field("*", description="digest realm; * answers any")
    transport: Literal["udp", "tcp", "tls"] = "udp"
    caller_id: str = Field("sip:voicebot@127.0.0.1", description="From URI (and display number)")
    codecs: list[str] = Field(default_factory=lambda: ["PCMU", "PCMA", "G722"])
    outbound_proxy: str | None = None
    bind: str = Field("127.0.0.1", description="local address for SIP and RTP")
    port: int = Field(0, ge=0, le=65535, description="local SIP port; 0 picks one")
    rtp_port: int = Field(40000, ge=1024, le=65000, description="first RTP port")
    ring_timeout_s: float = Field(30.0, gt=0, description="no answer after this: CANCEL")
    trunk_timeout_s: float = Field(5.0, gt=0, description="no response at all: trunk down")
    rtp_timeout_s: float = Field(10.0, gt=0, description="no RTP for this long: the call is dead")
    register_timeout_s: float = Field(10.0, gt=0)
    jitter_ms: tuple[int, int] = Field(
        (20, 120), description="RTP jitter buffer: least and most prefetch, ms (more on bad lines)"
    )
    max_cps: float = Field(
        20.0,
        gt=0,
        le=50,
        description="calls started per second at most (trunks limit it; "
        "PJSIP frees RTP sockets 0.5 s after a call, from a pool of 64)",
    )

    @field_validator("codecs")
    @classmethod
    def _known_codecs(cls, codecs: list[str]) -> list[str]:
        unknown = [c for c in codecs if c.upper() not in CODECS]
        if unknown or not codecs:
            raise ValueError(f"codecs {unknown or '[]'}: choose from {sorted(CODECS)}")
        return [c.upper() for c in codecs]

    def secret(self) -> str | None:
        """The digest password: the password_file, then the environment, then the field."""
        return read_secret("SIP password", self.password_file, self.password_env, self.password)

    @property
    def host(self) -> str:
        """The trunk's host[:port] (what follows the scheme and any user@)."""
        return self.uri.split(":", 1)[-1].split("@")[-1]

    def target(self, number_or_uri: str) -> str:
        """A dialable SIP URI: a full URI is kept, a number goes to the trunk's host."""
        if number_or_uri.startswith(("sip:", "sips:")):
            return number_or_uri
        host = self.host
        suffix = f";transport={self.transport}" if self.transport != "udp" else ""
        return f"sip:{number_or_uri}@{host}{suffix}"


class HandoffConfig(BaseModel):
    """Human agents reached over SIP when the script hands a call off."""

    model_config = ConfigDict(extra="forbid")

    agents: list[str] = Field(default_factory=list, description="agent SIP URIs, tried in order")
    mode: Literal["warm", "blind"] = Field("warm", description="warm: brief the agent first")
    ring_s: float = Field(15.0, gt=0, description="ring each agent this long")
    answer_within_s: float = Field(30.0, gt=0, description="give up on all agents after this")
    webhook: str | None = Field(None, description="POST the hand-off summary JSON here (https)")
    webhook_secret: SecretStr | None = Field(None, description="prefer webhook_secret_env/_file")
    webhook_secret_env: str = Field("VOICEBOT_WEBHOOK_SECRET", description="env var: HMAC key")
    webhook_secret_file: Path | None = Field(None, description="file holding the HMAC key")
    webhook_allow_local_http: bool = Field(
        False, description="allow http:// to this machine (127.0.0.1, localhost, ::1) only"
    )

    @model_validator(mode="after")
    def _safe_webhook(self) -> HandoffConfig:
        if self.webhook is None:
            return self
        url = urlsplit(self.webhook)
        local = url.hostname in ("127.0.0.1", "localhost", "::1")
        if url.scheme != "https" and not (
            url.scheme == "http" and local and self.webhook_allow_local_http
        ):
            raise ValueError(
                "handoff.webhook: the caller summary is personal data: use https "
                "(http only to this machine, with webhook_allow_local_http)"
            )
        if not self.webhook_key():
            raise ValueError(
                f"handoff.webhook: no signing key (webhook_secret_file, "
                f"${self.webhook_secret_env} or webhook_secret)"
            )
        return self

    def webhook_key(self) -> str | None:
        """The HMAC key that signs webhook posts: the file, then the environment, then the field."""
        return read_secret(
            "webhook secret", self.webhook_secret_file, self.webhook_secret_env, self.webhook_secret
        )


class SipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trunk: TrunkConfig
    handoff: HandoffConfig = Field(default_factory=HandoffConfig)
