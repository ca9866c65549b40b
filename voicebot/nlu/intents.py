"""Few-shot intent classification: exemplars per intent, a sentence encoder, two readings.

The head (logistic regression on the embeddings) and a nearest-exemplar reading (a softmax over
each intent's closest exemplar, on the encoder's own scale) are averaged: the head generalises
across phrasings, the nearest exemplar holds when a turn is close to one way of saying an intent
that the head underweights (few exemplars, many intents). A clear yes (`nlu/polarity.py`) is
evidence for `affirm` on top of that, as a likelihood ratio on its odds.

Confidence is that probability, tempered by how close the utterance is to any exemplar: an
utterance unlike everything the script expects gets low confidence whatever the head says, which
is what the script's clarify / hand-off policy keys on. "Close" is measured against the encoder's
own scale, learnt at fit time (e5 puts unrelated sentences at cosine ~0.8, MiniLM ~0.1).

Constants chosen on the dev split of `./dev bench understanding` (typed and heard text).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from voicebot.nlu.encoders import SentenceEncoder
from voicebot.nlu.homophones import Respeller
from voicebot.nlu.polarity import clear_yes

HEAD_C = 100.0  # inverse regularisation of the logistic head (20 left every probability flat)
NEAREST_WEIGHT = 0.5  # share of the nearest-exemplar reading in the probability
NEAREST_TEMPERATURE = 0.15  # of the nearest-exemplar softmax, in units of the encoder's span
FAMILIARITY_POWER = 1.0  # how hard unfamiliar wording pulls the confidence down
CLEAR_YES_RATIO = 6.0  # a clear yes multiplies the odds of affirm by this


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: str
    confidence: float
    runners_up: tuple[tuple[str, float], ...]
    similarity: float  # cosine similarity to the nearest exemplar


class IntentClassifier:
    """`fit(exemplars)` once per script and language; `classify(text)` per turn (~ms).
    With a `language`, a clear yes in that language counts as evidence for `affirm`."""

    def __init__(self, encoder: SentenceEncoder, language: str | None = None) -> None:
        self.encoder = encoder
        self.language = language
        self._unrelated = 0.0  # typical similarity of exemplars of different intents
        self._related = 1.0  # typical similarity of an exemplar to its nearest sibling
        self._head: LogisticRegression | None = None
        self._exemplars = np.zeros((0, 0), np.float32)
        self._labels: list[str] = []
        self._classes: list[str] = []
        self._member = np.zeros((0, 0), bool)  # exemplar i belongs to class j
        self._respeller: Respeller | None = None

    def fit(
        self, exemplars: dict[str, list[str]], vocabulary: tuple[str, ...] = ()
    ) -> IntentClassifier:
        """`vocabulary`: more text whose words callers may echo (the script's own lines); in
        Mandarin the classifier also reads a turn respelled to the words it knows."""
        texts = [t for ts in exemplars.values() for t in ts]
        if self.language == "zh":
            self._respeller = Respeller([*texts, *vocabulary])
        labels = [i for i, ts in exemplars.items() for _ in ts]
        if len(set(labels)) < 2:
            raise ValueError("intent classifier needs exemplars for at least two intents")
        self._exemplars = self.encoder.encode(texts)
        self._labels = labels
        self._head = LogisticRegression(C=HEAD_C, max_iter=5000).fit(self._exemplars, labels)
        self._classes = [str(c) for c in self._head.classes_]
        self._member = np.equal.outer(labels, self._classes)
        sims = self._exemplars @ self._exemplars.T
        same = np.equal.outer(labels, labels)
        np.fill_diagonal(sims, -np.inf)
        self._related = float(np.median(np.where(same, sims, -np.inf).max(axis=1)))
        self._unrelated = float(np.median(sims[~same]))
        return self

    @property
    def intents(self) -> list[str]:
        return sorted(set(self._labels))

    def classify(self, text: str) -> IntentResult:
        """The intent of one turn. In Mandarin, when the words it knows are in the turn under
        other characters of the same sound (号码 heard as 好吗), the respelled turn is read too
        and the surer reading kept."""
        if self._head is None:
            raise RuntimeError("IntentClassifier.fit() must be called before classify()")
        result = self._read(text)
        if self._respeller is not None:
            respelled = self._respeller.respell(text)
            if respelled != text:
                other = self._read(respelled)
                if other.confidence > result.confidence:
                    return other
        return result

    def _read(self, text: str) -> IntentResult:
        assert self._head is not None
        vec = self.encoder.encode([text])
        sims = self._exemplars @ vec[0]
        span = max(1e-6, self._related - self._unrelated)
        probs = (1 - NEAREST_WEIGHT) * self._head.predict_proba(vec)[0]
        probs += NEAREST_WEIGHT * self._nearest(sims, span)
        similarity = float(np.max(sims))
        familiarity = min(1.0, max(0.0, (similarity - self._unrelated) / span))
        familiarity **= FAMILIARITY_POWER
        scale = np.full(len(probs), familiarity)
        if self.language and "affirm" in self._classes and clear_yes(text, self.language):
            yes = self._classes.index("affirm")
            probs[yes] *= CLEAR_YES_RATIO
            probs /= probs.sum()
            scale[yes] = 1.0  # the rule knows this wording, however far from the exemplars
        confidence = probs * scale
        order = np.argsort(confidence)[::-1]
        ranked = tuple((self._classes[i], float(confidence[i])) for i in order[:4])
        return IntentResult(ranked[0][0], ranked[0][1], ranked[1:], similarity)

    def _nearest(self, sims: np.ndarray, span: float) -> np.ndarray:
        """Per intent, a softmax of the similarity to its closest exemplar."""
        best = np.where(self._member, sims[:, None], -np.inf).max(axis=0)
        weights = np.exp((best - best.max()) / (NEAREST_TEMPERATURE * span))
        return np.asarray(weights / weights.sum())
