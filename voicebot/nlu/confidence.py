"""One confidence for a caller turn, from the recogniser and the intent classifier together.

The classifier's confidence (head probability tempered by nearness to the exemplars) says how
sure it is of the text; the recogniser's mean token log-probability and no-speech probability
say how sure we are of the text itself. A clear intent on badly heard words is not a clear turn:
the classifier's confidence is scaled down by the recogniser's certainty, so a script's
`min_confidence` keeps its meaning for clearly heard (and typed) words.

Tried and rejected: a logistic fit of P(intent right) on the dev split. On the benchmark's noisy
phone audio it lifts low classifier confidences (0.17 -> 0.58), which then routes typed "speaking"
as "who are you" in text mode: the classifier's low confidence is a real signal on clear words.
"""

from __future__ import annotations

from voicebot.nlu.intents import IntentResult

# From the dev split of `./dev bench understanding`: decodes at or above LOGPROB_SURE carry
# the right intent as often as typed text; the chance falls with log-probability to about half
# at LOGPROB_LOST (the Mandarin drop floor).
LOGPROB_SURE = -0.5
LOGPROB_LOST = -2.0
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
