"""Every YAML file a person writes goes through one guarded reader: a script, a campaign config
and the voicebot config all refuse an alias bomb and name the file and line of a parse error."""

from pathlib import Path

import pytest

from voicebot.app.config import VoicebotConfig
from voicebot.campaign.config import ConfigFileError, load_config
from voicebot.core.errors import ConfigError
from voicebot.policy.schema import ScriptError, load_script

pytestmark = pytest.mark.unit
BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, n in zip("abcdefg", "bcdefgh", strict=True)
)
LOADERS = [
    (load_script, ScriptError),
    (load_config, ConfigFileError),
    (VoicebotConfig.load, ConfigError),
]


@pytest.mark.parametrize(("load", "error"), LOADERS)
def test_an_alias_bomb_is_refused_before_it_expands(load, error, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB, encoding="utf-8")
    with pytest.raises(error, match="aliases expand to more than"):
        load(path)


@pytest.mark.parametrize(("load", "error"), LOADERS)
def test_a_parse_error_names_file_and_line_without_quoting_the_value(
    load, error, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\npassword: 'hunter2\nother: [1\n", encoding="utf-8")
    with pytest.raises(error) as e:
        load(path)
    message = str(e.value)
    assert message.startswith(f"{path}:") and "not valid YAML" in message
    assert "hunter2" not in message
