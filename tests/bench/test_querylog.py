"""The peak rate of calls over sliding windows, as the tracking scenario computes it."""

from __future__ import annotations

import pytest
from bench.querylog import peak_rate


def test_evenly_spaced_calls_peak_at_their_rate() -> None:
    times = [i * 0.0625 for i in range(200)]  # 16 per second, exact in binary

    assert peak_rate(times, 1.0) == 16.0


def test_a_burst_shows_in_a_short_window_and_is_diluted_in_a_long_one() -> None:
    times = [0.0] * 30 + [5.0 + i for i in range(10)]

    assert peak_rate(times, 1.0) == 30.0
    # (-1, 9] holds the burst and the calls at 5, 6, 7, 8 and 9.
    assert peak_rate(times, 10.0) == pytest.approx(3.5)


def test_the_window_is_half_open() -> None:
    # Calls exactly one window apart never share a window.
    assert peak_rate([0.0, 1.0, 2.0], 1.0) == 1.0
