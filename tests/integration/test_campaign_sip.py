"""A campaign over real SIP (PJSIP against a baresip callee on loopback): with recording on,
the call leaves a stereo WAV (left: bot, right: callee), linked from the export, whose bot side
transcribes to the script's greeting."""

from __future__ import annotations

import asyncio
import json
import re
import wave
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.integration.test_campaign import ALWAYS, write_csv
from voicebot.audio.resample import resample
from voicebot.campaign.config import CampaignConfig
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import Dialer, WallClock, WorkerSettings
from voicebot.campaign.models import Attempt
from voicebot.campaign.report import export
from voicebot.campaign.store import Store
from voicebot.policy.schema import filled, text_of
from voicebot.session.call import CallOptions
from voicebot.sim.baresip import BaresipPeer, free_port
from voicebot.sim.trial import Trial

pytest.importorskip("pjsua2")
pytestmark = pytest.mark.integration
CALLS = ROOT / "benchmarks" / "data" / "calls"
ONCE = WorkerSettings(until_idle=True)  # a retry is hours away: do not wait for it


def test_a_recorded_sip_campaign_call_leaves_a_stereo_wav_of_the_greeting(
    store,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from voicebot.app.outbound import SipCaller
    from voicebot.app.trunks import SipTrunk
    from voicebot.telephony.sip.config import SipConfig, TrunkConfig
    from voicebot.telephony.sip.stack import SipStack

    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=60))
    trial.prerender()
    db = Store(f"sqlite:///{tmp_path / 'sip.db'}")
    db.create("sip", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS, recording=True))
    row = {**trial.script.example_contact, "phone": "+1 212 555 0100"}
    import_contacts(db, "sip", write_csv(tmp_path / "c.csv", [row]))
    reports = tmp_path / "reports"
    audio = CALLS / "cooperative.wav"
    with BaresipPeer(
        tmp_path, "+12125550100", audio, "auto", ("PCMU", "PCMA"), rtp_base=free_port() // 2 * 2
    ) as callee:
        trunk = TrunkConfig(uri=f"sip:127.0.0.1:{callee.sip_port}", rtp_port=free_port())

        async def run() -> str:
            clock = WallClock()
            async with SipStack(trunk) as stack:
                caller = SipCaller(trial, stack, SipConfig(trunk=trunk))
                sip_trunk = SipTrunk(caller, reports, clock, recording=True)
                dialer = Dialer(db, "sip", sip_trunk, clock, worker=ONCE)
                reason = await dialer.run()
                await caller.wait_bridges()
                return reason

        reason = asyncio.run(asyncio.wait_for(run(), 150))
    with db.session() as s:
        attempt = s.scalars(select(Attempt)).one()
    assert (reason, attempt.outcome) == ("done", "completed"), (reason, attempt.outcome)
    assert attempt.recording_path and Path(attempt.recording_path).exists()
    rows = json.loads(export(db, "sip", "json", tmp_path / "out.json").read_text())
    assert rows[0]["recording"] == attempt.recording_path
    with wave.open(attempt.recording_path) as w:
        assert w.getnchannels() == 2
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
    stereo = np.frombuffer(frames, np.int16).reshape(-1, 2)
    bot, callee_side = stereo[:, 0], stereo[:, 1]
    assert np.abs(callee_side).max() > 500  # the callee's voice is on the right
    greeting = bot[: rate * 9]
    text = store.asr("en").transcribe(resample(greeting, rate, 16000)).text.lower()
    heard = set(re.findall(r"[a-z]+", text))
    line = filled(text_of(trial.script.nodes["greet"].say, "en"), trial.script.example_contact)
    said = set(re.findall(r"[a-z]+", line.lower()))  # the greeting as it was said
    assert "recorded" in heard and len(heard & said) >= 0.6 * len(said), text


def test_a_warm_transfer_outlives_the_campaign_run_and_the_bots_deadline(
    store,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from tests.integration.test_sip import peer, segments, trunk_for, words
    from voicebot.app.outbound import SipCaller
    from voicebot.app.trunks import SipTrunk
    from voicebot.audio.wav import read_wav, write_wav
    from voicebot.telephony.sip.config import HandoffConfig, SipConfig
    from voicebot.telephony.sip.stack import SipStack

    deadline_s = 35.0  # the bot's own timer: the bridged call must run past it
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=deadline_s))
    trial.prerender()
    db = Store(f"sqlite:///{tmp_path / 'xfer.db'}")
    db.create("xfer", "prompts/survey_en.yaml", CampaignConfig(window=ALWAYS))
    row = {**trial.script.example_contact, "phone": "+1 212 555 0101"}
    import_contacts(db, "xfer", write_csv(tmp_path / "c.csv", [row]))
    # the customer asks for a person, waits on hold, then talks to the agent 45 s later
    asks, _ = read_wav(CALLS / "asks_for_person.wav", rate=8000)
    later = segments(read_wav(CALLS / "cooperative.wav", rate=8000)[0])[1]  # "Yes, speaking."
    customer_wav = tmp_path / "customer.wav"
    write_wav(customer_wav, np.concatenate([asks, np.zeros(45 * 8000, np.int16), later]), 8000)
    ended: dict[str, float] = {}
    with (
        peer(tmp_path, "+12125550101", audio=customer_wav) as customer,
        peer(tmp_path, "agent") as agent,
    ):
        trunk = trunk_for(customer)
        handoff = HandoffConfig(agents=[agent.uri], mode="warm")

        async def run() -> str:
            clock = WallClock()
            loop = asyncio.get_running_loop()
            async with SipStack(trunk) as stack:
                caller = SipCaller(trial, stack, SipConfig(trunk=trunk, handoff=handoff))
                sip_trunk = SipTrunk(caller, tmp_path / "reports", clock)
                dialer = Dialer(db, "xfer", sip_trunk, clock, worker=ONCE)
                started = loop.time()
                reason = await dialer.run()
                ended["run"] = loop.time() - started
                ended["bridges"] = len(caller.bridges)  # still talking when the run ended
                await caller.wait_bridges(within_s=80)
                ended["bridge"] = loop.time() - started
                return reason

        reason = asyncio.run(asyncio.wait_for(run(), 200))
        heard = agent.recordings()
    with db.session() as s:
        attempt = s.scalars(select(Attempt)).one()
    assert (reason, attempt.outcome, attempt.transferred) == ("done", "transferred", True), (
        reason,
        attempt.outcome,
        attempt.report_path,
    )
    assert ended["bridges"] == 1, "the customer and the agent were still talking"
    assert ended["bridge"] > ended["run"] and ended["bridge"] > deadline_s, ended
    pcm, _ = read_wav(heard[-1], rate=8000)
    said = store.asr("en").transcribe(resample(segments(pcm)[-1], 8000, 16000)).text
    assert "speaking" in words(said), said  # heard through the bridge after the run ended
