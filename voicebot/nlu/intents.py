"""Few-shot intent classification: exemplars per intent, a sentence encoder, a logistic head.

Confidence is the head's probability, tempered by how close the utterance is to any exemplar:
an utterance unlike everything the script expects gets low confidence whatever the head says,
which is what the script's clarify / hand-off policy keys on. "Close" is measured against the
encoder's own scale, learnt at fit time (e5 puts unrelated sentences at cosine ~0.8, MiniLM ~0.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import LogisticRegression

from voicebot.nlu.encoders import SentenceEncoder


@dataclass(frozen=True, slots=True)
class IntentResult:
    intent: str
    confidence: float
    runners_up: tuple[tuple[str, float], ...]
    similarity: float  # cosine similarity to the nearest exemplar


class IntentClassifier:
    """`fit(exemplars)` once per script and language; `classify(text)` per turn (~ms)."""

    def __init__(self, encoder: SentenceEncoder) -> None:
        self.encoder = encoder
        self._unrelated = 0.0  # typical similarity of exemplars of different intents
        self._related = 1.0  # typical similarity of an exemplar to its nearest sibling
        self._head: LogisticRegression | None = None
        self._exemplars = np.zeros((0, 0), np.float32)
        self._labels: list[str] = []

    def fit(self, exemplars: dict[str, list[str]]) -> IntentClassifier:
        texts = [t for ts in exemplars.values() for t in ts]
        labels = [i for i, ts in exemplars.items() for _ in ts]
        if len(set(labels)) < 2:
            raise ValueError("intent classifier needs exemplars for at least two intents")
        self._exemplars = self.encoder.encode(texts)
        self._labels = labels
        self._head = LogisticRegression(C=20.0, max_iter=2000).fit(self._exemplars, labels)
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
        if self._head is None:
            raise RuntimeError("IntentClassifier.fit() must be called before classify()")
        vec = self.encoder.encode([text])
        probs = self._head.predict_proba(vec)[0]
        order = np.argsort(probs)[::-1]
        classes = list(self._head.classes_)
        similarity = float(np.max(self._exemplars @ vec[0]))
        span = max(1e-6, self._related - self._unrelated)
        familiarity = min(1.0, max(0.0, (similarity - self._unrelated) / span))
        ranked = tuple((str(classes[i]), float(probs[i] * familiarity)) for i in order[:4])
        return IntentResult(ranked[0][0], ranked[0][1], ranked[1:], similarity)
