"""Three campaigns on one store call the same person: the per-number caps hold across them
(dials per local day and per week), and a premium-rate number is never dialled."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from voicebot.app.trunks import SimulatedTrunk
from voicebot.campaign.config import DAYS, CallingWindow, CampaignConfig, RetryRule, Rule
from voicebot.campaign.contacts import import_contacts
from voicebot.campaign.dialer import Dialer, WallClock
from voicebot.campaign.models import Attempt, Contact
from voicebot.campaign.safeguards import DialPolicy
from voicebot.campaign.store import Store
from voicebot.core.clock import VirtualClock
from voicebot.core.outcomes import Outcome

pytestmark = pytest.mark.integration
START = datetime(2026, 11, 23, 6, 0)  # a Monday, 06:00 UTC
PERSON, PREMIUM = "+12125550100", "+19005551234"
NEW_YORK = ZoneInfo("America/New_York")


def test_caps_hold_across_campaigns_and_premium_numbers_are_never_dialled(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    always = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    config = CampaignConfig(
        window=always, max_attempts=6, retries={"busy": RetryRule(max=5, after_min=1)}
    )
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(f"phone\n{PERSON}\n{PREMIUM}\n", encoding="utf-8")
    for name in ("a", "b", "c"):
        store.create(name, "prompts/survey_en.yaml", config)
        import_contacts(store, name, contacts)

    vc = VirtualClock()
    clock = WallClock(vc, START)
    policy = DialPolicy(max_attempts_per_day=3, max_attempts_per_week=10)

    async def run_all() -> list[str]:
        dialers = [
            Dialer(
                store,
                name,
                SimulatedTrunk(clock, outcomes={Outcome.BUSY: 1.0}),
                clock,
                poll_s=None,
                dial=policy,
            )
            for name in ("a", "b", "c")
        ]
        return list(await asyncio.gather(*(d.run() for d in dialers)))

    assert asyncio.run(vc.run(run_all())) == ["done", "done", "done"]
    with store.session() as s:
        dialled = s.execute(
            select(Contact.phone, Attempt.started_at).join(
                Contact, Attempt.contact_id == Contact.id
            )
        ).all()
        premium = s.scalars(select(Contact).where(Contact.phone == PREMIUM)).all()
    assert {phone for phone, _ in dialled} == {PERSON}  # the premium number: never
    assert [c.state for c in premium] == ["skipped"] * 3 and "premium" in (premium[0].reason or "")
    assert len(dialled) == 18  # every campaign used all its attempts, over the days
    local_days = Counter(
        t.replace(tzinfo=ZoneInfo("UTC")).astimezone(NEW_YORK).date() for _, t in dialled
    )
    assert max(local_days.values()) == 3  # never more than the cap in one of the person's days
    times = sorted(t for _, t in dialled)
    for i, t in enumerate(times):
        assert sum(t - timedelta(days=7) < u <= t for u in times[: i + 1]) <= 10  # nor a week


# every documented rule type: (op, value, a passing contact's field, a failing one's)
RULES = [
    ("eq", "active", "active", "closed"),
    ("ne", "closed", "active", "closed"),
    ("in", ["basic", "plus"], "plus", "gold"),
    ("not_in", ["gold"], "basic", "gold"),
    ("gte", 18, "42", "17"),
    ("lte", 65, "42", "70"),
    ("days_since_gte", 30, "2026-09-01", "2026-11-20"),
]


@pytest.mark.parametrize(("op", "value", "passes", "fails"), RULES, ids=[r[0] for r in RULES])
def test_every_rule_type_goes_through_import_and_dial(  # type: ignore[no-untyped-def]
    op, value, passes, fails, tmp_path: Path
) -> None:
    store = Store(f"sqlite:///{tmp_path / 'store.db'}")
    always = CallingWindow(start="00:00", end="23:59:59", days=list(DAYS))
    rule = Rule(field="field", op=op, value=value, reason="rule says no")
    store.create("r", "prompts/survey_en.yaml", CampaignConfig(window=always, rules=[rule]))
    contacts = tmp_path / "contacts.csv"
    contacts.write_text(
        f"phone,field\n+12125550100,{passes}\n+12125550101,{fails}\n", encoding="utf-8"
    )
    import_contacts(store, "r", contacts)
    vc = VirtualClock()
    clock = WallClock(vc, START)
    dialer = Dialer(
        store, "r", SimulatedTrunk(clock, outcomes={Outcome.COMPLETED: 1.0}), clock, poll_s=None
    )
    assert asyncio.run(vc.run(dialer.run())) == "done"
    with store.session() as s:
        states = {c.phone: (c.state, c.reason) for c in s.scalars(select(Contact))}
        dialled = {a.contact_id for a in s.scalars(select(Attempt))}
    assert states["+12125550100"][0] == "done"
    assert states["+12125550101"] == ("skipped", "rule says no")
    assert len(dialled) == 1
