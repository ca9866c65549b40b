"""The part of carrying out the policy's actions that is the same on every transport: answers,
lead grade, callback and do-not-call go into the call report. The call session (phone lines)
and the LiveKit agent build on it and add speech, transfer and hang-up."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from voicebot.core.webhook import Delivery, Webhook, post_signed
from voicebot.metrics.report import CallReport
from voicebot.policy.actions import MarkDnc, Record, ScheduleCallback, SendSms, SetGrade, SlowDown

SMS_SENT = "sms.sent"  # recorded with each text message: whether the webhook took it


class ReportActions:
    """`report`: the call's report; `note(kind)`: puts an event on the call's timeline now;
    `sms`: the webhook text messages are posted to (None: none can be sent); `phone`: the
    number called, the message's recipient."""

    def __init__(
        self,
        report: CallReport,
        note: Callable[[str], None],
        sms: Webhook | None = None,
        phone: str | None = None,
    ) -> None:
        self.report, self.note = report, note
        self.sms, self.phone = sms, phone

    async def record(self, action: Record) -> None:
        self.report.records[action.field] = action.value

    async def set_grade(self, action: SetGrade) -> None:
        self.report.lead_grade = action.grade

    async def schedule_callback(self, action: ScheduleCallback) -> None:
        self.report.callback_requested = True
        self.report.callback_at = action.when.isoformat() if action.when else None

    async def mark_dnc(self, action: MarkDnc) -> None:
        self.report.dnc = True
        self.note("do_not_call")

    async def send_sms(self, action: SendSms) -> None:
        """Post the message to the SMS webhook (retried, signed) and record what came of it:
        in the report's `sms` list and as the `sms.sent` answer the campaign export shows."""
        if self.sms is None:
            delivery = Delivery(False, 0, None, "no sms webhook configured")
        else:
            payload = {
                "call_id": self.report.call_id,
                "to": self.phone,
                "language": self.report.language,
                "node": action.node,
                "text": action.text,
            }
            delivery = await asyncio.to_thread(post_signed, self.sms, payload)
        self.report.sms.append({"node": action.node, **delivery.as_record()})
        self.report.records[SMS_SENT] = delivery.ok
        self.note("sms_sent" if delivery.ok else "sms_failed")

    async def slow_down(self, action: SlowDown) -> None:
        """Noted on the timeline; a sink with a voice (the call session) also slows it."""
        self.note("slower_speech")
