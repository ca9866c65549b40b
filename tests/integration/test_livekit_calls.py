"""The LiveKit call-control client against a fake LiveKit server API on loopback: tokens and
grants, the requests it sends, and SIP statuses mapped to the same outcomes as direct SIP."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

pytest.importorskip("livekit.api")

from tests.conftest import ROOT
from tests.fake_livekit import FakeLiveKit
from voicebot.telephony.livekit.calls import LiveKitCalls, LiveKitError
from voicebot.telephony.livekit.config import LiveKitConfig

pytestmark = pytest.mark.integration
T = TypeVar("T")


@pytest.fixture(scope="module")
def survey(store):  # type: ignore[no-untyped-def]
    from voicebot.sim.trial import Trial

    return Trial(ROOT / "prompts" / "survey_en.yaml", store)


def config(server: FakeLiveKit, **kw: object) -> LiveKitConfig:
    settings = {
        "url": server.url,
        "api_key": server.key,
        "api_secret": server.secret,
        "sip_trunk_id": "ST_outbound",
        "caller_id": "+15550001000",
        "ring_timeout_s": 25.0,
        **kw,
    }
    return LiveKitConfig.model_validate(settings)


def run(server: FakeLiveKit, body: Callable[[LiveKitCalls], Awaitable[T]], **kw: object) -> T:
    async def go() -> T:
        async with LiveKitCalls(config(server, **kw)) as calls:
            return await body(calls)

    return asyncio.run(go())


def test_an_answered_call_is_transferred_and_hung_up_by_deleting_its_room() -> None:
    with FakeLiveKit(numbers={"+15551230001": 200}) as server:

        async def body(calls: LiveKitCalls) -> tuple[object, ...]:
            call = await calls.dial("+15551230001", attributes={"campaign": "spring"})
            moved = await calls.transfer(call, "sip:agent@pbx.example.com")
            await calls.hang_up(call)
            return call, moved

        call, moved = run(server, body)
    assert call.answered and call.control.state == "ended"  # type: ignore[attr-defined]
    assert (call.participant_id, call.sip_call_id) == ("PA_fake", "SCL_fake")  # type: ignore[attr-defined]
    assert moved.ok and moved.code == 200  # type: ignore[attr-defined]
    methods = [m for m, _, _ in server.requests]
    assert methods == ["CreateSIPParticipant", "TransferSIPParticipant", "DeleteRoom"]
    _, create, claims = server.requests[0]
    assert create.sip_trunk_id == "ST_outbound" and create.sip_number == "+15550001000"
    assert create.wait_until_answered and create.ringing_timeout.seconds == 25
    assert not create.krisp_enabled and create.room_name.startswith("voicebot-")
    assert create.participant_attributes["campaign"] == "spring"
    assert claims["sip"]["call"] and claims["iss"] == server.key
    _, transfer, claims = server.requests[1]
    assert transfer.transfer_to == "sip:agent@pbx.example.com"
    assert transfer.room_name == create.room_name and claims["video"]["room"] == create.room_name
    assert server.rooms == set()  # the room is gone


STATUSES = [
    (486, "busy"),
    (603, "declined"),
    (480, "no_answer"),
    (408, "no_answer"),
    (488, "incompatible"),
    (404, "failed"),
]


@pytest.mark.parametrize(("status", "outcome"), STATUSES)
def test_sip_statuses_map_to_the_same_outcomes_as_direct_sip(status: int, outcome: str) -> None:
    with FakeLiveKit(numbers={"+15551230002": status}) as server:
        call = run(server, lambda calls: calls.dial("+15551230002"))
    control = call.control
    assert (control.outcome, control.final_code) == (outcome, status)
    assert not call.answered and control.ended_by == "callee"
    if status == 486:
        assert control.final_reason == "Busy Here"
        assert [h.state for h in control.history] == ["dialing", "ended"]


def test_a_failed_transfer_and_a_server_that_is_down() -> None:
    with FakeLiveKit(numbers={"+15551230003": 200}, transfers={"tel:+15550009999": 486}) as s:

        async def body(calls: LiveKitCalls) -> object:
            call = await calls.dial("+15551230003")
            return await calls.transfer(call, "tel:+15550009999")

        moved = run(s, body)
    assert not moved.ok and moved.code == 486  # type: ignore[attr-defined]
    down = FakeLiveKit()
    down.port = 9  # discard port: nothing listens
    call = run(down, lambda calls: calls.dial("+15551230003"))
    assert call.control.outcome == "failed" and call.control.ended_by == "network"
    assert "unreachable" in call.control.final_reason


def test_a_wrong_secret_or_trunk_is_a_clear_error_not_an_outcome() -> None:
    with FakeLiveKit(numbers={"+15551230004": 200}) as server:
        with pytest.raises(LiveKitError, match=r"refused the dial .*unauthenticated"):
            run(
                server,
                lambda calls: calls.dial("+15551230004"),
                api_secret="wrong-secret-that-is-long-enough-for-hs256",
            )
        call = run(server, lambda calls: calls.dial("+15551230004"), sip_trunk_id="nope")
    assert call.control.outcome == "failed" and "not_found" in call.control.final_reason


def test_the_secret_comes_from_the_environment_and_is_never_shown(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LIVEKIT_API_SECRET", "s3cret-value")
    settings = LiveKitConfig(url="http://127.0.0.1:1", api_key="k")
    assert settings.secret() == "s3cret-value"
    assert "s3cret" not in repr(LiveKitConfig(url="x", api_key="k", api_secret="s3cret-value"))


def test_without_the_extra_the_adapter_says_how_to_install_it() -> None:
    probe = (
        "import sys; sys.modules['livekit'] = None\n"
        "try:\n    import voicebot.telephony.livekit.calls\n"
        "except ImportError as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert "pip install 'voicebot[livekit]'" in done.stdout, done.stderr


def test_the_campaign_placer_records_busy_and_gives_up_a_room_it_cannot_join(survey) -> None:  # type: ignore[no-untyped-def]
    from voicebot.campaign.dialer import Dial
    from voicebot.livekit.worker import LiveKitPlacer
    from voicebot.telephony.livekit.config import LiveKitOutbound

    with FakeLiveKit(numbers={"+15551230005": 486, "+15551230006": 200}) as server:
        settings = LiveKitOutbound(server=config(server), agents=["sip:agent@pbx.example.com"])

        async def go() -> list[str]:
            async with LiveKitCalls(settings.server) as calls:
                placer = LiveKitPlacer(survey, settings, calls)
                busy = await placer.place(Dial(1, 1, "+15551230005", "Ann", {}, 1))
                # answered, but this fake has no media server: the bot cannot join the room
                lost = await placer.place(Dial(2, 2, "+15551230006", "Bo", {}, 1))
                return [busy.outcome, lost.outcome]

        assert asyncio.run(go()) == ["busy", "failed"]
    methods = [m for m, _, _ in server.requests]
    assert methods == ["CreateSIPParticipant", "CreateSIPParticipant", "DeleteRoom"]
    assert server.rooms == set()  # the answered callee was not left in a room alone
    assert server.requests[0][1].participant_attributes["attempt"] == "1"


def test_every_dial_writes_a_report_and_livekit_caps_calls_past_the_deadline(survey, tmp_path):  # type: ignore[no-untyped-def]
    from voicebot.campaign.dialer import Dial
    from voicebot.livekit.worker import SERVER_GRACE_S, LiveKitPlacer
    from voicebot.metrics.report import CallReport
    from voicebot.telephony.livekit.config import LiveKitOutbound

    with FakeLiveKit(numbers={"+15551230007": 486}) as server:
        settings = LiveKitOutbound(server=config(server))

        async def go() -> object:
            async with LiveKitCalls(settings.server) as calls:
                placer = LiveKitPlacer(survey, settings, calls, reports=tmp_path)
                return await placer.place(Dial(3, 3, "+15551230007", "Cy", {}, 1))

        result = asyncio.run(go())
    create = server.requests[0][1]
    deadline = survey.options.max_call_s + SERVER_GRACE_S  # the call options' deadline
    assert create.max_call_duration.seconds == int(deadline)
    report = CallReport.model_validate_json(Path(result.report_path).read_text())  # type: ignore[attr-defined]
    assert (report.outcome, report.script, report.transport) == ("busy", "survey_en", "LiveKit")
    assert report.signalling is not None and report.signalling["final_code"] == 486
    assert report.contact["name"] == "Cy"
    assert report.config["max_call_s"] == survey.options.max_call_s


def test_a_livekit_setting_that_is_gone_is_an_error_not_ignored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from voicebot.app.config import VoicebotConfig
    from voicebot.core.errors import ConfigError

    path = tmp_path / "voicebot.yaml"
    path.write_text("livekit:\n  server:\n    url: http://127.0.0.1:7880\n    max_call_s: 600\n")
    with pytest.raises(ConfigError, match=r"livekit\.server\.max_call_s"):
        VoicebotConfig.load(path)
    path.write_text("call:\n  max_call_s: 120\nlivekit:\n  server:\n    url: http://x:7880\n")
    assert VoicebotConfig.load(path).call.max_call_s == 120


def test_a_livekit_campaign_that_promises_recording_records_its_calls(tmp_path: Path) -> None:
    """The survey says "this call is recorded": the LiveKit campaign's placer records every
    answered call into the reports' recordings folder (the recorder itself is tested on a real
    AgentSession in test_livekit_agents.py; this fake server has no media)."""
    import argparse

    from voicebot.app.campaign_cli import _placer
    from voicebot.campaign.config import CampaignConfig
    from voicebot.campaign.dialer import WallClock
    from voicebot.campaign.store import Store
    from voicebot.core.clock import RealClock

    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    store.create("lk", "prompts/survey_en.yaml", CampaignConfig())
    config = tmp_path / "voicebot.yaml"
    config.write_text(
        "livekit:\n  server: {url: 'http://127.0.0.1:9', api_key: k, api_secret: s}\n",
        encoding="utf-8",
    )
    args = argparse.Namespace(
        name="lk", transport="livekit", config=str(config), reports=str(tmp_path / "reports")
    )

    async def build() -> Path | None:
        async with _placer(store, args, RealClock(), WallClock()) as placer:
            return placer.record_to  # type: ignore[no-any-return]

    assert asyncio.run(build()) == tmp_path / "reports" / "recordings"
