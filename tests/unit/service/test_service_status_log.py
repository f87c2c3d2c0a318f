"""The engine's status line (equity, day against the loss limit, positions, orders, trading
state, feed) on the display policy, and when the StatusLog writes it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from types import MappingProxyType

from tradeterm.core.display import DEFAULT_POLICY
from tradeterm.core.events import OrderDenied, TradingStateChanged
from tradeterm.core.models import (
    EnginePhase,
    EngineSnapshot,
    FeedStatus,
    MarketSnapshot,
    ReplayStatus,
    StreamHealth,
)
from tradeterm.core.trading import (
    AccountSnapshot,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
)
from tradeterm.service.status_log import StatusLog, status_line

T = 1_717_200_000_000
PCT = Decimal(3)


def _streams(*statuses: FeedStatus) -> tuple[StreamHealth, ...]:
    names = ("ohlcv", "book", "trades", "tickers")
    return tuple(StreamHealth(names[i], "BTC/USDT", s) for i, s in enumerate(statuses))


def snap(
    *, account: AccountSnapshot | None = None, limit: Decimal | None = Decimal("300"),
    state: str = "active", reason: str | None = None,
    phase: EnginePhase = EnginePhase.RUNNING, error: str | None = None,
    streams: tuple[StreamHealth, ...] = _streams(*[FeedStatus.CONNECTED] * 3),
    policy: object = DEFAULT_POLICY, replay: ReplayStatus | None = None,
) -> EngineSnapshot:
    return EngineSnapshot(
        seq=1, phase=phase, exchange="binance", mode="paper", demo=True,
        symbols=("BTC/USDT",), symbol="BTC/USDT", timeframe="1m",
        market=MarketSnapshot(symbol="BTC/USDT", timeframe="1m"), streams=streams,
        error=error, account=account, trading_state=state, trading_reason=reason,
        daily_loss_limit=limit, display=policy,  # type: ignore[arg-type]
        replay=replay,
    )


def account(*, equity: str = "10012.345", realized: str = "12.345", positions: int = 1,
            orders: int = 2) -> AccountSnapshot:
    pos = tuple(Position("BTC/USDT", Decimal("0.1"), Decimal("60000"), T)
                for _ in range(positions))
    req = OrderRequest("BTC/USDT", "buy", OrderType.LIMIT, Decimal("0.1"), Decimal("59000"))
    ords = tuple(Order(f"o{i}", req, OrderStatus.OPEN, T, T) for i in range(orders))
    return AccountSnapshot("USDT", Decimal("10000"), Decimal(equity), Decimal("0"),
                           Decimal(realized), pos, ords)


def test_status_line_says_equity_day_against_limit_positions_orders_state_and_feed() -> None:
    line = status_line(snap(account=account()), PCT)
    assert line == ("status equity=10012.34 USDT day=+12.34/-300.00 USDT positions=1 orders=2 "
                    "trading=active feed=ok (BTC/USDT 1m, 3 streams)")


def test_status_line_money_follows_the_display_policy() -> None:
    policy = DEFAULT_POLICY.with_overrides({"USDT": 4})
    line = status_line(snap(account=account(realized="-7.5"), policy=policy), PCT)
    assert "equity=10012.3450 USDT day=-7.5000/-300.0000 USDT" in line
    assert isinstance(policy.quote_places, MappingProxyType)


def test_status_line_estimates_the_limit_before_the_risk_engine_has_one() -> None:
    # start of day = equity - realised = 10000; 3 % of it
    line = status_line(snap(account=account(equity="10012", realized="12"), limit=None), PCT)
    assert "day=+12.00/-300.00 USDT" in line


def test_status_line_halted_with_reason_and_a_degraded_feed() -> None:
    streams = _streams(FeedStatus.CONNECTED, FeedStatus.RECONNECTING, FeedStatus.STALE)
    line = status_line(snap(account=account(positions=0, orders=0), state="halted",
                            reason="journal: disk full", streams=streams), PCT)
    assert "positions=0 orders=0 trading=halted (journal: disk full) " in line
    assert line.endswith("feed=degraded (BTC/USDT 1m, 3 streams: book BTC/USDT reconnecting, "
                         "trades BTC/USDT stale)")


def test_status_line_before_the_journal_and_when_the_exchange_is_unreachable() -> None:
    line = status_line(snap(phase=EnginePhase.UNREACHABLE, error="connection refused"), PCT)
    assert line == ("status account=waiting for the journal trading=active "
                    "feed=unreachable (connection refused)")


def test_status_line_in_a_bar_replay_shows_the_replay_clock_and_speed() -> None:
    running = status_line(snap(account=account(), replay=ReplayStatus(False, 60.0, T)), PCT)
    assert running.endswith("feed=ok (BTC/USDT 1m, 3 streams) replay=2024-06-01 00:00 x60")
    paused = status_line(snap(account=account(), replay=ReplayStatus(True, 0.5, T)), PCT)
    assert paused.endswith(" replay=2024-06-01 00:00 x0.5 paused")
    done = status_line(snap(account=account(), replay=ReplayStatus(False, 1.0, T, True)), PCT)
    assert done.endswith(" replay=finished")


async def test_status_log_describes_events_and_adds_a_status_line_on_a_state_change() -> None:
    lines: list[str] = []
    current = snap(account=account())
    log = StatusLog(lambda: current, lines.append, every_s=3600, limit_pct=PCT)
    req = OrderRequest("BTC/USDT", "buy", OrderType.MARKET, Decimal("0.001"), strategy="ema")
    log.on_event(OrderDenied(T, req, "kill switch", "kill_switch"))
    assert len(lines) == 1 and "OrderDenied rule=kill_switch strategy=ema" in lines[0]
    current = snap(account=account(), state="halted", reason="kill switch")
    log.on_event(TradingStateChanged(T, "halted", "kill switch"))
    assert "TradingStateChanged state=halted" in lines[1]
    assert lines[2].startswith("status ") and "trading=halted (kill switch)" in lines[2]
    assert len(lines) == 3


async def test_status_log_writes_a_status_line_every_period() -> None:
    lines: list[str] = []
    log = StatusLog(lambda: snap(account=account()), lines.append, every_s=0.01,
                    limit_pct=PCT)
    task = asyncio.create_task(log.run())
    while len(lines) < 3:
        await asyncio.sleep(0.01)
    task.cancel()
    assert all(line.startswith("status equity=") for line in lines)
