"""Pure parts of telephony: the call-control state machine, trunk config, beep detection,
DTMF keys through the dialogue, the voicemail policy and the agent summary."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.core.errors import ConfigError
from voicebot.policy.actions import HangUp, Say
from voicebot.policy.engine import Policy
from voicebot.policy.lint import lint
from voicebot.policy.schema import load_script
from voicebot.session.amd import AnsweringMachineDetector, BeepDetector, tone_hz
from voicebot.telephony.control import CallControl, SignallingState, outcome_for_status
from voicebot.telephony.sip.config import TrunkConfig

pytestmark = pytest.mark.unit
RATE = 8000


def frames(pcm: np.ndarray) -> list[np.ndarray]:
    return [pcm[i : i + 160] for i in range(0, len(pcm) - 159, 160)]


def tone(hz: float, seconds: float, level: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.int16)


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        (486, "busy"),
        (600, "busy"),
        (603, "declined"),
        (480, "no_answer"),
        (408, "no_answer"),
        (488, "incompatible"),
        (404, "failed"),
        (503, "failed"),
        (500, "failed"),
    ],
)
def test_final_status_before_answer_maps_to_an_outcome(code: int, outcome: str) -> None:
    control = CallControl()
    control.dial(0.0)
    control.provisional(0.1, 180, "Ringing")
    control.end(2.0, code, "x", "callee")
    assert (control.state, control.outcome, control.final_code) == (
        SignallingState.ENDED,
        outcome,
        code,
    )
    assert outcome_for_status(code) == outcome


def test_call_states_go_dialing_ringing_early_media_answered_ended() -> None:
    control = CallControl()
    control.dial(0.0)
    control.provisional(0.1, 180)
    control.provisional(0.5, 183, sdp=True)
    control.provisional(0.6, 180)  # a late 180 changes nothing
    control.answer(1.0)
    control.provisional(1.1, 183)
    control.end(9.0, 200, "BYE", "callee")
    assert [h.state for h in control.history] == [
        SignallingState.DIALING,
        SignallingState.RINGING,
        SignallingState.EARLY_MEDIA,
        SignallingState.ANSWERED,
        SignallingState.ENDED,
    ]
    assert control.outcome == "hung_up" and control.answered_at == 1.0
    control.end(10.0, 500, "late", "network")  # the first end stands
    assert control.final_code == 200 and control.as_report()["ended_by"] == "callee"


def test_our_own_timers_end_a_call_with_their_outcome() -> None:
    ring = CallControl()
    ring.dial(0.0)
    ring.provisional(0.2, 180)
    ring.expire(30.0, "no_answer", "not answered in 30 s")
    ring.end(30.1, 487, "Request Terminated", "bot")  # the CANCEL's answer changes nothing
    assert (ring.outcome, ring.final_reason) == ("no_answer", "not answered in 30 s")
    with pytest.raises(ValueError, match="expected idle"):
        ring.dial(31.0)


def test_trunk_config_targets_numbers_and_keeps_the_password_out_of_repr(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    trunk = TrunkConfig(
        uri="sip:carrier.example.com", username="acme", password="hunter2", transport="tcp"
    )
    assert trunk.target("+4915112345678") == "sip:+4915112345678@carrier.example.com;transport=tcp"
    assert trunk.target("sip:agent@10.0.0.5") == "sip:agent@10.0.0.5"
    assert "hunter2" not in repr(trunk) and "hunter2" not in str(trunk.model_dump())
    assert trunk.secret() == "hunter2"
    monkeypatch.setenv("VOICEBOT_SIP_PASSWORD", "from-env")
    assert trunk.secret() == "from-env"
    secret = tmp_path / "sip.secret"
    secret.write_text("from-file\n")
    assert trunk.model_copy(update={"password_file": secret}).secret() == "from-file"
    with pytest.raises(ConfigError, match=r"missing\.secret"):
        trunk.model_copy(update={"password_file": tmp_path / "missing.secret"}).secret()
    with pytest.raises(ValueError, match="codecs"):
        TrunkConfig(uri="sip:x", codecs=["opus"])


def test_beep_is_found_after_speech_like_audio_but_not_in_noise_or_long_tones() -> None:
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 2000, RATE).astype(np.int16)
    greeting_then_beep = np.concatenate(
        [noise, np.zeros(2000, np.int16), tone(1000, 0.4), np.zeros(1600, np.int16)]
    )
    beeps = BeepDetector(RATE)
    ends = [e for i, f in enumerate(frames(greeting_then_beep)) if (e := beeps.push(f, i * 0.02))]
    assert len(ends) == 1 and abs(ends[0] - (1.25 + 0.4)) < 0.05
    ringback = BeepDetector(RATE)
    long_tone = np.concatenate([tone(425, 3.0), np.zeros(800, np.int16)])
    assert not [f for i, f in enumerate(frames(long_tone)) if ringback.push(f, i * 0.02)]
    assert tone_hz(noise[:160], RATE) is None and tone_hz(np.zeros(160, np.int16), RATE) is None
    assert abs((tone_hz(tone(1400, 0.02), RATE) or 0) - 1400) < 20


def test_machine_verdict_from_phrases_long_greetings_or_a_beep() -> None:
    person = AnsweringMachineDetector(RATE)
    person.turn("Hello?", 0.6)
    assert not person.machine(talking_s=0.0)
    phrase = AnsweringMachineDetector(RATE)
    phrase.turn("您好，请在提示音后留言", 2.0)
    assert phrase.machine() and phrase.reason() == "greeting phrase"
    long = AnsweringMachineDetector(RATE)
    long.turn("Hi, this is Jo and Sam, we are out sailing", 3.0)
    assert not long.machine() and not long.machine(talking_s=5.0)  # speech going on: heard out
    long.turn("and we will call you back", 1.5)
    assert long.machine()  # a greeting heard in full, with a greeting's words
    beep = AnsweringMachineDetector(RATE)
    for i, f in enumerate(frames(np.concatenate([tone(800, 0.3), np.zeros(1600, np.int16)]))):
        beep.frame(f, i * 0.02)
    assert beep.machine() and beep.reason().startswith("beep at")


def test_phone_keys_drive_a_script_through_its_dtmf_map(store) -> None:  # type: ignore[no-untyped-def]
    from voicebot.session.dialogue import Dialogue, script_classifier

    script = load_script(ROOT / "prompts" / "reminder_en.yaml")
    dialogue = Dialogue(
        script,
        "en",
        script_classifier(script, "en", store.encoder("en")),
        dict(script.example_contact),
    )
    now = datetime(2026, 11, 24, 10)
    dialogue.start()
    dialogue.hear("Yes, speaking.", now)
    assert dialogue.state is not None and dialogue.state.node == "remind"
    dialogue.keypress("2", now)
    assert dialogue.state.node == "reschedule"
    other = Dialogue(script, "en", dialogue.classifier, dict(script.example_contact))
    other.start()
    other.hear("Yes, speaking.", now)
    other.keypress("1", now)
    assert other.state is not None and other.state.ended == "completed"
    assert other.state.recorded()["appointment.confirmed"] is True


def test_voicemail_policy_leaves_the_approved_message_or_hangs_up() -> None:
    script = load_script(ROOT / "prompts" / "reminder_en.yaml")
    actions = Policy(script, "en").voicemail(script.example_contact)
    assert isinstance(actions[0], Say) and actions[0].protected
    assert script.example_contact["name"] in actions[0].text
    assert actions[-1] == HangUp("voicemail")
    survey = load_script(ROOT / "prompts" / "survey_en.yaml")
    assert Policy(survey, "en").voicemail({}) == [HangUp("voicemail")]


def test_lint_checks_dtmf_keys_and_the_voicemail_message() -> None:
    script = load_script(ROOT / "prompts" / "reminder_en.yaml")
    node = next(n for n, v in script.nodes.items() if v.dtmf)
    bad_node = script.nodes[node].model_copy(update={"dtmf": {"x": "affirm", "9": "nonsense"}})
    broken = script.model_copy(
        update={
            "nodes": {**script.nodes, node: bad_node},
            "voicemail": script.voicemail.model_copy(update={"message": None}),
        }
    )
    messages = [f"{f.where}: {f.message}" for f in lint(broken)]
    assert any("'x' is not a phone key" in m for m in messages), messages
    assert any("'nonsense'" in m for m in messages)
    assert any(m.startswith("voicemail: action is leave") for m in messages)


def test_the_handoff_webhook_must_be_https_and_signed(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import SecretStr, ValidationError

    from voicebot.telephony.sip.config import HandoffConfig

    monkeypatch.delenv("VOICEBOT_WEBHOOK_SECRET", raising=False)
    key = SecretStr("k")
    with pytest.raises(ValidationError, match="use https"):
        HandoffConfig(webhook="http://crm.example.com/hook", webhook_secret=key)
    with pytest.raises(ValidationError, match="use https"):  # local http needs the switch
        HandoffConfig(webhook="http://127.0.0.1:8080/hook", webhook_secret=key)
    with pytest.raises(ValidationError, match="use https"):  # the switch is for this machine only
        HandoffConfig(
            webhook="http://10.0.0.5/hook", webhook_secret=key, webhook_allow_local_http=True
        )
    with pytest.raises(ValidationError, match="no signing key"):
        HandoffConfig(webhook="https://crm.example.com/hook")
    monkeypatch.setenv("VOICEBOT_WEBHOOK_SECRET", "from-env")
    assert HandoffConfig(webhook="https://crm.example.com/hook").webhook_key() == "from-env"
    local = HandoffConfig(webhook="http://localhost:9/h", webhook_allow_local_http=True)
    assert "from-env" not in repr(local)


@pytest.mark.parametrize(
    "prompt",
    [
        "Hi, the person you're calling is using a screening service. Please say your name and "
        "why you're calling.",
        "Hi, if you record your name and reason for calling, I'll see if this person is available.",
        "Thanks, stay on the line while I see if this person is available.",
        "您好，机主开启了来电助理，请说出您的姓名和来电目的。",
        "您好，请说出您的姓名和来电事由，我会看看对方是否方便接听。",
    ],
)
def test_a_screening_assistant_is_never_taken_for_voicemail(prompt: str) -> None:
    amd = AnsweringMachineDetector(RATE)
    amd.turn(prompt, 6.0)  # longer than a long greeting
    assert amd.screening() and not amd.machine() and not amd.machine(talking_s=3.0)


@pytest.mark.parametrize(
    "words",
    [
        "Hello?",
        "Hi, you've reached Ann, please leave a message after the tone.",
        "喂，你好。",
        "您好，您拨打的用户暂时无法接听，请在提示音后留言。",
    ],
)
def test_people_and_machines_are_not_screeners(words: str) -> None:
    amd = AnsweringMachineDetector(RATE)
    amd.turn(words, 1.0)
    assert not amd.screening()
