"""Signed webhook posts (the SMS a script promises, the hand-off summary): JSON over https (http
only to this machine, and only when allowed), the HMAC-SHA256 of `<timestamp>.<body>` under a
shared key in `X-Voicebot-Signature`, a few retries on network errors, 429 and 5xx. What came
of a post is returned (`Delivery`), never logged with the URL (it may hold tokens) or the body
(it holds personal data)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from voicebot.core.secrets import read_secret

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def signature(key: str, body: bytes, now: float) -> dict[str, str]:
    """Headers that let the receiver check a post came from us and is fresh: the HMAC-SHA256
    of `<timestamp>.<body>` under the shared key."""
    stamp = str(int(now))
    mac = hmac.new(key.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {"X-Voicebot-Timestamp": stamp, "X-Voicebot-Signature": f"sha256={mac}"}


class Webhook(BaseModel):
    """Where signed posts go, and the key that signs them."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="https URL the JSON is posted to")
    secret: SecretStr | None = Field(None, description="prefer secret_env / secret_file")
    secret_env: str = Field("VOICEBOT_WEBHOOK_SECRET", description="env var: the HMAC key")
    secret_file: Path | None = Field(None, description="file holding the HMAC key")
    allow_local_http: bool = Field(
        False, description="allow http:// to this machine (127.0.0.1, localhost, ::1) only"
    )
    attempts: int = Field(3, ge=1, le=10, description="tries on network errors, 429 and 5xx")
    timeout_s: float = Field(5.0, gt=0, le=30, description="per try")
    backoff_s: float = Field(0.5, ge=0, le=10, description="wait before try n: backoff * 2^(n-2)")

    @model_validator(mode="after")
    def _safe(self) -> Webhook:
        url = urlsplit(self.url)
        local = url.hostname in LOCAL_HOSTS
        if url.scheme != "https" and not (url.scheme == "http" and local and self.allow_local_http):
            raise ValueError(
                "webhook url: the posts carry personal data: use https "
                "(http only to this machine, with allow_local_http)"
            )
        if not self.key():
            raise ValueError(f"webhook: no signing key (secret_file, ${self.secret_env} or secret)")
        return self

    def key(self) -> str | None:
        """The HMAC key: the file, then the environment, then the field."""
        return read_secret("webhook secret", self.secret_file, self.secret_env, self.secret)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What came of one post: `status` is the last HTTP status (None: no answer)."""

    ok: bool
    tries: int
    status: int | None
    error: str | None = None

    def as_record(self) -> dict[str, Any]:
        return {"sent": self.ok, "tries": self.tries, "status": self.status, "error": self.error}


def post_signed(
    hook: Webhook,
    payload: dict[str, Any],
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.time,
) -> Delivery:
    """POST `payload` as signed JSON; retried on network errors, 429 and 5xx with a doubling
    backoff; a 2xx is a delivery, any other 4xx is final (the receiver refused it)."""
    body = json.dumps(payload, ensure_ascii=False).encode()
    key = hook.key() or ""
    status: int | None = None
    error: str | None = None
    for attempt in range(1, hook.attempts + 1):
        if attempt > 1:
            sleep(hook.backoff_s * 2 ** (attempt - 2))
        headers = {"Content-Type": "application/json", **signature(key, body, now())}
        request = urllib.request.Request(hook.url, body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=hook.timeout_s) as response:
                response.read()
                status = response.status
            return Delivery(True, attempt, status)
        except urllib.error.HTTPError as e:
            status, error = e.code, f"HTTP {e.code}"
            if e.code != 429 and e.code < 500:
                return Delivery(False, attempt, status, error)
        except OSError as e:  # refused, reset, timed out: the URL is not quoted (tokens)
            status, error = None, type(e).__name__
    return Delivery(False, hook.attempts, status, error)
