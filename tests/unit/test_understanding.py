"""Understanding rules of the policy and the slot parsers: a keyword yes never overrides a
contrary or unsure classifier, speech without words is never silence, ratings in words."""

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import ROOT
from voicebot.asr.whisper import Transcript
from voicebot.nlu.grammar import answer_grammar
from voicebot.nlu.slots import not_an_answer, plain_yes, rating, yes_no
from voicebot.policy.actions import Heard, Record, Say, Transfer, Unheard
from voicebot.policy.engine import Policy
from voicebot.policy.schema import load_script
from voicebot.session.listener import first_reading, pick_answer

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 1, 10, 0)
SURVEY, REMINDER = ROOT / "prompts" / "survey_en.yaml", ROOT / "prompts" / "reminder_en.yaml"
UPGRADE = ROOT / "prompts" / "upgrade_zh.yaml"


def run(script: Path, events: list):  # type: ignore[no-untyped-def]
    policy = Policy(load_script(script))
    state, actions = policy.start(dict(policy.script.example_contact))
    for event in events:
        state, more = policy.step(state, event)
        actions += more
    return policy, state, actions


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("她不在家，我是她妈妈", "zh"),
        ("这是什么套餐啊", "zh"),
        ("你们是骗子吧", "zh"),
        ("我再考虑考虑", "zh"),
        ("okay, and where is the clinic?", "en"),
        ("No, I'm her mother.", "en"),
        ("Maybe, I'd have to check.", "en"),
    ],
)
def test_doubts_questions_and_other_people_are_not_a_yes(text: str, language: str) -> None:
    assert yes_no(text, language) is not True
    assert not_an_answer(text, language) is not None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("好的", "zh", True),
        ("对，我就是。", "zh", True),
        ("不用，谢谢。", "zh", False),
        ("没空。", "zh", False),
        ("Yes, this is she.", "en", True),
        ("Unfortunately not.", "en", False),
    ],
)
def test_plain_yes_and_no_variants(text: str, language: str, expected: bool) -> None:
    assert yes_no(text, language) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("一般", 3),
        ("还行", 3),
        ("比较满意", 4),
        ("非常不满意", 1),
        ("不太满意", 2),
        ("满分", 5),
        ("一般，三分吧", 3),
        ("给四分", 4),
    ],
)
def test_mandarin_rating_words(text: str, expected: int | None) -> None:
    assert rating(text, "zh", 1, 5) == expected


def test_a_keyword_yes_does_not_pass_the_identity_check_against_the_classifier() -> None:
    mother = Heard("她不在家，我是她妈妈", "wrong_person", 0.2, NOW)  # unsure classifier
    _, state, actions = run(UPGRADE, [mother])
    assert state.node == "greet" and not state.identity_confirmed
    assert [a.node for a in actions if isinstance(a, Say)][-1] in ("clarify", "greet.reprompt")


def test_a_question_at_the_offer_is_never_a_grade_a_lead() -> None:
    events = [Heard("是的", "affirm", 0.9, NOW), Heard("可以", "affirm", 0.9, NOW)]
    question = Heard("好，这是什么套餐啊", "affirm", 0.5, NOW)  # classifier fooled, words not
    _, state, actions = run(UPGRADE, [*events, question])
    assert state.node == "rules" and not any(isinstance(a, Transfer) for a in actions)


def test_a_question_after_okay_does_not_confirm_the_appointment() -> None:
    yes = Heard("yes", "affirm", 0.9, NOW)
    _, state, actions = run(
        REMINDER, [yes, Heard("okay, and where is the clinic?", "other", 0.1, NOW)]
    )
    assert not any(isinstance(a, Record) and a.field == "appointment.status" for a in actions)
    assert state.node == "remind"


def test_speech_without_words_gets_clarify_then_a_rephrase_never_the_no_input_line() -> None:
    _, _, actions = run(SURVEY, [Heard("yes", "affirm", 0.9, NOW), Unheard(1.1), Unheard(0.9)])
    says = [a.node for a in actions if isinstance(a, Say)]
    assert says[-2:] == ["clarify", "purpose.reprompt"] and "no_input" not in says
    _, _, more = run(SURVEY, [Unheard(1.0)] * 3)
    assert any(isinstance(a, Transfer) for a in more) and "no_input" not in [
        a.node for a in more if isinstance(a, Say)
    ]


def test_handoff_summary_says_identity_confirmed_only_after_a_yes() -> None:
    policy, state, _ = run(SURVEY, [Heard("get me a person", "want_human", 0.9, NOW)])
    assert "Identity not confirmed" in policy.summary(state, "caller asked for a person")
    policy, state, _ = run(SURVEY, [Heard("yes", "affirm", 0.9, NOW)])
    assert "Identity confirmed" in policy.summary(state, "x")


def test_closed_questions_have_answer_grammars_open_ones_none() -> None:
    four = answer_grammar("rating", (1, 5), "en")
    assert four is not None and four.candidates[3] == "Four." and not four.parses("the eye")
    assert four.parses("I'd say four")
    assert answer_grammar("yes_no", (1, 5), "zh") is not None
    assert answer_grammar("when", (1, 5), "en") is None


def _dropped(raw: str, why: str = "no_speech_prob 0.69") -> Transcript:
    return Transcript("", "zh", 0.0, 0.69, 0.8, 0.2, 10.0, why, raw, -1.5, 0.7)


def test_a_close_rescoring_takes_the_rating_the_free_decode_read_first() -> None:
    grammar = answer_grammar("rating", (1, 5), "zh")
    assert grammar is not None
    scores = [-2.69, -3.3, -3.5, -3.2, -3.01]  # 一分 on top, 0.32 ahead of 五分
    assert pick_answer(grammar, scores) is None  # too close on its own
    assert pick_answer(grammar, scores, first_reading(_dropped("一分"))) == ("一分。", -2.69)
    # the readings disagree, or the first one is the bot's own question echoed: no answer
    assert pick_answer(grammar, scores, first_reading(_dropped("五分"))) is None
    assert pick_answer(grammar, scores, first_reading(_dropped("就是一个问题吧我想问一下"))) is None
    echo = _dropped("请打一分到五分", "echo of the question")
    assert pick_answer(grammar, scores, first_reading(echo)) is None
    assert pick_answer(grammar, [-6.0, -7.0, -7.0, -7.0, -7.0], "一分") is None  # fits nothing
    assert pick_answer(grammar, [-2.5, -2.5, -4.0, -4.0, -4.0], "一分") is None  # a tie
    assert pick_answer(grammar, [-2.0, -3.5, -4.0, -4.0, -4.0]) == ("一分。", -2.0)  # clear


def test_a_yes_read_twice_from_unsure_audio_is_still_not_taken() -> None:
    grammar = answer_grammar("yes_no", (1, 5), "zh")
    assert grammar is not None  # 是的 0.4 ahead of 不是: a false yes costs more than a reprompt
    assert pick_answer(grammar, [-2.0, -2.6, -2.9, -2.4, -3.0], "是") is None


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("Speaking.", "en", True),
        ("Sure, go ahead.", "en", True),
        ("嗯，是我本人。", "zh", True),
        ("I will be able to make it.", "en", False),
        ("Yes, good name.", "en", False),
        ("好可爱", "zh", False),
        ("还是老样子没修好", "zh", False),
    ],
)
def test_a_plain_yes_is_the_whole_turn_not_a_yes_word_in_a_sentence(
    text: str, language: str, expected: bool
) -> None:
    assert plain_yes(text, language) is expected


def test_a_misheard_sentence_with_a_yes_word_is_no_yes_for_an_unsure_classifier() -> None:
    misheard = Heard("I will be able to make it.", "not_interested", 0.17, NOW)
    _, state, actions = run(REMINDER, [Heard("yes", "affirm", 0.9, NOW), misheard])
    assert state.node == "remind"
    assert not any(isinstance(a, Record) and a.field == "appointment.status" for a in actions)


def test_an_unsure_classifier_leaning_yes_does_not_confirm_on_a_yes_word_alone() -> None:
    # "Okay, and where is the clinic?" misheard: a yes word, a classifier barely leaning yes
    misheard = Heard("Okay, I'm going to be in the clinic.", "affirm", 0.14, NOW)
    _, state, actions = run(REMINDER, [Heard("yes", "affirm", 0.9, NOW), misheard])
    assert state.node == "remind"
    assert not any(isinstance(a, Record) and a.field == "appointment.status" for a in actions)
    assert [a.node for a in actions if isinstance(a, Say)][-1] in ("clarify", "remind.reprompt")
    # the same words from a classifier that is sure, or a plain yes however unsure: confirmed
    for heard in (
        Heard("Okay, I'm going to be in the clinic.", "affirm", 0.8, NOW),
        Heard("Okay.", "affirm", 0.14, NOW),
    ):
        _, state, actions = run(REMINDER, [Heard("yes", "affirm", 0.9, NOW), heard])
        assert any(isinstance(a, Record) and a.field == "appointment.status" for a in actions)


def test_an_echo_of_the_question_is_told_from_an_answer_that_repeats_a_few_words() -> None:
    from voicebot.asr.whisper import echoes

    question = "请问您对工作人员的服务态度满意吗？请打一到五分，五分是非常满意。"
    assert echoes("请问您对工作人员的服务态度满意吗，五分是非常满意吗", question)
    reprompt = "For example, tomorrow morning, or Friday at three?"
    assert not echoes("Friday at three.", reprompt) and not echoes("Tomorrow morning.", reprompt)


def test_a_decode_that_only_starts_the_question_again_is_decoded_without_the_prompt() -> None:
    from voicebot.asr.whisper import opens_a_sentence_of

    question = "请问您对工作人员的服务态度满意吗？请打一到五分，五分是非常满意。"
    assert opens_a_sentence_of("请问您。", question)
    assert opens_a_sentence_of("请打一", question)  # the second sentence's opening
    assert not opens_a_sentence_of("五分", question)  # an answer the question names
    assert not opens_a_sentence_of("满意", question) and not opens_a_sentence_of("请问", question)
    reprompt = "For example, tomorrow morning, or Friday at three?"
    assert opens_a_sentence_of("For example,", reprompt)
    assert not opens_a_sentence_of("Tomorrow morning.", reprompt)
    assert not opens_a_sentence_of("For.", reprompt)  # one word is too little to tell
