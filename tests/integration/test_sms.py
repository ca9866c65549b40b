"""A text message a script promises is really sent: a node's `sms:` step posts it to the
configured webhook (signed, retried, the result recorded), checked here by a real HTTP server on
127.0.0.1 that verifies the signature on its own; without a webhook the promise is never said
(the node's `without_sms` is taken); the linter fails a script that promises what no step
sends, in English and Mandarin, naming file and node."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from tests.conftest import ROOT
from voicebot.core.webhook import Webhook, post_signed
from voicebot.metrics.report import CallReport
from voicebot.policy.actions import Action, HangUp, Say, SendSms, carry_out
from voicebot.policy.lint import check_file, promises_sms
from voicebot.policy.schema import load_script
from voicebot.session.actions import SMS_SENT, ReportActions
from voicebot.session.dialogue import Dialogue, script_classifier

pytestmark = pytest.mark.integration
KEY = "s3cret-key"
NOW = datetime(2026, 11, 24, 10, 0)


class Receiver:
    """An SMS gateway stand-in: checks the HMAC of `<timestamp>.<body>` itself (not with the
    code under test) and answers with the statuses it is told, in turn (then 200)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = list(statuses)
        self.got: list[dict[str, Any]] = []
        self.bad = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers.get("X-Voicebot-Timestamp", "")
                want = hmac.new(KEY.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
                fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 60
                signed = self.headers.get("X-Voicebot-Signature") == f"sha256={want.hexdigest()}"
                if not (fresh and signed):
                    outer.bad += 1
                    code = 401
                else:
                    code = outer.statuses.pop(0) if outer.statuses else 200
                    if code == 200:
                        outer.got.append(json.loads(body))
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:  # the body is PII: nothing printed
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hook(self, key: str = KEY) -> Webhook:
        return Webhook(url=self.url, secret=key, allow_local_http=True, backoff_s=0.05)  # type: ignore[arg-type]


@pytest.fixture
def receiver(request: pytest.FixtureRequest) -> Iterator[Receiver]:
    r = Receiver(getattr(request, "param", []))  # the statuses to answer with, in turn
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


@pytest.mark.parametrize("receiver", [[503]], indirect=True)
def test_a_post_is_signed_retried_after_a_5xx_and_delivered(receiver: Receiver) -> None:
    delivery = post_signed(receiver.hook(), {"to": "+12125550100", "text": "hi"})
    assert (delivery.ok, delivery.tries, delivery.status) == (True, 2, 200)
    assert receiver.got == [{"to": "+12125550100", "text": "hi"}] and receiver.bad == 0


def test_a_wrong_key_is_refused_and_not_retried(receiver: Receiver) -> None:
    delivery = post_signed(receiver.hook("another-key"), {"text": "hi"})
    assert (delivery.ok, delivery.tries, delivery.status) == (False, 1, 401)
    assert receiver.bad == 1 and receiver.got == []


def test_no_server_is_tried_the_configured_times_then_recorded_as_failed() -> None:
    hook = Webhook(
        url="http://127.0.0.1:9/sms",  # discard port: nothing listens
        secret="k",  # type: ignore[arg-type]
        allow_local_http=True,
        attempts=2,
        backoff_s=0.01,
        timeout_s=2,
    )
    delivery = post_signed(hook, {"text": "hi"})
    assert not delivery.ok and delivery.tries == 2 and delivery.status is None
    assert delivery.error and "127.0.0.1" not in delivery.error  # the URL is not quoted


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://sms.example.com/send", True),  # http only to this machine
        ("http://127.0.0.1:8080/send", False),  # and only when allowed
        ("ftp://127.0.0.1/send", True),
    ],
)
def test_an_unsafe_webhook_is_refused(url: str, local: bool) -> None:
    with pytest.raises(ValidationError, match="https"):
        Webhook(url=url, secret="k", allow_local_http=local)  # type: ignore[arg-type]


def test_a_webhook_without_a_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOICEBOT_WEBHOOK_SECRET", raising=False)
    with pytest.raises(ValidationError, match="signing key"):
        Webhook(url="https://sms.example.com/send")


class Sink(ReportActions):
    """The report-writing sink of every transport, with the lines kept for the test."""

    def __init__(self, report: CallReport, hook: Webhook | None) -> None:
        super().__init__(report, lambda _kind: None, hook, "+12125550100")
        self.lines: list[str] = []

    async def say(self, action: Say) -> None:
        self.lines.append(action.text)

    async def transfer(self, action: Any) -> None:
        raise AssertionError("no hand-off expected")

    async def hang_up(self, action: HangUp) -> None:
        self.report.outcome = action.outcome


_classifier: list[Any] = []
TO_SMS_OFFER = ["对，我是本人", "好的", "不要"]  # identity, one minute, the offer: no


def call(store, hook: Webhook | None, turns: list[str]) -> tuple[Dialogue, Sink]:  # type: ignore[no-untyped-def]
    """`upgrade_zh` typed through the real classifier and policy, its actions carried out into
    a call report (the SMS through the webhook when there is one)."""
    script = load_script(ROOT / "prompts" / "upgrade_zh.yaml")
    if not _classifier:
        _classifier.append(script_classifier(script, "zh", store.encoder("zh")))
    d = Dialogue(script, "zh", _classifier[0], script.example_contact, sms=hook is not None)
    report = CallReport(
        call_id="t1", script=script.name, script_path="", language="zh", transport="test"
    )
    sink = Sink(report, hook)

    async def run() -> None:
        await carry_out(d.start(), sink)
        for words in turns:
            await carry_out(d.hear(words, NOW).actions, sink)

    asyncio.run(run())
    return d, sink


def test_the_promised_sms_is_sent_through_the_webhook_and_recorded(
    store, receiver: Receiver
) -> None:
    d, sink = call(store, receiver.hook(), [*TO_SMS_OFFER, "可以"])
    assert d.ended == "completed" and d.state is not None and d.state.path[-1] == "sms_close"
    assert any(promises_sms(line, "zh") for line in sink.lines)  # the promise was said ...
    [sent] = receiver.got  # ... and kept: one signed post with the filled-in message
    contact = d.policy.script.example_contact
    assert sent["to"] == "+12125550100" and sent["node"] == "sms_close"
    assert contact["plan_name"] in sent["text"] and "{" not in sent["text"]
    assert sink.report.sms == [
        {"node": "sms_close", "sent": True, "tries": 1, "status": 200, "error": None}
    ]
    assert sink.report.records[SMS_SENT] is True


@pytest.mark.parametrize("receiver", [[500, 500, 500]], indirect=True)
def test_a_failed_send_is_recorded_not_hidden(store, receiver: Receiver) -> None:
    _, sink = call(store, receiver.hook(), [*TO_SMS_OFFER, "可以"])
    assert sink.report.sms[0]["sent"] is False and sink.report.sms[0]["tries"] == 3
    assert sink.report.records[SMS_SENT] is False  # the export shows it: a follow-up


def test_without_a_webhook_no_sms_is_offered_or_promised(store) -> None:
    d, sink = call(store, None, TO_SMS_OFFER)
    assert d.state is not None and d.state.node == "consent"  # `retain`'s without_sms
    assert "retain" not in d.state.path
    d, sink = call(store, None, [*TO_SMS_OFFER, "可以"])
    assert not any(promises_sms(line, "zh") for line in sink.lines)
    assert sink.report.sms == [] and SMS_SENT not in sink.report.records


def test_the_policy_asks_for_the_message_before_hanging_up(store) -> None:
    script = load_script(ROOT / "prompts" / "upgrade_zh.yaml")
    if not _classifier:
        _classifier.append(script_classifier(script, "zh", store.encoder("zh")))
    d = Dialogue(script, "zh", _classifier[0], script.example_contact, sms=True)
    d.start()
    actions: list[Action] = []
    for words in [*TO_SMS_OFFER, "可以"]:
        actions = d.hear(words, NOW).actions
    kinds = [type(a) for a in actions]
    assert SendSms in kinds and kinds.index(SendSms) < kinds.index(HangUp)
    assert kinds.index(Say) < kinds.index(SendSms)


def promising(tmp_path: Path, name: str, edit: Any) -> list[str]:
    data = yaml.safe_load((ROOT / "prompts" / f"{name}.yaml").read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return check_file(path)


def test_a_promise_with_no_sms_step_fails_the_check_naming_file_and_node(tmp_path: Path) -> None:
    def en(data: dict[str, Any]) -> None:
        data["nodes"]["thanks_close"]["say"] = "Thank you. I'll text you a summary. Goodbye."

    [problem] = promising(tmp_path, "survey_en", en)
    assert problem.startswith(f"{tmp_path / 'survey_en.yaml'}:")
    assert "nodes.thanks_close.say" in problem and "no node of the script sends one" in problem

    def zh(data: dict[str, Any]) -> None:
        for key in ("sms", "without_sms"):
            del data["nodes"]["sms_close"][key]
        del data["nodes"]["retain"]["without_sms"]

    problems = promising(tmp_path, "upgrade_zh", zh)
    assert {p.split(": ")[1] for p in problems} == {"nodes.retain.say", "nodes.sms_close.say"}
    assert all(str(tmp_path / "upgrade_zh.yaml") in p for p in problems)


def test_a_promising_node_without_a_fallback_fails_the_check(tmp_path: Path) -> None:
    def zh(data: dict[str, Any]) -> None:
        del data["nodes"]["retain"]["without_sms"]

    [problem] = promising(tmp_path, "upgrade_zh", zh)
    assert "nodes.retain.say" in problem and "without_sms" in problem


@pytest.mark.parametrize(
    ("text", "lang", "promise"),
    [
        ("I'll text you the details.", "en", True),
        ("We'll send you an SMS with the address.", "en", True),
        ("You'll get the details by text.", "en", True),
        ("Thank you for your time.", "en", False),
        ("好的，短信稍后发到您手机上。", "zh", True),
        ("感谢您的接听，再见。", "zh", False),
    ],
)
def test_what_counts_as_an_sms_promise(text: str, lang: str, promise: bool) -> None:
    assert promises_sms(text, lang) is promise
