from pathlib import Path

import pytest

from voicebot.core.errors import ModelError
from voicebot.models.registry import ModelRegistry, load_manifest

pytestmark = pytest.mark.unit


def _registry(tmp_path, **changes):  # type: ignore[no-untyped-def]
    specs = [
        s.model_copy(update=changes) if s.name == "whisper-tiny-en" else s for s in load_manifest()
    ]
    return ModelRegistry(specs, cache=tmp_path)


def test_missing_package_names_model_package_and_install_command(tmp_path) -> None:
    reg = _registry(tmp_path, root="not_installed_pkg:model", install="not-installed-pkg==1.0")
    with pytest.raises(ModelError) as e:
        reg.resolve("whisper-tiny-en")
    msg = str(e.value)
    assert "whisper-tiny-en" in msg and "not_installed_pkg" in msg
    assert "pip install not-installed-pkg==1.0" in msg


def test_corrupt_model_fails_its_checksum(tmp_path) -> None:
    reg = _registry(tmp_path, sha256="0" * 64)
    with pytest.raises(ModelError, match=r"corrupt .*reinstall"):
        reg.resolve("whisper-tiny-en")
    assert not reg.check("whisper-tiny-en").ok


def test_assembled_parts_are_verified(tmp_path) -> None:
    specs = [
        s.model_copy(update={"sha256": "f" * 64}) if s.name == "whisper-base" else s
        for s in load_manifest()
    ]
    with pytest.raises(ModelError, match="fails its checksum"):
        ModelRegistry(specs, cache=tmp_path).resolve("whisper-base")
    assert not (tmp_path / "models" / "whisper-base" / "model.bin").exists()


def test_user_path_overrides_the_package(tmp_path) -> None:
    (tmp_path / "voice.onnx").write_bytes(b"x")
    reg = ModelRegistry(cache=tmp_path)
    reg.use_path("piper-en-us-joe", tmp_path / "voice.onnx")
    assert reg.resolve("piper-en-us-joe") == tmp_path
    reg.use_path("whisper-base", tmp_path / "nowhere")
    with pytest.raises(ModelError, match="user-supplied path"):
        reg.resolve("whisper-base")


def test_every_bundled_model_checks_ok() -> None:
    """Converted models (made by `voicebot models prepare`) are tested in test_zh_voice.py."""
    reg = ModelRegistry()
    bad = [s for s in (reg.check(n) for n in reg.specs if not reg.spec(n).convert) if not s.ok]
    assert not bad, bad


def test_the_user_config_rejects_unknown_and_moved_settings(tmp_path: Path) -> None:
    from voicebot.app.config import VoicebotConfig
    from voicebot.core.errors import ConfigError

    typo = tmp_path / "typo.yaml"
    typo.write_text("call:\n  no_input_seconds: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"typo\.yaml: call\.no_input_seconds: Extra inputs"):
        VoicebotConfig.load(typo)
    moved = tmp_path / "old.yaml"
    moved.write_text("endpoint:\n  hangover_ms: 500\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"old\.yaml: endpoint is now call\.endpoint"):
        VoicebotConfig.load(moved)
    good = tmp_path / "good.yaml"
    good.write_text("call:\n  no_input_s: 3\n  endpoint: {hangover_ms: 500}\n", encoding="utf-8")
    config = VoicebotConfig.load(good)
    assert (config.call.no_input_s, config.call.endpoint.hangover_ms) == (3, 500)


def test_a_yaml_error_in_the_config_names_the_place_but_never_quotes_the_line(
    tmp_path: Path,
) -> None:
    from voicebot.app.config import VoicebotConfig
    from voicebot.core.errors import ConfigError

    broken = tmp_path / "voicebot.yaml"
    broken.write_text('sip:\n  trunk:\n    password: "hunter2: [oops\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        VoicebotConfig.load(broken)
    assert str(e.value).startswith(f"{broken}:") and "not valid YAML" in str(e.value)
    assert "hunter2" not in str(e.value)
