"""Secrets in configs (SIP passwords, API secrets): from a file, the environment or the config
itself, in that order; read when needed, never logged or kept in reprs."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import SecretStr

from voicebot.core.errors import ConfigError


def read_secret(what: str, file: Path | None, env: str, value: SecretStr | None) -> str | None:
    """`what` names the secret in errors; None when it is set nowhere."""
    if file is not None:
        try:
            return file.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise ConfigError(f"{file}: cannot read the {what} ({e.strerror})") from None
    if from_env := os.environ.get(env):
        return from_env
    return value.get_secret_value() if value is not None else None
