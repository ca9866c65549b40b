"""Smart Turn v3 on phone audio: can an acoustic turn model tell the end of an answer from a
pause inside it? (issue 18, item 3; measured, not adopted: see benchmarks/results/smart_turn.md)

    python -m benchmarks.smart_turn --language en --split dev --limit 60 --after 0.1 0.25
    python -m benchmarks.smart_turn --cue pitch --language en --split dev

`--cue pitch` scores the oldest prosodic cue instead, final lowering: how far the voice's pitch
has fallen at the pause (the lowest pitch of its last voiced frames, in semitones against the
answer's median), and reports it on every pause and on the pauses that the lexical rule cannot
decide, the ones whose words so far (the bot's recogniser, first-silence decode) read as complete.

Every answer of the understanding benchmark (voices unlike the bot's own, through the 8 kHz
line) runs through the call's VAD with a long hangover, so every pause is seen. At each pause the
model hears the answer so far plus `after` seconds of the silence (what it would have at that
moment of a call), upsampled to 16 kHz. A pause is *final* when the caller did not speak again.
A useful model scores final pauses above inner ones: the report gives the AUC and, per
threshold, the share of final pauses it calls complete and the inner pauses it would cut.
Pauses in the first 0.3 s (a click before the answer) are left out.

The model is `smart-turn-v3.2-cpu.onnx` from the `pipecat-ai` wheel (BSD-2-Clause), read as a
file: `pip install --no-deps pipecat-ai==1.14.0`; nothing of pipecat is imported. Its features
are Whisper's log-mel (as pipecat vendors them from Hugging Face transformers, Apache-2.0).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.turn_end import answers
from voicebot.audio.frames import AudioFrame, split_frames
from voicebot.audio.resample import resample
from voicebot.models.registry import sha256_file
from voicebot.vad.endpoint import EndpointConfig, SpeechPaused, SpeechResumed
from voicebot.vad.webrtc import VoiceActivity

ROOT = Path(__file__).resolve().parents[1]
MODEL = "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
SHA256 = "2bb026316b14a660486a75b1733cd3fbab8c2fd0314dc9af7be49f8cca967e4f"
RATE, LINE_RATE, WINDOW_S = 16_000, 8000, 8
THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
_N_FFT, _HOP, _N_MELS = 400, 160, 80


def model_path() -> Path:
    """The ONNX file inside the installed pipecat-ai package (found without importing it)."""
    spec = importlib.util.find_spec("pipecat")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("Smart Turn v3 needs: pip install --no-deps pipecat-ai==1.14.0")
    path = Path(next(iter(spec.submodule_search_locations))) / MODEL
    if not path.exists() or sha256_file(path) != SHA256:
        raise SystemExit(f"{path}: missing or not the measured model (sha256 {SHA256})")
    return path


def _mel_filters() -> np.ndarray:
    """Slaney-normalised triangular mel filters, shape (n_fft / 2 + 1, n_mels)."""

    def to_mel(f: np.ndarray) -> np.ndarray:
        return np.where(
            f < 1000, 3 * f / 200, 15 + np.log(np.maximum(f, 1e-9) / 1000) * 27 / np.log(6.4)
        )

    def to_hz(m: np.ndarray) -> np.ndarray:
        return np.where(m < 15, 200 * m / 3, 1000 * np.exp((m - 15) * np.log(6.4) / 27))

    edges = to_hz(np.linspace(to_mel(np.array(0.0)), to_mel(np.array(RATE / 2)), _N_MELS + 2))
    bins = np.linspace(0, RATE // 2, _N_FFT // 2 + 1)
    slopes = edges[None, :] - bins[:, None]
    diff = np.diff(edges)
    filters = np.maximum(0.0, np.minimum(-slopes[:, :-2] / diff[:-1], slopes[:, 2:] / diff[1:]))
    return filters * (2.0 / (edges[2 : _N_MELS + 2] - edges[:_N_MELS]))[None, :]


_FILTERS = _mel_filters()
_HANN = np.hanning(_N_FFT + 1)[:-1]


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Whisper log-mel features (80 x 800) of 8 s of 16 kHz float audio."""
    x = np.asarray(audio, np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (_N_FFT // 2, _N_FFT // 2), mode="reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, _N_FFT)[::_HOP]
    power = (np.abs(np.fft.rfft(windows * _HANN, axis=-1)) ** 2).T
    spec = np.log10(np.maximum(1e-10, _FILTERS.T @ power))[:, :-1]
    spec = np.maximum(spec, spec.max() - 8.0)
    return ((spec + 4.0) / 4.0).astype(np.float32)


class SmartTurn:
    """`probability(pcm16k)`: how sure the model is that the turn heard so far is finished."""

    def __init__(self, model: Path) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(model), sess_options=options)

    def probability(self, pcm16k: np.ndarray) -> float:
        x = pcm16k.astype(np.float32) / 32768.0
        n = RATE * WINDOW_S
        x = x[-n:] if len(x) >= n else np.pad(x, (n - len(x), 0))
        out = self._session.run(None, {"input_features": log_mel(x)[None, :, :]})
        return float(np.asarray(out[0]).reshape(-1)[0])


def pauses(pcm: np.ndarray) -> list[tuple[float, bool]]:
    """(true end of speech, final?) of every pause the call's VAD finds in one answer."""
    vad = VoiceActivity(EndpointConfig(hangover_ms=1500))
    out: list[list[Any]] = []
    padded = np.concatenate([pcm, np.zeros(LINE_RATE, np.int16)])
    for i, frame in enumerate(split_frames(padded, LINE_RATE)):
        for event in vad.push(AudioFrame(frame.pcm, LINE_RATE, i * 0.02)):
            if isinstance(event, SpeechPaused):
                out.append([event.t, True])
            elif isinstance(event, SpeechResumed) and out:
                out[-1][1] = False
    return [(t, final) for t, final in out if t >= 0.3]


def pitch_track(pcm: np.ndarray, rate: int = LINE_RATE) -> np.ndarray:
    """Pitch in Hz per 10 ms (40 ms windows, normalised autocorrelation, 70-400 Hz); NaN where
    the frame is quieter than -40 dBFS or not clearly periodic."""
    x = pcm.astype(np.float64) / 32768.0
    n, hop = int(0.04 * rate), int(0.01 * rate)
    lo, hi = int(rate / 400), int(rate / 70)
    out = []
    for start in range(0, len(x) - n, hop):
        w = x[start : start + n] - x[start : start + n].mean()
        if np.sqrt(np.mean(w * w)) < 0.01:
            out.append(np.nan)
            continue
        ac = np.correlate(w, w, "full")[n - 1 :]
        ac = ac / (ac[0] + 1e-12)
        lag = lo + int(np.argmax(ac[lo:hi]))
        out.append(rate / lag if ac[lag] > 0.45 else np.nan)
    return np.array(out)


def final_lowering(pcm: np.ndarray, rate: int = LINE_RATE, last: int = 10) -> float | None:
    """How far the pitch of the last `last` voiced frames falls below the answer's median, in
    semitones (positive = lower); None with fewer than 5 voiced frames."""
    f0 = pitch_track(pcm, rate)
    voiced = f0[~np.isnan(f0)]
    if len(voiced) < 5:
        return None
    semitones = np.clip(12 * np.log2(voiced / np.median(voiced)), -12, 12)
    return float(-np.min(semitones[-last:]))


def pitch_cue(language: str, split: str, limit: int | None) -> dict[str, Any]:
    """Final lowering at every pause, overall and where the words so far read as complete."""
    from voicebot.asr.whisper import AsrOptions, WhisperRecognizer
    from voicebot.models.registry import ModelRegistry
    from voicebot.vad.completion import Completion, completion

    registry = ModelRegistry()
    spec = registry.default("asr", language)
    asr = WhisperRecognizer(registry.resolve(spec.name), AsrOptions(language=language))
    rows = []
    for answer in answers(language, split, limit):
        for t, final in pauses(answer["pcm"]):
            so_far = answer["pcm"][: int(t * LINE_RATE)]
            lowering = final_lowering(so_far)
            if lowering is None:
                continue
            words = asr.transcribe(resample(so_far, LINE_RATE, RATE), answer["context"]).text
            complete = completion(words, language) is Completion.COMPLETE
            rows.append({"final": final, "lowering": lowering, "complete": complete})

    def summary(sub: list[dict[str, Any]]) -> dict[str, Any]:
        final = [r["lowering"] for r in sub if r["final"]]
        inner = [r["lowering"] for r in sub if not r["final"]]
        at = {
            str(th): {
                "final_called_complete": round(float(np.mean(np.array(final) >= th)), 3),
                "inner_called_complete": int(np.sum(np.array(inner) >= th)),
            }
            for th in (1.0, 2.0, 3.0)
        }
        return {"final": len(final), "inner": len(inner), "auc": auc(final, inner), "at": at}

    return {"all": summary(rows), "words_complete": summary([r for r in rows if r["complete"]])}


def auc(final: list[float], inner: list[float]) -> float | None:
    if not final or not inner:
        return None
    wins = sum((f > i) + 0.5 * (f == i) for f in final for i in inner)
    return round(wins / len(final) / len(inner), 3)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.smart_turn", description=__doc__)
    p.add_argument("--language", choices=["en", "zh"], default="en")
    p.add_argument("--split", choices=["dev", "test"], default="dev")
    p.add_argument("--limit", type=int, default=60, help="phrasings (one voice each)")
    p.add_argument("--after", type=float, nargs="+", default=[0.1, 0.25], help="silence heard, s")
    p.add_argument("--out", help="write the summary to this JSON file")
    p.add_argument("--cue", choices=["smart-turn", "pitch"], default="smart-turn")
    args = p.parse_args(argv)
    if args.cue == "pitch":
        limit = None if args.limit == p.get_default("limit") else args.limit
        summary = {"language": args.language, "split": args.split, "cue": "final lowering"}
        summary.update(pitch_cue(args.language, args.split, limit))
        print(json.dumps(summary), flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        return 0
    model = SmartTurn(model_path())
    batch = answers(args.language, args.split, args.limit)
    result: dict[str, Any] = {"language": args.language, "split": args.split, "answers": len(batch)}
    for after in args.after:
        scores: dict[bool, list[float]] = {True: [], False: []}
        for answer in batch:
            for t, final in pauses(answer["pcm"]):
                cut = answer["pcm"][: int((t + after) * LINE_RATE)]
                scores[final].append(model.probability(resample(cut, LINE_RATE, RATE)))
        row = {
            "final_pauses": len(scores[True]),
            "inner_pauses": len(scores[False]),
            "auc": auc(scores[True], scores[False]),
            "at": {
                str(th): {
                    "final_called_complete": round(float(np.mean(np.array(scores[True]) >= th)), 3),
                    "inner_called_complete": int(np.sum(np.array(scores[False]) >= th)),
                }
                for th in THRESHOLDS
            },
        }
        result[f"after_{after}"] = row
        print(f"after {after} s:", json.dumps(row), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
