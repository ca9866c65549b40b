"""Mandarin words heard as other characters of the same sound are read as the words the script
knows (pinyin-level matching; no model needed)."""

import pytest

from voicebot.nlu.homophones import Respeller

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def respeller() -> Respeller:
    return Respeller(["你们怎么知道我的号码", "服务态度太差了", "请问您对维修满意吗", "我要投诉"])


@pytest.mark.parametrize(
    ("heard", "meant"),
    [
        ("你们怎么会有这个好吗", "你们怎么会有这个号码"),  # hao ma
        ("先好太查了", "先好太差了"),  # tai cha: 太差 is a word of "服务态度太差了"
        ("我对这次为修很不满", "我对这次维修很不满"),  # wei xiu, a word of the script's own line
        ("那我要投书", "那我要投诉"),  # tou shu ~ tou su: fuzzy pinyin's sh/s
    ],
)
def test_a_same_sounding_run_is_spelled_as_the_known_word(
    respeller: Respeller, heard: str, meant: str
) -> None:
    assert respeller.respell(heard) == meant


@pytest.mark.parametrize("text", ["不可以", "好可爱", "是", "我的号码", "OK，就这样", ""])
def test_other_text_stays_as_heard(respeller: Respeller, text: str) -> None:
    assert respeller.respell(text) == text
