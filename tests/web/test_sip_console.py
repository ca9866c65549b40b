"""A campaign started from the operator console over the server's SIP trunk: real calls
(PJSIP against a baresip callee on loopback) whose outcomes land in the store and on the
wallboard; without a trunk in the server's config the start is refused with a reason."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT
from tests.web.conftest import PASSWORD, Console
from tests.web.test_api import _campaign, _upload
from voicebot.app.config import VoicebotConfig
from voicebot.campaign.store import Store
from voicebot.sim.baresip import BaresipPeer, free_port
from voicebot.telephony.sip.config import SipConfig, TrunkConfig
from voicebot.web.app import create_app
from voicebot.web.auth import add_user, create_token

pytest.importorskip("pjsua2")
pytestmark = pytest.mark.integration


def _console(tmp_path: Path, config: VoicebotConfig | None) -> tuple[TestClient, Console]:
    store = Store(f"sqlite:///{tmp_path / 'console.db'}")
    add_user(store, "operator", "operator", PASSWORD)
    token = create_token(store, "operator")
    app = create_app(store, tmp_path / "out", ROOT / "prompts", config=config)
    client = TestClient(app)
    return client, Console(client, store, tmp_path / "out", {"operator": token})


def test_a_console_campaign_dials_real_calls_over_the_sip_trunk(tmp_path: Path) -> None:
    with BaresipPeer(
        tmp_path, "+12125550100", answer="busy", rtp_base=free_port() // 2 * 2
    ) as callee:
        trunk = TrunkConfig(uri=f"sip:127.0.0.1:{callee.sip_port}", rtp_port=free_port())
        client, console = _console(tmp_path, VoicebotConfig(sip=SipConfig(trunk=trunk)))
        with client:
            _campaign(console)
            assert _upload(console, "phone,name\n+1 212 555 0100,Ann\n").json()["imported"] == 1
            op = console.auth("operator")
            r = client.post("/api/campaigns/spring/start", headers=op, json={"trunk": "sip"})
            assert r.status_code == 200, r.text

            def status() -> dict[str, Any]:
                return client.get("/api/campaigns/spring", headers=op).json()

            deadline = time.monotonic() + 120  # the script's models load, then one SIP dial
            while status()["ended"] < 1:
                assert time.monotonic() < deadline, status()
                time.sleep(0.2)
            board = status()
    assert board["outcomes"] == {"busy": 1}  # the callee's 486, through PJSIP and the dialer
    assert board["ringing"] == 0 and board["talking"] == 0


def test_the_sip_trunk_needs_one_in_the_servers_config(tmp_path: Path) -> None:
    client, console = _console(tmp_path, None)
    with client:
        _campaign(console)
        _upload(console, "phone,name\n+1 212 555 0100,Ann\n")
        r = client.post(
            "/api/campaigns/spring/start", headers=console.auth("operator"), json={"trunk": "sip"}
        )
    assert r.status_code == 400 and "sip:" in r.json()["detail"]
