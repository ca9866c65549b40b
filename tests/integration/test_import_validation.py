"""Bad input at import: NUL and control characters are stripped, over-long values reject their
row (never truncated), a header given twice is an error naming file and line, a phone extension
is kept in its own field, deep JSON is refused cleanly; campaign configs with an unknown key or
an alias bomb are errors naming the file (and line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.test_campaign import write_csv
from voicebot.campaign.config import CampaignConfig, ConfigFileError, load_config
from voicebot.campaign.contacts import clean_text, import_contacts
from voicebot.campaign.models import Contact
from voicebot.campaign.store import CampaignError, Store
from voicebot.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'v.db'}")
    store.create("v", "prompts/survey_en.yaml", CampaignConfig())
    return store


def contacts(store: Store) -> dict[str, Contact]:
    with store.session() as s:
        return {c.phone: c for c in s.scalars(select(Contact))}


def test_control_characters_are_stripped_and_long_values_reject_the_row(
    store: Store, tmp_path: Path
) -> None:
    rows = [
        {"phone": "+1 212 555 0100", "name": "Ann\x00\n Lee\x1b[31m", "plan": "go\x00ld\r\nplus"},
        {"phone": "+1 212 555 0101", "name": "x" * 201, "plan": ""},
        {"phone": "+1 212 555 0102", "name": "Bo", "plan": "p" * 1001},
        {"phone": "+1 212 555 0103", "name": "\u202eevil", "plan": ""},
    ]
    result = import_contacts(store, "v", write_csv(tmp_path / "c.csv", rows))
    assert result.imported == 2
    assert result.rejected == [
        "row 3: name: longer than 200 characters",
        "row 4: plan: longer than 1000 characters",
    ]
    got = contacts(store)
    assert got["+12125550100"].name == "Ann  Lee[31m"  # a name is one line
    assert got["+12125550100"].variables["plan"] == "gold\nplus"  # a note may have lines
    assert got["+12125550103"].name == "evil"
    assert all("\x00" not in c.name for c in got.values())


def test_a_header_given_twice_names_file_and_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("phone,name,Name \n+12125550100,Ann,Bo\n", encoding="utf-8")
    with pytest.raises(CampaignError, match=r"dup\.csv:1: the column 'name' is in the header"):
        import_contacts(store, "v", path)
    assert contacts(store) == {}


def test_extensions_are_kept_in_their_own_field(store: Store, tmp_path: Path) -> None:
    rows = [
        {"phone": "+1 212 555 0100 ext. 12", "extension": ""},
        {"phone": "(212) 555-0101 x34", "extension": ""},
        {"phone": "+1 212 555 0102", "extension": "56"},
        {"phone": "+1 212 555 0103 ext. 7", "extension": "8"},  # which one?
        {"phone": "+1 212 555 0104", "extension": "12a"},
    ]
    result = import_contacts(store, "v", write_csv(tmp_path / "e.csv", rows))
    assert result.imported == 3
    assert result.rejected == [
        "row 5: extension: the number's and the extension column's differ",
        "row 6: extension: digits only",
    ]
    got = contacts(store)
    assert [got[f"+121255501{i:02d}"].extension for i in range(3)] == ["12", "34", "56"]
    assert all("extension" not in c.variables for c in got.values())


def test_json_contacts_deep_nested_null_and_repeated_keys(store: Store, tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('[{"phone": "+12125550100", "x": ' + "[" * 50_000 + "]" * 50_000 + "}]")
    with pytest.raises(CampaignError, match="nested too deeply"):
        import_contacts(store, "v", deep)
    items = tmp_path / "c.json"
    items.write_text(
        '[{"phone": "+12125550100", "name": null, "plan": null},'
        ' {"phone": "+12125550101", "extra": {"a": [1, 2]}},'
        ' {"phone": "+12125550102", "name": "A", "Name": "B"}]',
        encoding="utf-8",
    )
    result = import_contacts(store, "v", items)
    assert result.imported == 1
    assert result.rejected == [
        "row 2: extra: a nested value (contact fields are text)",
        "row 3: field 'name' given twice",
    ]
    [only] = contacts(store).values()
    assert only.name == "" and only.variables == {"plan": ""}


def test_clean_text_keeps_ordinary_text() -> None:
    assert clean_text("  José 王小明 O'Brien-Smith ") == "José 王小明 O'Brien-Smith"
    assert clean_text("a\tb\r\nc", one_line=True) == "a b c"
    assert clean_text("a\tb\r\nc\x00") == "a\tb\nc"


def test_unknown_config_keys_are_errors_naming_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "campaign.yaml"
    path.write_text(
        "window:\n  start: '09:00'\n  ends: '17:00'\nmax_attempt: 1\n"
        "retries:\n  busy: {max: 1, after: 5}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigFileError) as error:
        load_config(path)
    message = str(error.value)
    for where in ("campaign.yaml:3: window.ends: unknown key", "campaign.yaml:4: max_attempt"):
        assert where in message
    assert "campaign.yaml:6: retries.busy.after: unknown key" in message
    ok = tmp_path / "ok.yaml"
    ok.write_text("max_attempts: 2\nwindow: {start: '08:00', end: '18:00'}\n", encoding="utf-8")
    assert load_config(ok).max_attempts == 2


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("rules: [{field: plan, op: in, reason: bomb, value: *a8}]")
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="aliases expand to more than"):
        load_config(bomb)
    loop = tmp_path / "loop.yaml"
    loop.write_text("rules: &r [*r]\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="aliases expand"):
        load_config(loop)
    shared = tmp_path / "shared.yaml"  # a modest anchor is fine
    shared.write_text(
        "retries:\n  busy: &r {max: 1, after_min: 5}\n  no_answer: *r\n", encoding="utf-8"
    )
    assert load_config(shared).retries["no_answer"].max == 1


def test_the_cli_reports_a_config_typo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("concurency: 3\n", encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    args = ["campaign", "--db", db, "create", "x", "--script", "prompts/survey_en.yaml"]
    assert main([*args, "--config", str(config)]) == 2
    assert "c.yaml:1: concurency: unknown key" in capsys.readouterr().err
    assert json.dumps(CampaignConfig().model_dump(mode="json"))  # the defaults still dump
