"""A console app on a fresh SQLite store with one user per role and their API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT
from voicebot.campaign.store import Store
from voicebot.web.app import create_app
from voicebot.web.auth import add_user, create_token

PASSWORD = "correct horse battery"


@dataclass
class Console:
    client: TestClient
    store: Store
    out: Path
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    tokens = {}
    for role in ("viewer", "operator", "admin"):
        add_user(store, role, role, PASSWORD)
        tokens[role] = create_token(store, role)
    app = create_app(store, tmp_path / "out", ROOT / "prompts")
    with TestClient(app) as client:
        yield Console(client, store, tmp_path / "out", tokens)
