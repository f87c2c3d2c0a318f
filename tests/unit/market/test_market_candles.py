"""Candle series: merged by open time, bounded."""

from tradeterm.core.models import Candle
from tradeterm.market.candles import CandleSeries


def c(t: int, close: float = 1.0) -> Candle:
    return Candle(open_time=t, open=1.0, high=2.0, low=0.5, close=close, volume=3.0)


def times(series: CandleSeries) -> list[int]:
    return [x.open_time for x in series.candles()]


def test_live_candle_with_same_open_time_replaces_the_last():
    s = CandleSeries(10)
    s.merge([c(0), c(60, close=1.0)])
    assert s.merge([c(60, close=5.0)])
    assert times(s) == [0, 60]
    assert s.candles()[-1].close == 5.0


def test_newer_candle_is_appended():
    s = CandleSeries(10)
    s.merge([c(0), c(60)])
    s.merge([c(120)])
    assert times(s) == [0, 60, 120]


def test_older_candle_out_of_order_is_inserted_in_place_or_replaces():
    s = CandleSeries(10)
    s.merge([c(0), c(120), c(180)])
    s.merge([c(60)])
    assert times(s) == [0, 60, 120, 180]
    assert s.merge([c(120, close=9.0)])
    assert s.candles()[2].close == 9.0
    assert times(s) == [0, 60, 120, 180]


def test_identical_candle_is_not_a_change():
    s = CandleSeries(10)
    s.merge([c(0), c(60)])
    before = s.candles()
    assert not s.merge([c(60)])
    assert s.candles() is before  # the cached tuple survives


def test_series_keeps_only_the_newest_max_len():
    s = CandleSeries(3)
    s.merge([c(t) for t in (0, 60, 120, 180, 240)])
    assert times(s) == [120, 180, 240]
    # Something older than everything kept, when full, is dropped at once.
    assert not s.merge([c(60)])
    assert times(s) == [120, 180, 240]


def test_history_refetch_overlapping_live_data_fills_the_hole():
    s = CandleSeries(100)
    s.merge([c(0), c(60)])
    s.merge([c(300, close=7.0)])  # live, after a reconnect: 120..240 missing
    s.merge([c(t) for t in (120, 180, 240, 300)])  # history refetch (300 is the REST view)
    assert times(s) == [0, 60, 120, 180, 240, 300]
