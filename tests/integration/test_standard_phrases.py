"""The standard phrases of a call centre, typed through the real intent classifier and the
policy (as `voicebot chat` does): each situation reaches its approved line and the right next
step, in English and Mandarin, and none reaches an agent unless the caller asked or complained."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from tests.conftest import ROOT
from voicebot.policy.actions import Action, HangUp, Say, SlowDown, Transfer
from voicebot.policy.schema import Script, load_script, text_of
from voicebot.session.dialogue import Dialogue, script_classifier

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 24, 10, 0)
_classifiers: dict[str, Any] = {}

# script -> the caller's first answer (the identity question), then the situation's words
OPENING = {
    "reminder_en": "yes this is Ben",
    "survey_en": "yes speaking",
    "followup_zh": "是的，我就是",
    "upgrade_zh": "对，我是本人",
}
# (script, what the caller says, the handler that must answer)
SITUATIONS = [
    ("reminder_en", "hang on, is this some kind of scam?", "is_scam"),
    ("survey_en", "how do I know this isn't a con?", "is_scam"),
    ("followup_zh", "你们不会是诈骗电话吧", "is_scam"),
    ("upgrade_zh", "你们是骗子吧", "is_scam"),
    ("reminder_en", "what's your agent ID?", "agent_id"),
    ("survey_en", "can I have your employee ID number?", "agent_id"),
    ("followup_zh", "你的工号是多少", "agent_id"),
    ("upgrade_zh", "麻烦报一下你的工号", "agent_id"),
    ("reminder_en", "you've been really helpful, thank you", "praise"),
    ("survey_en", "you lot do a great job, honestly", "praise"),
    ("followup_zh", "你们服务挺好的", "praise"),
    ("upgrade_zh", "你真专业，服务很好", "praise"),
    ("reminder_en", "when will you get back to me?", "when_followup"),
    ("survey_en", "when will somebody ring me back?", "when_followup"),
    ("followup_zh", "你们什么时候给我回电话", "when_followup"),
    ("upgrade_zh", "什么时候能有人打给我", "when_followup"),
]


def dialogue(store, name: str) -> Dialogue:  # type: ignore[no-untyped-def]
    script = load_script(ROOT / "prompts" / f"{name}.yaml")
    lang = script.languages[0]
    if name not in _classifiers:
        _classifiers[name] = script_classifier(script, lang, store.encoder(lang))
    d = Dialogue(script, lang, _classifiers[name], script.example_contact)
    d.start()
    return d


def past_identity(store, name: str) -> tuple[Dialogue, str]:  # type: ignore[no-untyped-def]
    """A call where the caller confirmed who they are: the node it now waits at."""
    d = dialogue(store, name)
    d.hear(OPENING[name], NOW)
    assert d.state is not None and not d.ended and d.state.identity_confirmed, d.state
    return d, d.state.node


def said(actions: list[Action]) -> list[str]:
    return [a.node for a in actions if isinstance(a, Say)]


def line(script: Script, name: str, language: str) -> str:
    handler = script.globals[name]
    assert handler.say is not None
    return text_of(handler.say, language)


@pytest.mark.parametrize(("name", "words", "intent"), SITUATIONS)
def test_situation_gets_its_line_then_the_call_goes_on(
    store, name: str, words: str, intent: str
) -> None:
    d, node = past_identity(store, name)
    reply = d.hear(words, NOW)
    assert reply.understood is not None and reply.understood.intent == intent, reply.understood
    assert said(reply.actions) == [f"global.{intent}", node]  # the approved line, then back
    assert not any(isinstance(a, Transfer | HangUp) for a in reply.actions)
    assert not d.ended and d.state is not None and d.state.node == node


@pytest.mark.parametrize("name", ["reminder_en", "upgrade_zh"])
def test_a_scam_worry_gets_a_verifiable_answer_not_a_sales_push(store, name: str) -> None:
    d, _ = past_identity(store, name)
    words = "is this a scam?" if name == "reminder_en" else "这是诈骗电话吧"
    reply = d.hear(words, NOW)
    answer = next(a.text for a in reply.actions if isinstance(a, Say))
    company = d.policy.script.example_contact["company"]
    assert company in answer  # who we are
    assert ("official website" in answer) or ("官网" in answer)  # how to check
    for push in ("offer", "优惠", "套餐", "办理"):
        assert push not in answer


@pytest.mark.parametrize(
    ("name", "first", "second"),
    [
        ("reminder_en", "how old are you, if you don't mind me asking?", "so are you married?"),
        ("followup_zh", "你结婚了没有", "你平时都喜欢干什么"),
    ],
)
def test_chit_chat_is_deflected_then_closed_politely(
    store, name: str, first: str, second: str
) -> None:
    d, node = past_identity(store, name)
    reply = d.hear(first, NOW)
    assert said(reply.actions) == ["global.chit_chat", node] and not d.ended
    reply = d.hear(second, NOW)
    assert said(reply.actions) == ["global.chit_chat"]
    assert d.ended == "callback" and not any(isinstance(a, Transfer) for a in reply.actions)
    assert reply.actions[-1] == HangUp("callback")


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("survey_en", "I have a suggestion: send a text the day before the visit"),
        ("upgrade_zh", "我提个建议，你们打电话之前先发个短信"),
    ],
)
def test_a_suggestion_is_kept_in_the_callers_words_and_thanked(
    store, name: str, words: str
) -> None:
    d, node = past_identity(store, name)
    reply = d.hear(words, NOW)
    assert said(reply.actions) == ["global.suggestion", node]
    assert d.state is not None and d.state.recorded()["feedback.suggestion"] == words


@pytest.mark.parametrize(
    ("name", "words"),
    [("reminder_en", "could you speak a bit slower please?"), ("followup_zh", "你说慢一点好吗")],
)
def test_speak_slower_slows_the_voice_once_for_the_rest_of_the_call(
    store, name: str, words: str
) -> None:
    d, node = past_identity(store, name)
    reply = d.hear(words, NOW)
    factor = d.policy.script.settings.slower_factor
    assert SlowDown(factor) in reply.actions and said(reply.actions) == [
        "global.speak_slower",
        node,
    ]
    assert reply.actions.index(SlowDown(factor)) < [type(a) for a in reply.actions].index(Say)
    again = d.hear(words, NOW)  # asked twice: not slower still (once is the setting)
    assert not any(isinstance(a, SlowDown) for a in again.actions)


@pytest.mark.parametrize(
    ("name", "words", "when"),
    [
        ("reminder_en", "not right now, thanks", "tomorrow at 3 pm"),
        ("survey_en", "not at the moment, sorry", "Friday at 10 am"),
        ("followup_zh", "暂时不需要", "明天下午三点"),
        ("upgrade_zh", "暂时不需要", "明天下午三点"),
    ],
)
def test_not_right_now_offers_a_callback_instead_of_a_refusal(
    store, name: str, words: str, when: str
) -> None:
    d, _ = past_identity(store, name)
    reply = d.hear(words, NOW)
    assert said(reply.actions) == ["global.not_now", "when_callback"] and not d.ended
    d.hear(when, NOW)
    assert d.ended == "callback"
    assert d.state is not None and d.state.recorded()["callback.requested"] is True


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("reminder_en", "I want to make a complaint, the receptionist was rude to me"),
        ("followup_zh", "我要投诉，上次来的师傅态度很差"),
    ],
)
def test_a_complaint_is_kept_in_the_callers_words_and_goes_to_an_agent(
    store, name: str, words: str
) -> None:
    d, _ = past_identity(store, name)
    reply = d.hear(words, NOW)
    assert any(isinstance(a, Transfer) and a.reason for a in reply.actions)
    assert d.state is not None and d.state.recorded()["followup.complaint"] == words
    assert d.state.awaiting_handoff


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("reminder_en", "what happens if I'm late, is there a fee?"),
        ("upgrade_zh", "合约到期以后怎么收费"),
    ],
)
def test_an_unsure_question_is_kept_answered_with_cant_answer_and_never_transferred(
    store, name: str, words: str
) -> None:
    d, _ = past_identity(store, name)
    reply = d.hear(words, NOW)
    script = d.policy.script
    cant = text_of(script.lines.cant_answer, d.policy.language)
    answer = [a for a in reply.actions if isinstance(a, Say)]
    assert answer[0].node == "global.ask_question" and answer[0].text == cant
    assert d.state is not None and d.state.recorded()["followup.question"] == words
    assert not any(isinstance(a, Transfer) for a in reply.actions) and not d.ended


@pytest.mark.parametrize(
    ("name", "abuse"),
    [
        ("survey_en", ["shut up, you idiot", "you stupid useless machine", "go to hell"]),
        ("upgrade_zh", ["神经病，闭嘴", "你有病吧", "神经病，闭嘴"]),
    ],
)
def test_abuse_asks_for_civility_says_the_call_is_recorded_then_ends(
    store, name: str, abuse: list[str]
) -> None:
    d, _ = past_identity(store, name)
    steps = [said(d.hear(words, NOW).actions) for words in abuse]
    assert steps == [["abuse_warning"], ["abuse_recorded"], ["abuse"]]
    assert d.ended == "abusive"


@pytest.mark.parametrize(
    ("name", "words"),
    [("survey_en", "not right now, thanks"), ("upgrade_zh", "暂时不需要，谢谢。")],
)
def test_not_right_now_twice_is_respected_as_a_refusal(store, name: str, words: str) -> None:
    d, _ = past_identity(store, name)
    assert said(d.hear(words, NOW).actions) == ["global.not_now", "when_callback"]
    reply = d.hear(words, NOW)  # asked when to call back: not then either
    assert said(reply.actions) == ["global.not_now"] and d.ended == "refused"
    assert not any(isinstance(a, Transfer) for a in reply.actions)
