from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.core.runtime import configure_threads

configure_threads()

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def store():  # type: ignore[no-untyped-def]
    from voicebot.models.store import ModelStore

    return ModelStore()


@pytest.fixture(scope="session")
def postgres_server():  # type: ignore[no-untyped-def]
    import shutil
    import tempfile

    from tests.campaign_db import postgres

    root = Path(tempfile.mkdtemp(prefix="voicebot-pg-"))  # the postgres user must reach it
    yield from postgres(root)
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:  # type: ignore[no-untyped-def]
    """The campaign store's database: each test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'campaign.db'}"
    return str(request.getfixturevalue("postgres_server").new_database())
