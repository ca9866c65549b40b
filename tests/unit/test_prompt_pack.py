"""Recorded prompt packs: what to record for a script, what a folder of recordings lacks, and
lines joined from recordings and synthesised variables without gaps or level jumps."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import ROOT
from voicebot.app.prompts_cli import show_prompts
from voicebot.audio.wav import write_wav
from voicebot.policy.lint import script_lines
from voicebot.policy.schema import Script, filled, load_script, text_of
from voicebot.tts.prompt_pack import PromptLine, check_pack, pack_folder, prompt_lines
from voicebot.tts.prompted import PAUSE_S, PromptedSpeech, PromptPack
from voicebot.tts.zh_text import normalize

pytestmark = pytest.mark.unit
RATE = 8000


def tone(level_db: float, seconds: float, hz: float = 220.0, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return np.sqrt(2) * 32768 * 10 ** (level_db / 20) * np.sin(2 * np.pi * hz * t)


def recording(level_db: float = -20.0, lead_s: float = 0.1, rate: int = RATE) -> np.ndarray:
    quiet = np.zeros(int(lead_s * rate))
    pcm = np.concatenate([quiet, tone(level_db, 0.6, rate=rate), np.zeros(int(0.1 * rate))])
    return np.clip(pcm, -32768, 32767).astype(np.int16)


class LoudVoice:
    """Says anything as a loud tone with long silences around it, noting what it was given."""

    name = "loud"
    sample_rate = RATE

    def __init__(self) -> None:
        self.said: list[str] = []

    def synthesize(self, sentence: str) -> np.ndarray:
        self.said.append(sentence)
        quiet = np.zeros(int(0.3 * RATE))
        return np.concatenate([quiet, tone(-6.0, 0.05 * len(sentence), 440.0), quiet]).astype(
            np.int16
        )


def packed_script(tmp_path: Path) -> tuple[Script, Path, list[PromptLine], Path]:
    path = tmp_path / "followup_zh.yaml"
    source = (ROOT / "prompts" / "followup_zh.yaml").read_text(encoding="utf-8")
    path.write_text(source + "prompts: pack\n", encoding="utf-8")
    script = load_script(path)
    lines = prompt_lines(script, "zh")
    folder = pack_folder(script, path, "zh")
    assert folder == tmp_path / "pack" / "zh"
    for line in lines:
        for part in line.parts:
            if part.file:
                write_wav(folder / part.file, recording(), RATE)
    return script, path, lines, folder


def test_every_line_is_listed_once_split_at_its_variables() -> None:
    script = load_script(ROOT / "prompts" / "followup_zh.yaml")
    lines = prompt_lines(script, "zh")
    greet = lines[0]
    assert greet.where == "nodes.greet.say"
    assert [(p.file, p.text) for p in greet.parts] == [
        ("nodes.greet.say-1.wav", "您好，这里是"),
        (None, "{company}"),
        ("nodes.greet.say-2.wav", "客户回访中心，我是智能语音助手，本次通话将被录音。请问是"),
        (None, "{name}"),
        ("nodes.greet.say-3.wav", "吗？"),
    ]
    templates = {text_of(line, "zh") for _, line in script_lines(script)}
    assert {line.template for line in lines} == templates
    files = [p.file for line in lines for p in line.parts if p.file]
    assert len(files) == len(set(files))
    contact = dict(script.example_contact)
    for line in lines:  # a filled line is recognised with its values
        found = line.pattern.fullmatch(filled(line.template, contact))
        assert found is not None and None not in found.groups()


def test_the_check_reports_missing_extra_and_unusable_recordings(tmp_path: Path) -> None:
    _, _, lines, folder = packed_script(tmp_path)
    assert check_pack(lines, folder).ok
    (folder / "nodes.q1.say.wav").unlink()
    write_wav(folder / "old_greeting.wav", recording(), RATE)
    write_wav(folder / "nodes.q2.say.wav", recording(6.0), RATE)
    write_wav(folder / "nodes.q3.say.wav", recording(lead_s=1.5), RATE)
    write_wav(folder / "lines.clarify.wav", recording(-42.0), RATE)
    stereo = np.stack([recording(rate=16000)] * 2, 1)
    write_wav(folder / "lines.no_input.wav", stereo, 16000)
    write_wav(folder / "lines.transfer.wav", recording(rate=6000), 6000)
    report = check_pack(lines, folder)
    assert report.missing == ["nodes.q1.say.wav"] and report.extra == ["old_greeting.wav"]
    problems = {name: " | ".join(found) for name, found in report.problems.items()}
    assert "clipped" in problems["nodes.q2.say.wav"]
    assert "silence at the start" in problems["nodes.q3.say.wav"]
    assert (
        "aim for" in problems["lines.clarify.wav"] and "level jump" in problems["lines.clarify.wav"]
    )
    assert "record mono" in problems["lines.no_input.wav"]
    assert "rate 6000 Hz" in problems["lines.transfer.wav"]
    assert set(problems) == {
        "nodes.q2.say.wav",
        "nodes.q3.say.wav",
        "lines.clarify.wav",
        "lines.no_input.wav",
        "lines.transfer.wav",
    }


def test_the_command_lists_what_to_record_and_fails_while_any_is_missing(tmp_path: Path) -> None:
    _, path, _, folder = packed_script(tmp_path)
    out: list[str] = []
    assert show_prompts(path, write=out.append) == 0
    assert any("'您好，这里是'" in line for line in out) and "(synthesised) {name}" in "\n".join(
        out
    )
    (folder / "voicemail.message-2.wav").unlink()
    out.clear()
    assert show_prompts(path, write=out.append) == 1
    assert f"missing: {folder / 'voicemail.message-2.wav'}" in out


def _longest_quiet_run(pcm: np.ndarray) -> float:
    n = RATE // 100
    frames = pcm[: len(pcm) // n * n].astype(np.float64).reshape(-1, n)
    quiet = np.sqrt(np.mean(frames**2, axis=1)) < 32768 * 10 ** (-45 / 20)
    longest = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        longest = max(longest, run)
    return longest * 0.01


def _active_frame_db(pcm: np.ndarray) -> np.ndarray:
    n = RATE // 50
    frames = pcm[: len(pcm) // n * n].astype(np.float64).reshape(-1, n)
    db = 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)) / 32768, 1e-9))
    return db[db > -45]


def test_recorded_parts_and_variables_join_without_gaps_or_level_jumps(tmp_path: Path) -> None:
    script, _, lines, folder = packed_script(tmp_path)
    voice = LoudVoice()
    tts = PromptedSpeech(voice, PromptPack(lines, folder, RATE), RATE, normalize=normalize)
    contact = {**script.example_contact, "company": "中国电信"}
    greeting = filled(text_of(script.nodes["greet"].say, "zh"), contact)
    assert not tts.ready(greeting)
    assert tts.prerender([greeting], personal=True) == 2  # the company and the name
    assert tts.ready(greeting) and voice.said == ["中国电信", "李女士"]

    async def stream(text: str) -> list[np.ndarray]:
        return [pcm async for pcm in tts.stream(text)]

    [block] = asyncio.run(stream(greeting))
    assert voice.said == ["中国电信", "李女士"]  # nothing synthesised during the call
    inner = block[int(0.1 * RATE) : -int(0.1 * RATE)]  # the recordings' own outer edges
    assert _longest_quiet_run(inner) <= PAUSE_S + 0.02  # a clause pause at most, no gap
    levels = _active_frame_db(block)
    assert np.percentile(levels, 95) - np.percentile(levels, 5) < 2.0  # no level jump
    assert abs(np.median(levels) - (-20.0)) < 1.5  # the variables at the recordings' level


def test_a_line_without_usable_recordings_is_synthesised_whole(tmp_path: Path) -> None:
    script, _, lines, folder = packed_script(tmp_path)
    (folder / "nodes.q1.say.wav").unlink()
    voice = LoudVoice()
    tts = PromptedSpeech(voice, PromptPack(lines, folder, RATE), RATE, normalize=normalize)
    q1 = text_of(script.nodes["q1"].say, "zh")
    assert tts.prerender([q1]) >= 1 and "".join(voice.said) == q1
    fixed = text_of(script.nodes["q2"].say, "zh")
    assert tts.prerender([fixed]) == 0 and tts.ready(fixed)  # recorded: nothing to synthesise
