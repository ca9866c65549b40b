"""What a plain install brings: livekit-agents only with the `livekit` extra."""

from __future__ import annotations

import tomllib

from tests.conftest import ROOT


def test_livekit_agents_is_an_extra_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("livekit")]
    assert any(d.startswith("livekit-agents") for d in project["optional-dependencies"]["livekit"])
