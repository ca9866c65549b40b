"""The replay benchmark's per-language rows carry the stages that make up each language's
caller's-ear figure, so a gap between languages can be traced to a stage."""

from voicebot.bench.replay import ReplayResult
from voicebot.bench.run import by_language
from voicebot.metrics.ear import EarGaps
from voicebot.metrics.report import CallReport, Turn, TurnLatency


def call(language: str, asr_s: float, reply_ms: float) -> ReplayResult:
    latency = TurnLatency(
        speech_start=1.0,
        speech_end=2.0,
        endpoint_at=2.3,
        asr_final_at=2.0 + asr_s,
        intent_at=2.05 + asr_s,
        policy_at=2.05 + asr_s,
        first_audio_at=2.07 + asr_s,
    )
    turn = Turn(
        text="x", asr_confidence=0.9, intent="affirm", confidence=0.9, node="n", latency=latency
    )
    report = CallReport(
        call_id=language,
        script="s",
        script_path="s",
        language=language,
        transport="loopback",
        turns=[turn],
        ear=EarGaps(replies_ms=[reply_ms], reply_after_s=[2.0]),
    )
    return ReplayResult(file=f"{language}.wav", report=report, language=language)


def test_each_language_row_has_its_own_stages() -> None:
    rows = by_language([call("en", 0.32, 530), call("zh", 0.41, 690), call("zh", 0.45, 700)])
    assert rows["en"]["reply"]["n"] == 1 and rows["zh"]["reply"]["n"] == 2
    assert rows["en"]["stages_ms"]["asr"]["p50"] == 320.0
    assert rows["zh"]["stages_ms"]["asr"]["n"] == 2
    assert 410.0 <= rows["zh"]["stages_ms"]["asr"]["p50"] <= 450.0
    assert rows["zh"]["stages_ms"]["end_to_end"]["n"] == 2
