"""The trading state machine on a simulated clock: daily loss limit (halt, restart, 00:00 UTC
reset), kill switch, REDUCING, and the sliding orders-per-minute window."""

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from tradeterm.config import RiskSettings
from tradeterm.core.events import TradingStateChanged
from tradeterm.core.trading import AccountSnapshot, Bracket, OrderRequest, OrderType, Position
from tradeterm.risk import (
    DayState,
    RiskContext,
    RiskEngine,
    TradingState,
    flatten_requests,
    reduces_position,
)

T0 = 1_710_504_000_000  # 2024-03-15 12:00:00 UTC
MIDNIGHT = 1_710_547_200_000  # 2024-03-16 00:00:00 UTC
LOSS_REASON = (
    "daily_loss_limit: realised -300.00 today reached 3.00% of the day's starting equity "
    "10000.00 (-300.00); new entries halted until 00:00 UTC"
)


def unstamped(day: DayState) -> DayState:
    """``day`` without the time it was taken (``updated_ms``), to compare counters and reasons."""
    return replace(day, updated_ms=0)


class Clock:
    """A simulated clock in ms that tests move by hand."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


LONG = (Position("BTC/USDT", D("2"), D("100"), opened_ms=T0),)


def entry(symbol="BTC/USDT") -> OrderRequest:
    return OrderRequest(symbol, "buy", OrderType.LIMIT, D("1"), price=D("100"))


def close(qty="1", reduce_only=True) -> OrderRequest:
    return OrderRequest("BTC/USDT", "sell", OrderType.MARKET, D(qty), reduce_only=reduce_only)


def ctx(request, positions=LONG, equity="10000") -> RiskContext:
    return RiskContext(
        equity=D(equity),
        balance=D(equity),
        positions=positions,
        mid=D("100"),
        reduces=reduces_position(request, positions),
    )


def check(risk: RiskEngine, request: OrderRequest, **kw):
    return risk.check(request, ctx(request, **kw))


def states(events) -> list[tuple[str, str]]:
    return [(e.state, e.reason) for e in events if isinstance(e, TradingStateChanged)]


def lose_300(risk: RiskEngine) -> None:
    risk.tick(D("10000"))  # the day's starting equity
    risk.on_fill_realized(D("-200"))
    risk.on_fill_realized(D("-100"))


# -- daily loss limit -----------------------------------------------------------------------------


def test_daily_loss_just_inside_limit_then_still_active():
    risk = RiskEngine(RiskSettings(), Clock())
    risk.tick(D("10000"))
    risk.on_fill_realized(D("-299.99"))  # 3 % of 10000 is 300
    assert risk.state is TradingState.ACTIVE
    assert check(risk, entry()).approved


def test_daily_loss_reached_then_reducing_and_entries_denied():
    risk = RiskEngine(RiskSettings(), Clock())
    lose_300(risk)
    assert risk.state is TradingState.REDUCING
    assert risk.reason == LOSS_REASON
    assert states(risk.drain_events()) == [("reducing", LOSS_REASON)]
    decision = check(risk, entry())
    assert decision.rule == "daily_loss_limit"
    assert decision.reason == f"{LOSS_REASON}; only orders reducing a position pass"
    assert check(risk, close(reduce_only=False)).approved  # a plain sell reducing the long
    assert check(risk, close("2")).approved


def test_daily_loss_latched_for_the_day_even_after_a_later_profit():
    risk = RiskEngine(RiskSettings(), Clock())
    lose_300(risk)
    risk.on_fill_realized(D("250"))  # a reduction closed in profit
    assert risk.state is TradingState.REDUCING


def test_daily_loss_survives_restart_through_day_state():
    clock = Clock()
    risk = RiskEngine(RiskSettings(), clock)
    lose_300(risk)
    saved = risk.day_state()
    assert unstamped(saved) == DayState(date(2024, 3, 15), D("10000"), D("-300"),
                                        loss_reason=LOSS_REASON)
    assert saved.updated_ms == clock.now and saved.state is TradingState.REDUCING

    clock.now += 3_600_000  # restarted an hour later, same UTC day
    restarted = RiskEngine(RiskSettings(), clock)
    assert restarted.state is TradingState.ACTIVE
    restarted.restore(saved)
    assert restarted.state is TradingState.REDUCING
    assert states(restarted.drain_events()) == [("reducing", LOSS_REASON)]
    assert check(restarted, entry()).rule == "daily_loss_limit"
    assert unstamped(restarted.day_state()) == unstamped(saved)


def test_restored_losses_below_limit_then_one_more_loss_halts_entries():
    # Saved -250 of a 300 limit; the first -50 after the restart trips it.
    risk = RiskEngine(RiskSettings(), Clock())
    risk.restore(DayState(date(2024, 3, 15), D("10000"), D("-250")))
    assert risk.state is TradingState.ACTIVE
    risk.on_fill_realized(D("-50"))
    assert risk.state is TradingState.REDUCING


def test_daily_loss_resets_at_midnight_utc_then_active_again():
    clock = Clock()
    risk = RiskEngine(RiskSettings(), clock)
    lose_300(risk)
    risk.drain_events()
    clock.now = MIDNIGHT - 1
    risk.tick(D("9700"))
    assert risk.state is TradingState.REDUCING
    clock.now = MIDNIGHT
    risk.tick(D("9700"))
    assert risk.state is TradingState.ACTIVE
    assert states(risk.drain_events()) == [
        ("active", "new UTC day 2024-03-16: daily loss counters reset")
    ]
    assert unstamped(risk.day_state()) == DayState(date(2024, 3, 16), D("9700"), D("0"))
    assert check(risk, entry(), equity="9700").approved
    # The new day's limit is 3 % of 9700 = 291.
    risk.on_fill_realized(D("-290.99"))
    assert risk.state is TradingState.ACTIVE
    risk.on_fill_realized(D("-0.01"))
    assert risk.state is TradingState.REDUCING


def test_restored_day_state_from_previous_utc_day_is_discarded():
    clock = Clock(MIDNIGHT + 60_000)
    risk = RiskEngine(RiskSettings(), clock)
    risk.restore(DayState(date(2024, 3, 15), D("10000"), D("-500"), loss_reason=LOSS_REASON))
    assert risk.state is TradingState.ACTIVE
    risk.tick(D("9500"))
    assert unstamped(risk.day_state()) == DayState(date(2024, 3, 16), D("9500"), D("0"))


def test_start_equity_learned_after_losses_backs_them_out():
    # A fill before any equity was seen: the day started at 9900 + 100 = 10000.
    risk = RiskEngine(RiskSettings(), Clock())
    risk.on_fill_realized(D("-100"))
    risk.tick(D("9900"))
    assert risk.day_state().start_equity == D("10000")


# -- kill switch ----------------------------------------------------------------------------------


def test_kill_switch_halts_and_only_reduce_only_closes_pass():
    risk = RiskEngine(RiskSettings(), Clock())
    risk.kill("user pressed ctrl+k")
    assert risk.state is TradingState.HALTED
    assert states(risk.drain_events()) == [("halted", "kill_switch: user pressed ctrl+k")]
    denied = check(risk, entry())
    assert denied.rule == "kill_switch"
    assert denied.reason == (
        "kill_switch: trading halted (user pressed ctrl+k); only reduce-only orders closing a "
        "position pass until resumed"
    )
    assert not check(risk, close(reduce_only=False)).approved  # reduces, but not reduce-only
    assert not check(risk, close("3")).approved  # reduce-only, but larger than the position
    flatten = flatten_requests(LONG)
    assert flatten == (close("2"),)
    assert all(check(risk, req).approved for req in flatten)


def test_kill_switch_flatten_passes_even_past_the_rate_limit():
    risk = RiskEngine(RiskSettings(max_orders_per_minute=1), Clock())
    assert check(risk, entry()).approved
    risk.kill("panic")
    assert check(risk, close("1")).approved
    assert check(risk, close("1")).approved


def test_resume_returns_to_active_or_to_reducing_if_loss_limit_hit():
    risk = RiskEngine(RiskSettings(), Clock())
    risk.kill("panic")
    risk.resume()
    assert risk.state is TradingState.ACTIVE
    lose_300(risk)
    risk.kill("panic")
    risk.drain_events()
    risk.resume()
    assert risk.state is TradingState.REDUCING
    assert states(risk.drain_events()) == [("reducing", LOSS_REASON)]


def test_kill_switch_survives_restart_and_midnight_until_resumed():
    clock = Clock()
    risk = RiskEngine(RiskSettings(), clock)
    risk.kill("panic")
    saved = risk.day_state()
    assert (saved.kill_reason, saved.loss_reason) == ("panic", None)
    assert saved.state is TradingState.HALTED
    clock.now = MIDNIGHT + 1
    restarted = RiskEngine(RiskSettings(), clock)
    restarted.restore(saved)
    assert restarted.state is TradingState.HALTED
    assert restarted.reason == "kill_switch: panic"
    clock.now += 86_400_000
    assert restarted.state is TradingState.HALTED


def test_kill_and_loss_both_restored_from_one_day_state():
    clock = Clock()
    risk = RiskEngine(RiskSettings(), clock)
    lose_300(risk)
    risk.kill("panic")
    saved = risk.day_state()
    assert (saved.kill_reason, saved.loss_reason) == ("panic", LOSS_REASON)  # two fields
    restarted = RiskEngine(RiskSettings(), clock)
    restarted.restore(saved)
    assert restarted.state is TradingState.HALTED
    restarted.resume()
    assert restarted.state is TradingState.REDUCING
    assert restarted.reason == LOSS_REASON


# -- REDUCING -------------------------------------------------------------------------------------


def test_reducing_refuses_new_exposure_including_flips_and_other_symbols():
    risk = RiskEngine(RiskSettings(), Clock())
    lose_300(risk)
    assert not check(risk, close("2.5", reduce_only=False)).approved  # flips the long short
    assert not check(risk, entry("ETH/USDT")).approved
    assert check(risk, close("0.5", reduce_only=False)).approved


# -- orders per minute ----------------------------------------------------------------------------


def test_orders_per_minute_window_slides_on_the_clock():
    clock = Clock()
    risk = RiskEngine(RiskSettings(max_orders_per_minute=3), clock)
    for offset in (0, 10_000, 20_000):
        clock.now = T0 + offset
        assert check(risk, entry()).approved
    clock.now = T0 + 30_000
    decision = check(risk, entry())
    assert decision.reason == "max_orders_per_minute: 3 orders accepted in the last 60 s, limit 3"
    clock.now = T0 + 59_999  # the first order is still inside the window
    assert not check(risk, entry()).approved
    clock.now = T0 + 60_000  # ... and out of it now; the denials did not count
    assert check(risk, entry()).approved
    clock.now = T0 + 61_000  # 10 s, 20 s and 60 s orders are in the window
    assert not check(risk, entry()).approved
    clock.now = T0 + 70_000
    assert check(risk, entry()).approved


def test_denied_orders_do_not_use_up_the_rate_limit():
    risk = RiskEngine(RiskSettings(max_orders_per_minute=1), Clock())
    strategy_entry = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, D("1"), strategy="x")
    for _ in range(5):
        assert check(risk, strategy_entry).rule == "mandatory_stop"
    stopped = OrderRequest(
        "BTC/USDT", "buy", OrderType.MARKET, D("1"), strategy="x",
        bracket=Bracket(stop_loss=D("99")),
    )
    assert check(risk, stopped).approved


def test_context_from_account_snapshot_marks_a_closing_sell_as_reducing():
    account = AccountSnapshot("USDT", D("9000"), D("9100"), D("100"), D("0"), positions=LONG)
    closing = RiskContext.of(account, close("2", reduce_only=False), D("100"))
    assert (closing.equity, closing.balance, closing.reduces) == (D("9100"), D("9000"), True)
    assert not RiskContext.of(account, close("2.5"), D("100")).reduces
    assert not RiskContext.of(account, entry(), D("100")).reduces


def test_loss_limit_when_day_equity_seen_then_pct_of_it_else_unknown():
    """What the account panel shows as the day's limit is the figure enforced here."""
    risk = RiskEngine(RiskSettings(daily_loss_limit_pct=D("3")), Clock())
    assert risk.loss_limit is None
    risk.tick(D("10000"))
    assert risk.loss_limit == D("300")
    risk.tick(D("9000"))  # later equity moves do not move the day's limit
    assert risk.loss_limit == D("300")
