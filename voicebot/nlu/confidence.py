"""One confidence for a caller turn, from the recogniser and the intent classifier together.

The classifier's confidence (head probability tempered by nearness to the exemplars) says how
sure it is of the text; the recogniser's mean token log-probability and no-speech probability say
how sure we are of the text itself. A clear intent on badly heard words is not a clear turn."""

from __future__ import annotations

from voicebot.nlu.intents import IntentResult

# Calibrated on the dev split of `./dev bench understanding` (see benchmarks/understanding):
# below LOGPROB_SURE the words are scaled down, at LOGPROB_LOST and below they count half.
LOGPROB_SURE = -0.45
LOGPROB_LOST = -1.2
NO_SPEECH_SURE = 0.5


def asr_certainty(avg_logprob: float, no_speech_prob: float) -> float:
    """0.5 (the words are probably wrong) .. 1.0 (the words are clear)."""
    span = LOGPROB_SURE - LOGPROB_LOST
    words = min(1.0, max(0.0, (avg_logprob - LOGPROB_LOST) / span))
    speech = 1.0 if no_speech_prob <= NO_SPEECH_SURE else max(0.0, 1.0 - no_speech_prob)
    return 0.5 + 0.5 * words * speech


def turn_confidence(result: IntentResult, avg_logprob: float, no_speech_prob: float) -> float:
    """The classifier's confidence scaled by how certain the words are."""
    return result.confidence * asr_certainty(avg_logprob, no_speech_prob)
