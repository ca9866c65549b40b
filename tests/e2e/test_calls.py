"""Whole calls in virtual time: simulated callees (real synthesised speech through an 8 kHz
mu-law line) against the real pipeline (VAD, whisper, intent classifier, policy, TTS)."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.audio.wav import read_wav
from voicebot.core.clock import VirtualClock
from voicebot.metrics.report import CallReport
from voicebot.session.call import CallOptions
from voicebot.sim.persona import all_personas, load_persona
from voicebot.sim.trial import Trial, TrialCall

pytestmark = pytest.mark.e2e
PERSONAS = [p.name for p in all_personas()]


@pytest.fixture(scope="module")
def survey(store, tmp_path_factory) -> Trial:  # type: ignore[no-untyped-def]
    trial = Trial(
        ROOT / "prompts" / "survey_en.yaml", store, record_to=tmp_path_factory.mktemp("calls")
    )
    trial.prerender()
    return trial


@pytest.fixture(scope="module")
def upgrade(store, tmp_path_factory) -> Trial:  # type: ignore[no-untyped-def]
    return Trial(
        ROOT / "prompts" / "upgrade_zh.yaml", store, record_to=tmp_path_factory.mktemp("calls_zh")
    )


def place(trial: Trial, persona: str, agents_free: int = 1) -> TrialCall:
    clock = VirtualClock()
    return asyncio.run(clock.run(trial.call(load_persona(persona), clock, agents_free)))


def story(report: CallReport) -> str:
    heard = [f"{t.node}: {t.text!r} -> {t.intent} {t.confidence:.2f}" for t in report.turns]
    return "\n".join([f"outcome {report.outcome}", *heard, f"path {report.path}"])


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reaches_its_outcome_on_the_english_survey(
    survey: Trial, persona: str
) -> None:
    result = place(survey, persona)
    assert result.report.error is None
    assert result.passed, story(result.report)


@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_reaches_its_outcome_on_the_chinese_upgrade_offer(
    upgrade: Trial, persona: str
) -> None:
    result = place(upgrade, persona)
    assert result.report.error is None
    assert result.passed, story(result.report)


def test_cooperative_call_records_answers_grade_and_per_turn_latency(survey: Trial) -> None:
    report = place(survey, "cooperative").report
    assert report.records["survey.punctuality"] == 4 and report.records["survey.quality"] == 5
    assert report.records["survey.recommend"] == 9 and report.lead_grade == "A"
    assert report.path[0] == "greet" and report.path[-1] == "thanks_close"
    assert report.models["asr"] == "whisper-tiny-en" and report.script_path.endswith(
        "survey_en.yaml"
    )
    for turn in report.turns:
        lat = turn.latency
        assert lat.speech_start < lat.speech_end < lat.endpoint_at <= lat.asr_final_at
        assert lat.asr_final_at <= lat.intent_at <= lat.policy_at
        if lat.first_audio_at is not None:
            assert lat.first_audio_at >= lat.policy_at
    assert report.latencies_ms("end_to_end"), "no turn measured end to end"
    restored = CallReport.model_validate_json(report.model_dump_json())
    assert restored == report


def test_barge_in_stops_playback_within_150_ms_but_not_protected_lines(survey: Trial) -> None:
    report = place(survey, "talks_over").report
    cut = [line for line in report.bot_lines if line.interrupted]
    assert cut, "the caller talked over the bot but no line was cut"
    assert not any(line.interrupted for line in report.bot_lines if line.node == "greet")
    # the line goes quiet (paused, then cut once the speech is judged) at the caller's onset
    onsets = [
        float(e.detail.removeprefix("speech at "))
        for e in report.timeline
        if e.kind in ("paused", "barge_in") and e.detail.startswith("speech at ")
    ]
    pcm, rate = read_wav(Path(survey.record_to or ".") / f"{report.call_id}.wav", channel=0)
    starts = sorted(b.first_audio_at for b in report.bot_lines if b.first_audio_at is not None)
    for line in [c for c in cut if c.first_audio_at is not None]:  # (not those still queued)
        assert line.ended_at is not None
        quiet = line.paused_at[-1] if line.paused_at else line.ended_at
        assert any(0 <= quiet - t <= 0.15 for t in onsets), (quiet, onsets)
        reply = next((t for t in starts if t > quiet), quiet + 0.3)  # the bot's answer may follow
        after = pcm[int((quiet + 0.02) * rate) : int(min(quiet + 0.3, reply) * rate)]
        assert np.abs(after).max(initial=0) < 200, "the bot kept talking after barge-in"


def test_silence_gets_the_reprompt_then_goodbye(survey: Trial) -> None:
    report = place(survey, "silent").report
    said = [line.node for line in report.bot_lines]
    assert said == ["greet", "no_input", "no_input", "no_input"]
    assert report.outcome == "no_input" and not report.turns
    silences = [e.t for e in report.timeline if e.kind == "no_input"]
    assert len(silences) == 3 and all(b - a >= 5.0 for a, b in itertools.pairwise(silences))


def test_no_free_agent_means_an_apology_and_a_callback(survey: Trial) -> None:
    report = place(survey, "asks_for_person", agents_free=0).report
    assert report.outcome == "callback" and report.callback_requested
    assert report.transfer is not None and not report.transfer["connected"]
    assert "caller asked for a person" in report.transfer["summary"]
    assert report.bot_lines[-1].node == "no_agent"


def test_hard_deadline_ends_the_call(store) -> None:  # type: ignore[no-untyped-def]
    trial = Trial(ROOT / "prompts" / "survey_en.yaml", store, CallOptions(max_call_s=8.0))
    report = place(trial, "cooperative").report
    assert report.outcome == "max_duration" and 8.0 <= report.duration_s < 8.2


def test_demo_prints_outcomes_and_latency_and_writes_reports(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from voicebot.cli import main

    code = main(
        ["demo", "--out", str(tmp_path), "--personas", "wrong_person", "busy", "--concurrency", "2"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Outcomes" in out and "Latency per caller turn" in out and "end_to_end" in out
    assert "2/2 calls reached the expected outcome" in out
    assert "node coverage: " in out and "never visited: " in out  # two personas miss some
    reports = sorted((tmp_path / "reports").glob("*.json"))
    recordings = sorted((tmp_path / "recordings").glob("*.wav"))
    assert len(reports) == 2 and len(recordings) == 2
    _, rate = read_wav(recordings[0], channel=1)
    assert rate == 8000


@pytest.mark.parametrize("persona", ["screened_google", "screened_ios"])
def test_a_screening_assistant_is_answered_then_the_person_completes_the_call(
    survey: Trial, persona: str
) -> None:
    report = place(survey, persona).report
    kinds = [e.kind for e in report.timeline]
    assert "call_screening" in kinds and "answering_machine" not in kinds, report.timeline
    assert [line.node for line in report.bot_lines[:2]] == ["screening", "greet"]
    assert survey.script.example_contact["name"] not in report.bot_lines[0].text
    assert report.outcome == "completed", story(report)
    assert report.abandoned() is False  # the person's hello was greeted within 2 s


def test_speak_slower_really_slows_the_voice_for_the_rest_of_the_call(survey: Trial) -> None:
    report = place(survey, "asks_slower").report
    assert "slower_speech" in [e.kind for e in report.timeline], story(report)
    greets = [line for line in report.bot_lines if line.node == "greet"]
    assert len(greets) == 2 and not any(line.interrupted for line in greets), story(report)
    before, after = (
        (line.ended_at or 0.0) - (line.first_audio_at or 0.0) for line in greets
    )  # the same line, said before and after the caller asked
    assert after > 1.15 * before, (before, after)
    assert report.outcome == "completed", story(report)
