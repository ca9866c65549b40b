"""A contact upload streams: the server copies it to disk in chunks and imports it in batches,
so memory does not grow with the file (a small version of benchmarks/web_console.py)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.web.browser import serve
from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.store import Store
from voicebot.web.auth import add_user, create_token

pytestmark = pytest.mark.integration
NOTE = "x" * 800  # wide rows: the file is large for its number of rows


def _csv(path: Path, rows: int) -> Path:
    with path.open("w") as f:
        f.write("phone,name,notes\n")
        for i in range(rows):
            f.write(f"+1 {212 + i // 10000} 555 {i % 10000:04d},P{i},{NOTE}\n")
    return path


def _peak_during_upload(url: str, token: str, campaign: str, path: Path) -> tuple[int, int]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=300) as http, path.open("rb") as f:
        tracemalloc.start()
        try:
            r = http.post(f"/api/campaigns/{campaign}/contacts", files={"file": ("c.csv", f)})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    r.raise_for_status()
    return r.json()["imported"], peak


def test_upload_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    add_user(store, "op", "operator")
    token = create_token(store, "op")
    for name in ("small", "large"):
        store.create(name, str(ROOT / "prompts" / "survey_en.yaml"), CampaignConfig())
    small, large = _csv(tmp_path / "s.csv", 5_000), _csv(tmp_path / "l.csv", 20_000)
    with serve(store, tmp_path / "out", ROOT / "prompts") as url:
        n_small, peak_small = _peak_during_upload(url, token, "small", small)
        n_large, peak_large = _peak_during_upload(url, token, "large", large)
    assert (n_small, n_large) == (5_000, 20_000)
    size = large.stat().st_size
    assert peak_large < size / 2, (
        f"peak {peak_large / 2**20:.1f} MB for a {size / 2**20:.1f} MB file"
    )
    assert peak_large < 2 * peak_small, (peak_small, peak_large)  # 4x the rows, not 4x the memory
