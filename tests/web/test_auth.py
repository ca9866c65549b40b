"""Pure parts of the console's access control: roles, phone masking, the login rate limit,
password and token hashing."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from voicebot.campaign.store import Store, utcnow
from voicebot.web.auth import (
    LoginLimiter,
    Principal,
    add_user,
    check_password,
    from_session,
    hash_password,
    login,
    mask_phone,
)
from voicebot.web.models import WebSession
from voicebot.web.views import report_for

pytestmark = pytest.mark.unit


def test_roles_include_the_ones_below() -> None:
    viewer, operator, admin = (Principal(1, "x", r) for r in ("viewer", "operator", "admin"))
    assert viewer.can("viewer") and not viewer.can("operator")
    assert operator.can("viewer") and operator.can("operator") and not operator.can("admin")
    assert admin.can("operator") and admin.can("admin")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("+14155550167", "+1 415 ***-**67"),
        ("+4930123456", "+49 30 ****56"),
        ("+8613800138000", "+86 138 **** **00"),
        ("+442079460958", "+44 20 **** **58"),
    ],
)
def test_masked_numbers_keep_country_area_and_last_two(phone: str, masked: str) -> None:
    assert mask_phone(phone) == masked
    assert sum(c.isdigit() for c in masked) < sum(c.isdigit() for c in phone) - 3


def test_login_limit_per_key_and_window() -> None:
    limiter = LoginLimiter(limit=3, window_s=60)
    for _ in range(3):
        assert limiter.retry_after("user:ann", "addr:1") == 0
        limiter.failed("user:ann", "addr:1")
    assert 0 < limiter.retry_after("user:ann") <= 60
    assert limiter.retry_after("user:bob", "addr:1") > 0  # the address is limited too
    assert limiter.retry_after("user:bob", "addr:2") == 0
    limiter.succeeded("user:ann", "addr:1")
    assert limiter.retry_after("user:ann", "addr:1") == 0
    assert LoginLimiter(limit=1, window_s=0.0).retry_after("k") == 0


def test_passwords_are_salted_scrypt() -> None:
    a, b = hash_password("correct horse battery"), hash_password("correct horse battery")
    assert a != b and a.startswith("scrypt$") and "correct" not in a
    assert check_password("correct horse battery", a)
    assert not check_password("wrong horse battery", a) and not check_password("x", None)


def test_viewers_get_numeric_answers_only() -> None:
    data = {"questions": {"survey.quality": {"4": 2, "5": 1}, "survey.comment": {"late": 1}}}
    assert report_for(data, pii=False)["questions"] == {"survey.quality": {"4": 2, "5": 1}}
    assert report_for(data, pii=True) == data


def test_the_login_limiter_forgets_stale_addresses_and_keeps_limiting_live_ones() -> None:
    limiter = LoginLimiter(limit=2, window_s=0.05, max_keys=100)
    for i in range(100):
        limiter.failed(f"addr:{i}")
    time.sleep(0.06)  # all of them are now outside the window
    limiter.failed("addr:new")
    limiter.failed("addr:new")
    assert len(limiter._failures) == 1  # memory stays bounded under a spray of addresses
    assert limiter.retry_after("addr:new") > 0  # and the live one is still limited


def test_expired_browser_sessions_are_deleted_at_the_next_login(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    add_user(store, "ann", "viewer", "correct horse battery")
    old = login(store, "ann", "correct horse battery")
    assert old is not None
    with store.session() as s:
        for row in s.scalars(select(WebSession)):
            row.expires_at = utcnow() - timedelta(minutes=1)
    assert from_session(store, old[0]) is None
    assert login(store, "ann", "correct horse battery") is not None
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 1  # the new one only
