"""Reconnect backoff: exponential, capped, jittered downwards only."""

import random

import pytest

from tradeterm.exchange.backoff import Backoff


def test_ceiling_doubles_from_initial_and_caps_at_maximum():
    b = Backoff(0.5, 30.0)
    assert [b.ceiling(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert b.ceiling(10_000) == 30.0  # no overflow after days of failures


def test_delay_is_jittered_within_bounds_and_reproducible_with_a_seed():
    a = Backoff(1.0, 8.0, jitter=0.25, rng=random.Random(7))
    b = Backoff(1.0, 8.0, jitter=0.25, rng=random.Random(7))
    delays = [a.delay(n) for n in range(1, 7)]
    assert delays == [b.delay(n) for n in range(1, 7)]
    for n, d in enumerate(delays, start=1):
        assert 0.75 * a.ceiling(n) <= d <= a.ceiling(n)
    assert len(set(delays)) == len(delays)  # jitter actually varies the waits


def test_bad_parameters_are_rejected():
    with pytest.raises(ValueError):
        Backoff(0, 1)
    with pytest.raises(ValueError):
        Backoff(2, 1)


def test_failure_descriptions_are_one_line_and_include_the_cause():
    from tradeterm.exchange.errors import one_line, with_cause

    try:
        try:
            raise ConnectionRefusedError("Connect call failed\n('127.0.0.1', 9)")
        except ConnectionRefusedError as cause:
            raise RuntimeError("binance GET http://127.0.0.1:9/api/v3/exchangeInfo") from cause
    except RuntimeError as exc:
        text = with_cause(exc)
    assert text.startswith("binance GET") and "Connect call failed ('127.0.0.1', 9)" in text
    assert "\n" not in text
    assert len(one_line(ValueError("x" * 500))) == 200
