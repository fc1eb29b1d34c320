"""The retry schedule's arithmetic and Retry-After, and the settings' defaults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from aipaint.config import Settings
from aipaint.webhooks.jobs import next_delay, parse_retry_after

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_the_defaults_are_a_15_s_timeout_and_a_day_of_svix_like_retries() -> None:
    settings = Settings(_env_file=None)
    assert settings.webhook_timeout_s == 15.0
    schedule = settings.webhook_retry_schedule_s
    assert schedule == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    assert 86400 <= sum(schedule) <= 2 * 86400
    assert settings.webhook_secret_grace_s == 86400


class TestNextDelay:
    def test_steps_with_ten_percent_jitter(self) -> None:
        schedule = [0.0, 5.0, 300.0]
        for _ in range(50):
            assert 4.5 <= (next_delay(schedule, 1, None) or 0) <= 5.5
            assert 270 <= (next_delay(schedule, 2, None) or 0) <= 330

    def test_none_once_the_schedule_ran_out(self) -> None:
        assert next_delay([0.0, 5.0], 2, None) is None
        assert next_delay([0.0, 5.0], 7, 10.0) is None

    def test_a_longer_retry_after_wins_and_a_shorter_one_does_not(self) -> None:
        assert next_delay([0.0, 5.0], 1, 60.0) == 60.0
        assert 4.5 <= (next_delay([0.0, 5.0], 1, 1.0) or 0) <= 5.5
        assert next_delay([0.0, 5.0], 1, 10.0**9) == 86400.0


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("value", "seconds"),
        [
            ("120", 120.0),
            (" 7 ", 7.0),
            (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
            (format_datetime(NOW - timedelta(seconds=90), usegmt=True), 0.0),
            (None, None),
            ("", None),
            ("soon", None),
            ("-5", None),
        ],
    )
    def test_forms(self, value: str | None, seconds: float | None) -> None:
        assert parse_retry_after(value, NOW) == seconds
