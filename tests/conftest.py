from __future__ import annotations

from pathlib import Path

import pytest

from voicebot.core.runtime import configure_threads

configure_threads()

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def store():  # type: ignore[no-untyped-def]
    from voicebot.core.stages import ModelStore

    return ModelStore()
