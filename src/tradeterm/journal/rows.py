"""Objects to table rows and back. Money goes in as ``str(Decimal)`` and comes back exactly.

One function per direction per type, side by side, so a new field is added in both places.
The writer turns any accepted record into ``(table, row, replace)`` triples with :func:`rows_for`.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from tradeterm.core.day import DayState, TradingState
from tradeterm.core.events import (
    OrderDenied, OrderFilled, OrderUpdated, PositionClosed, SignalEmitted, TradingStateChanged,
)
from tradeterm.core.money import dec
from tradeterm.core.trading import (
    Bracket, ClosedTrade, Fill, Liquidity, Order, OrderRequest, OrderStatus, OrderType, Position,
    TargetLeg, TimeInForce,
)
from tradeterm.journal.records import (
    AccountRecord, CommandRecord, EquityPoint, RiskEvent, SignalRecord,
)

Row = dict[str, Any]
Write = tuple[str, str, Row]  # op ("insert", "replace": upsert by key, "clear"), table, row


def money(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, Decimal):
        raise TypeError(f"money must be a Decimal, got {type(value).__name__} {value!r}")
    return str(value)


def from_money(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def legs_text(legs: tuple[TargetLeg, ...]) -> str | None:
    """A scale-out's legs as JSON ``[[price or null, weight], ...]`` (prices exact strings);
    None without legs."""
    if not legs:
        return None
    return json.dumps([[money(leg.price), leg.weight] for leg in legs])


def legs_from_text(text: str | None) -> tuple[TargetLeg, ...]:
    """The legs :func:`legs_text` wrote; ``()`` for NULL (no legs, or a journal from before
    the column)."""
    if not text:
        return ()
    return tuple(TargetLeg(from_money(price), int(weight)) for price, weight in json.loads(text))


def order_row(order: Order, run_id: int | None) -> Row:
    req = order.request
    return {
        "id": order.id, "run_id": run_id, "symbol": req.symbol, "side": req.side,
        "type": req.type.value, "quantity": money(req.quantity), "price": money(req.price),
        "trigger_price": money(req.stop_price), "trail": money(req.trail),
        "time_in_force": req.time_in_force.value, "reduce_only": int(req.reduce_only),
        "bracket_stop": money(req.bracket.stop_loss) if req.bracket else None,
        "bracket_target": money(req.bracket.take_profit) if req.bracket else None,
        "bracket_legs": legs_text(req.bracket.legs) if req.bracket else None,
        "strategy": req.strategy, "client_id": req.client_id, "status": order.status.value,
        "created_ms": order.created_ms, "updated_ms": order.updated_ms,
        "filled_quantity": money(order.filled_quantity),
        "average_price": money(order.average_price), "fees": money(order.fees),
        "stop_price": money(order.stop_price), "parent_id": order.parent_id,
        "oco_group": order.oco_group, "reason": order.reason,
    }


def order_from_row(row: Row) -> Order:
    has_bracket = row["bracket_stop"] is not None or row["bracket_target"] is not None
    request = OrderRequest(
        symbol=row["symbol"], side=row["side"], type=OrderType(row["type"]),
        quantity=Decimal(row["quantity"]), price=from_money(row["price"]),
        stop_price=from_money(row["trigger_price"]), trail=from_money(row["trail"]),
        time_in_force=TimeInForce(row["time_in_force"]), reduce_only=bool(row["reduce_only"]),
        bracket=Bracket(from_money(row["bracket_stop"]), from_money(row["bracket_target"]),
                        legs_from_text(row.get("bracket_legs")))
        if has_bracket else None,
        strategy=row["strategy"], client_id=row["client_id"],
    )
    return Order(
        id=row["id"], request=request, status=OrderStatus(row["status"]),
        created_ms=row["created_ms"], updated_ms=row["updated_ms"],
        filled_quantity=Decimal(row["filled_quantity"]),
        average_price=from_money(row["average_price"]), fees=Decimal(row["fees"]),
        stop_price=from_money(row["stop_price"]), parent_id=row["parent_id"],
        oco_group=row["oco_group"], reason=row["reason"],
    )


def history_row(order: Order) -> Row:
    return {
        "order_id": order.id, "updated_ms": order.updated_ms, "status": order.status.value,
        "filled_quantity": money(order.filled_quantity),
        "average_price": money(order.average_price), "fees": money(order.fees),
        "stop_price": money(order.stop_price), "reason": order.reason,
    }


def fill_row(fill: Fill, run_id: int | None) -> Row:
    return {
        "id": fill.id, "run_id": run_id, "order_id": fill.order_id, "symbol": fill.symbol,
        "side": fill.side, "price": money(fill.price), "quantity": money(fill.quantity),
        "fee": money(fill.fee), "liquidity": fill.liquidity.value,
        "timestamp": fill.timestamp, "strategy": fill.strategy,
    }


def fill_from_row(row: Row) -> Fill:
    return Fill(
        id=row["id"], order_id=row["order_id"], symbol=row["symbol"], side=row["side"],
        price=Decimal(row["price"]), quantity=Decimal(row["quantity"]),
        fee=Decimal(row["fee"]), liquidity=Liquidity(row["liquidity"]),
        timestamp=row["timestamp"], strategy=row["strategy"],
    )


def trade_row(trade: ClosedTrade, run_id: int | None) -> Row:
    return {
        "run_id": run_id, "symbol": trade.symbol, "side": trade.side,
        "quantity": money(trade.quantity), "entry_price": money(trade.entry_price),
        "exit_price": money(trade.exit_price), "opened_ms": trade.opened_ms,
        "closed_ms": trade.closed_ms, "pnl": money(trade.pnl), "fees": money(trade.fees),
        "r_multiple": money(trade.r_multiple), "mae": money(trade.mae), "mfe": money(trade.mfe),
        "strategy": trade.strategy, "initial_risk": money(trade.initial_risk),
        "entry_order": trade.entry_order_id,
    }


def trade_from_row(row: Row) -> ClosedTrade:
    return ClosedTrade(
        symbol=row["symbol"], side=row["side"], quantity=Decimal(row["quantity"]),
        entry_price=Decimal(row["entry_price"]), exit_price=Decimal(row["exit_price"]),
        opened_ms=row["opened_ms"], closed_ms=row["closed_ms"], pnl=Decimal(row["pnl"]),
        fees=Decimal(row["fees"]), r_multiple=from_money(row["r_multiple"]),
        mae=Decimal(row["mae"]), mfe=Decimal(row["mfe"]), strategy=row["strategy"],
        initial_risk=from_money(row.get("initial_risk")), entry_order_id=row.get("entry_order"),
    )


def position_row(pos: Position) -> Row:
    return {
        "symbol": pos.symbol, "quantity": money(pos.quantity),
        "average_entry": money(pos.average_entry), "opened_ms": pos.opened_ms,
        "strategy": pos.strategy, "stop": money(pos.stop), "target": money(pos.target),
        "initial_risk": money(pos.initial_risk), "realized_pnl": money(pos.realized_pnl),
        "fees": money(pos.fees), "max_adverse": money(pos.max_adverse),
        "max_favorable": money(pos.max_favorable), "entry_order": pos.entry_order_id,
    }


def position_from_row(row: Row) -> Position:
    return Position(
        symbol=row["symbol"], quantity=Decimal(row["quantity"]),
        average_entry=Decimal(row["average_entry"]), opened_ms=row["opened_ms"],
        strategy=row["strategy"], stop=from_money(row["stop"]),
        target=from_money(row["target"]), initial_risk=from_money(row["initial_risk"]),
        realized_pnl=Decimal(row["realized_pnl"]), fees=Decimal(row["fees"]),
        max_adverse=Decimal(row["max_adverse"]), max_favorable=Decimal(row["max_favorable"]),
        entry_order_id=row.get("entry_order"),
    )


def equity_row(point: EquityPoint) -> Row:
    return {
        "timestamp": point.timestamp, "equity": money(point.equity),
        "balance": money(point.balance), "unrealized_pnl": money(point.unrealized_pnl),
    }


def equity_from_row(row: Row) -> EquityPoint:
    return EquityPoint(
        timestamp=row["timestamp"], equity=Decimal(row["equity"]),
        balance=Decimal(row["balance"]), unrealized_pnl=Decimal(row["unrealized_pnl"]),
    )


def day_row(state: DayState) -> Row:
    """``halted`` (any state but ACTIVE) is kept for files read by older versions; ``reason``,
    the two reasons joined with ``" | "`` before schema 4, is no longer written."""
    return {
        "day": state.day.isoformat(), "start_equity": money(state.start_equity),
        "realized_pnl": money(state.realized), "halted": int(state.state is not TradingState.ACTIVE),
        "kill_reason": state.kill_reason, "loss_reason": state.loss_reason,
        "updated_ms": state.updated_ms,
    }


_LEGACY_SEP = " | "
_LEGACY_KILL = "kill_switch: "


def legacy_reasons(reason: str | None) -> tuple[str | None, str | None]:
    """(kill reason, loss reason) out of the one ``reason`` column of schemas 1-3, where the risk
    engine wrote ``"kill_switch: <words>"`` and/or the loss limit's reason joined by ``" | "``."""
    kill = loss = None
    for part in reason.split(_LEGACY_SEP) if reason else []:
        if part.startswith(_LEGACY_KILL):
            kill = part.removeprefix(_LEGACY_KILL)
        elif part.startswith("daily_loss_limit"):
            loss = part
    return kill, loss


def day_from_row(row: Row) -> DayState:
    if "kill_reason" in row:
        kill, loss = row["kill_reason"], row["loss_reason"]
    else:  # a file of schema 1-3 read without migrating (readers never migrate)
        kill, loss = legacy_reasons(row.get("reason"))
    return DayState(
        day=date.fromisoformat(row["day"]), start_equity=Decimal(row["start_equity"]),
        realized=Decimal(row["realized_pnl"]), kill_reason=kill, loss_reason=loss,
        updated_ms=row["updated_ms"],
    )


def _analysis_price(value: float | None) -> str | None:
    """Signal prices are floats from analysis; stored through ``dec`` (shortest repr), as TEXT."""
    return None if value is None else str(dec(value))


def signal_row(rec: SignalRecord, run_id: int | None) -> Row:
    sig = rec.signal
    return {
        "run_id": run_id, "timestamp": rec.timestamp, "strategy": sig.strategy,
        "symbol": sig.symbol, "timeframe": sig.timeframe, "bar_time": sig.bar_time,
        "kind": sig.kind, "side": sig.side, "entry": _analysis_price(sig.entry),
        "stop": _analysis_price(sig.stop),
        "targets": ",".join(str(dec(t)) for t in sig.targets),
        "confidence": sig.confidence, "reasons": json.dumps(list(sig.reasons)),
        "status": rec.status, "reason": rec.reason, "order_id": rec.order_id,
    }


def risk_row(event: RiskEvent, run_id: int | None) -> Row:
    return {
        "run_id": run_id, "timestamp": event.timestamp, "kind": event.kind,
        "state": event.state, "rule": event.rule, "reason": event.reason,
        "symbol": event.symbol, "side": event.side, "quantity": money(event.quantity),
        "strategy": event.strategy,
    }


def _account_writes(rec: AccountRecord) -> list[Write]:
    acct = rec.account
    account = {
        "id": 1, "quote": acct.quote, "balance": money(acct.balance),
        "equity": money(acct.equity), "unrealized_pnl": money(acct.unrealized_pnl),
        "realized_today": money(acct.realized_pnl_today), "updated_ms": rec.timestamp,
    }
    point = EquityPoint(rec.timestamp, acct.equity, acct.balance, acct.unrealized_pnl)
    return [
        ("clear", "open_positions", {}),
        *(("insert", "open_positions", position_row(p)) for p in acct.positions),
        ("replace", "account", account),
        ("insert", "equity", equity_row(point)),
    ]


def rows_for(record: object, run_id: int | None) -> list[Write]:
    """The table writes for one record; TypeError for a type the journal does not know."""
    match record:
        case Fill():
            return [("insert", "fills", fill_row(record, run_id))]
        case Order():
            return [("replace", "orders", order_row(record, run_id)),
                    ("insert", "order_history", history_row(record))]
        case OrderFilled(fill=fill, order=order):
            return rows_for(fill, run_id) + rows_for(order, run_id)
        case OrderUpdated(order=order):
            return rows_for(order, run_id)
        case ClosedTrade():
            return [("insert", "positions", trade_row(record, run_id))]
        case PositionClosed(trade=trade):
            return rows_for(trade, run_id)
        case SignalRecord():
            return [("insert", "signals", signal_row(record, run_id))]
        case SignalEmitted(timestamp=ts, signal=signal):
            return rows_for(SignalRecord(ts, signal), run_id)
        case AccountRecord():
            return _account_writes(record)
        case EquityPoint():
            return [("insert", "equity", equity_row(record))]
        case RiskEvent():
            return [("insert", "risk_events", risk_row(record, run_id))]
        case OrderDenied(timestamp=ts, request=req, reason=reason, rule=rule):
            return rows_for(RiskEvent(
                ts, "denied", reason, rule=rule, symbol=req.symbol, side=req.side,
                quantity=req.quantity, strategy=req.strategy), run_id)
        case TradingStateChanged(timestamp=ts, state=state, reason=reason):
            return rows_for(RiskEvent(ts, "state", reason, state=state), run_id)
        case CommandRecord():
            row = {"run_id": run_id, "timestamp": record.timestamp,
                   "command": record.command, "detail": record.detail}
            return [("insert", "commands", row)]
        case DayState():
            return [("replace", "day_state", day_row(record))]
    raise TypeError(f"the journal does not know how to store {type(record).__name__}")
