"""Settings: one typed model, loaded from defaults < ``config.toml`` < ``TRADETERM_*`` env < CLI.

Every field carries a docstring-like ``description``: ``config.toml`` at the top of the repository
is the commented copy users read. Nested sections map to TOML tables (``[feed]``) and to
environment variables with a double underscore (``TRADETERM_FEED__STALE_AFTER_S=5``).

A bad file or value never reaches the user as a traceback: :func:`load_settings` raises
:class:`ConfigError` whose message names the file, the key, the value and what was expected, and
the CLI exits with status 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings.exceptions import SettingsError

from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.core.tomlfile import TomlFileError, read_toml

CONFIG_ENV = "TRADETERM_CONFIG"


def _xdg(var: str, fallback: str) -> Path:
    base = os.environ.get(var)
    return Path(base) if base else Path.home() / fallback


def default_config_path() -> Path:
    """``$TRADETERM_CONFIG``, else ``./config.toml`` if present, else the XDG config file."""
    if env := os.environ.get(CONFIG_ENV):
        return Path(env)
    local = Path("config.toml")
    if local.is_file():
        return local
    return _xdg("XDG_CONFIG_HOME", ".config") / "tradeterm" / "config.toml"


def default_data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "tradeterm"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class FeedSettings(_Section):
    history_bars: int = Field(
        500, ge=50, le=5000, description="Candles fetched over REST when a chart opens."
    )
    stale_after_s: float = Field(
        10.0, gt=0, description="A stream with no message for this long is shown as stale."
    )
    backoff_initial_s: float = Field(
        0.5, gt=0, description="First wait before reconnecting a failed stream."
    )
    backoff_max_s: float = Field(
        30.0, gt=0, description="Longest wait between reconnection attempts."
    )
    trades_kept: int = Field(200, ge=10, le=10_000, description="Recent trades kept per symbol.")


class SimSettings(_Section):
    seed: int = Field(42, description="Seed of the simulated market: same seed, same market.")
    replay: Path | list[Path] | None = Field(
        None, description="Parquet of candles to replay instead of the synthetic market "
        "(a list: several symbols on one clock)."
    )
    speed: float = Field(1.0, gt=0, description="Replay speed (1.0 = real time).")
    replay_from: datetime | None = Field(
        None, description="Start the replay at this bar (YYYY-MM-DD or an ISO time, UTC); "
        "the bars before it are warm-up history."
    )

    @field_validator("replay_from")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @property
    def replay_files(self) -> tuple[Path, ...]:
        """The candle files replayed (none: the synthetic market)."""
        if self.replay is None:
            return ()
        return tuple(self.replay) if isinstance(self.replay, list) else (self.replay,)

    @property
    def replay_from_ms(self) -> int | None:
        return int(self.replay_from.timestamp() * 1000) if self.replay_from is not None else None


def replay_journal(files: Sequence[Path], data_dir: Path | None = None) -> Path:
    """A replay's own journal, beside its (first) file and named after the replay:
    ``BTCUSDT_1m.replay.sqlite``, ``BTCUSDT_1m+ETHUSDT_1m.replay.sqlite`` for several files;
    in ``<data_dir>/replays/`` when the files' folder is read-only (a shared archive).
    Never the paper journal: a replay is a sandbox (docs/replay.md)."""
    stem = "+".join(Path(f).stem for f in files)
    folder = Path(files[0]).parent
    if data_dir is not None and folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
        folder = data_dir / "replays"
    return folder / f"{stem}.replay.sqlite"


class StrategySettings(_Section):
    dir: Path = Field(
        Path("strategies"),
        description="Folder of strategy files (one class per .py file); relative to the cwd.",
    )
    enabled: list[str] = Field(
        default_factory=lambda: ["ema_cross", "confluence"],
        description="Strategies evaluated at every candle close (names, not file names).",
    )
    lookahead_cuts: int = Field(
        12, ge=2, le=200,
        description="Prefix cuts the look-ahead guard tries before a strategy may run.",
    )
    eval_timeout_s: float = Field(
        5.0, gt=0, le=600,
        description="Seconds one evaluation (one strategy, one candle close) may take; a "
        "strategy over it is stopped and marked failed.",
    )
    memory_limit_mb: int = Field(
        1024, ge=256, le=1_048_576,
        description="Resident memory (MB) one strategy's worker process may use (about 120 MB "
        "before the strategy allocates anything); a strategy over it is stopped and marked failed.",
    )
    params: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Parameters per strategy name, e.g. [strategies.params.ml_signal] model = "
        "\"btc5\": checked against the strategy's Params when it loads (a bad key or value fails "
        "that strategy with one line naming the key); unset ones keep their defaults.",
    )
    # where ``params`` came from, for a strategy's error line (set by load_settings)
    _params_origin: str = PrivateAttr("settings")

    @property
    def params_origin(self) -> str:
        return self._params_origin

    @field_validator("dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class MlSettings(_Section):
    """Scheduled retraining of saved models (``docs/ml.md``): the engine fetches the newest
    candles and trains in a niced child process; it never blocks on it."""

    retrain_every_hours: float = Field(
        0.0, ge=0, le=8760,
        description="Retrain each model of retrain_models this often (hours; 0: never). A model "
        "is due this long after it was trained, so a fresh one is not retrained at start.",
    )
    retrain_models: list[str] = Field(
        default_factory=list,
        description="Saved model names (tradeterm ml list) to retrain with their own recipe: "
        "symbol, timeframe, features, labels and model kind come from the model's manifest.",
    )
    retrain_window_bars: int = Field(
        50_000, ge=300, le=5_000_000,
        description="Train on the newest this many closed bars (fetched from the exchange, or "
        "the demo market, through the engine's connection).",
    )
    retrain_timeout_s: float = Field(
        1800.0, gt=0, le=86_400,
        description="A retrain still running after this long is killed; the old model stays.",
    )
    retrain_nice: int = Field(10, ge=0, le=19, description="Niceness of the training process.")
    retrain_floor: Literal["majority", "none"] = Field(
        "majority",
        description="majority: a new model whose out-of-sample log loss is worse than the "
        "majority baseline's is not used (the old one stays); none: any new model is used.",
    )

    @field_validator("retrain_models")
    @classmethod
    def _names(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("retrain_every_hours", 0) > 0 and not value:
            raise ValueError("retrain_every_hours is set but no model is named; e.g. "
                             "retrain_models = [\"btc5\"] (see tradeterm ml list)")
        for name in value:
            if not name or "/" in name or name.startswith("."):
                raise ValueError(f"expected model names as tradeterm ml list shows them, got "
                                 f"{name!r}")
        return value



class PaperSettings(_Section):
    quote: str = Field("USDT", description="Quote asset of the paper account.")
    starting_balance: Decimal = Field(
        Decimal("10000"), gt=0, description="Paper account balance at its first start (quote)."
    )
    taker_fee: Decimal = Field(
        Decimal("0.001"), ge=0, lt=Decimal("0.05"), description="Taker fee rate (0.001 = 0.1 %)."
    )
    maker_fee: Decimal = Field(
        Decimal("0.001"), ge=0, lt=Decimal("0.05"), description="Maker fee rate."
    )
    latency_ms: int = Field(
        0, ge=0, le=10_000, description="Delay before a paper order reaches the book (ms)."
    )


class BacktestSettings(_Section):
    """Costs of ``tradeterm backtest`` and ``optimize``; unset values come from ``[paper]``, so
    a backtest trades like the paper account unless told otherwise."""

    slippage_ticks: int = Field(
        1, ge=0, le=10_000, description="Market and stop fills this many ticks worse."
    )
    slippage_bps: Decimal = Field(
        Decimal("0"), ge=0, lt=1000,
        description="And this many basis points worse (rounded to the tick, against you).",
    )
    starting_balance: Decimal | None = Field(
        None, gt=0, description="Balance a backtest starts with; default: [paper] starting_balance."
    )
    taker_fee: Decimal | None = Field(
        None, ge=0, lt=Decimal("0.05"), description="Taker fee rate; default: [paper] taker_fee."
    )
    maker_fee: Decimal | None = Field(
        None, ge=0, lt=Decimal("0.05"), description="Maker fee rate; default: [paper] maker_fee."
    )
    store: bool = Field(
        True, description="Store every backtest (settings, metrics, trades) in the journal."
    )


class RiskSettings(_Section):
    risk_per_trade_pct: Decimal = Field(
        Decimal("1"), gt=0, le=100,
        description="Equity at risk per trade, in %: size = risk / stop distance.",
    )
    max_position_quote: Decimal = Field(
        Decimal("5000"), gt=0, description="Largest position in quote currency."
    )
    max_position_pct: Decimal = Field(
        Decimal("50"), gt=0, le=100, description="Largest position as % of equity."
    )
    max_open_positions: int = Field(3, ge=1, le=100, description="Open positions at most.")
    max_orders_per_minute: int = Field(20, ge=1, le=10_000, description="Orders per minute at most.")
    price_band_pct: Decimal = Field(
        Decimal("5"), gt=0, le=100,
        description="A limit or stop price further than this % from the mid is refused.",
    )
    daily_loss_limit_pct: Decimal = Field(
        Decimal("3"), gt=0, le=100,
        description="Realised loss today (UTC) as % of the day's starting equity that halts new "
        "entries until 00:00 UTC.",
    )
    require_stop_for_strategies: bool = Field(
        True, description="A strategy order without a stop-loss is refused."
    )


class UiSettings(_Section):
    fps: int = Field(
        10, ge=1, le=30, description="Redraws per second at most for the chart and the panels."
    )
    book_fps: int = Field(
        4, ge=1, le=30,
        description="Redraws per second at most for the order book and trades tape: they change "
        "with nearly every exchange message and each redraw rewrites most of their rows, the "
        "largest share of the terminal output.",
    )
    confirm_order_without_stop: bool = Field(
        True,
        description="The order ticket asks before placing an order that has no stop (its loss "
        "is not bounded); false places it on Enter like any other.",
    )


class ServiceSettings(_Section):
    max_client_backlog_kb: int = Field(
        4096, ge=16, le=1_048_576,
        description="An attached screen that leaves more than this unread (KiB) is dropped: "
        "the engine never waits for a client.",
    )
    status_every_s: float = Field(
        60.0, gt=0, le=86_400,
        description="Seconds between the engine's status lines (equity, day PnL against the "
        "loss limit, positions, orders, trading state, feed) in its log and output.",
    )


class DisplaySettings(_Section):
    quote_decimals: dict[str, int] = Field(
        default_factory=dict,
        description="Decimals shown for amounts in a quote currency, overriding the defaults "
        "(2 for USDT and other dollar/fiat quotes, 8 for coins), e.g. {USDT = 2, BTC = 6}. "
        "Prices follow the market's tick and quantities its step; exact values stay in the "
        "journal, --csv and --json.",
    )

    @field_validator("quote_decimals")
    @classmethod
    def _decimals_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for currency, places in value.items():
            if not 0 <= places <= 18:
                raise ValueError(f"expected 0..18 decimals for {currency}, got {places}")
        return {currency.upper(): places for currency, places in value.items()}


class Settings(BaseSettings):
    """All of tradeterm's settings. See the commented ``config.toml`` for each key."""

    model_config = SettingsConfigDict(
        env_prefix="TRADETERM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    exchange: str = Field(
        "binance", description="ccxt exchange id (binance, bybit, okx, ...)."
    )
    symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        min_length=1,
        description="Symbols in the watchlist, in ccxt form BASE/QUOTE.",
    )
    timeframe: str = Field("1m", description="Timeframe the chart opens on.")
    mode: Literal["paper", "live"] = Field(
        "paper", description="paper (simulated fills, the default) or live (real orders)."
    )
    demo: bool = Field(
        False, description="Use the built-in simulated market instead of the exchange."
    )
    theme: str = Field("tradeterm-dark", description="Theme name (a file in themes/).")
    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where candles and other data are stored."
    )
    journal_path: Path | None = Field(
        None, description="SQLite journal file; default: <data_dir>/journal.sqlite."
    )
    feed: FeedSettings = Field(default_factory=FeedSettings)
    sim: SimSettings = Field(default_factory=SimSettings)
    strategies: StrategySettings = Field(default_factory=StrategySettings)
    paper: PaperSettings = Field(default_factory=PaperSettings)
    backtest: BacktestSettings = Field(default_factory=BacktestSettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    display: DisplaySettings = Field(default_factory=DisplaySettings)
    service: ServiceSettings = Field(default_factory=ServiceSettings)
    ml: MlSettings = Field(default_factory=MlSettings)
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description="Binding id -> key(s), e.g. {\"order.buy\" = \"B\"}; see docs/keys.md.",
    )
    # The config file these settings were read from (None: defaults and environment only);
    # not a key: the watchlist's additions are written back to it (AddToWatchlist).
    _config_file: Path | None = PrivateAttr(default=None)

    @property
    def config_file(self) -> Path | None:
        return self._config_file

    @field_validator("timeframe")
    @classmethod
    def _known_timeframe(cls, value: str) -> str:
        if value not in TIMEFRAME_MS:
            raise ValueError(f"expected one of {', '.join(TIMEFRAME_MS)}")
        return value

    @field_validator("symbols")
    @classmethod
    def _symbol_form(cls, value: list[str]) -> list[str]:
        for sym in value:
            base, sep, quote = sym.partition("/")
            if not sep or not base or not quote:
                raise ValueError(f"expected symbols like 'BTC/USDT', got {sym!r}")
        return value

    @field_validator("keymap")
    @classmethod
    def _known_bindings(cls, value: dict[str, str]) -> dict[str, str]:
        from tradeterm.core.keys import BINDING_IDS  # plain data: config sits below the UI

        unknown = sorted(set(value) - set(BINDING_IDS))
        if unknown:
            raise ValueError(
                f"unknown binding id(s) {', '.join(map(repr, unknown))}; "
                f"valid ids: {', '.join(BINDING_IDS)}"
            )
        for binding_id, keys in value.items():
            parts = keys.split(",")
            if not all(part.strip() and " " not in part.strip() for part in parts):
                raise ValueError(
                    f"binding {binding_id!r}: expected a key like 'B' or 'ctrl+b' "
                    f"(several separated by commas), got {keys!r}"
                )
        return {binding_id: keys.replace(" ", "") for binding_id, keys in value.items()}

    @field_validator("data_dir", "journal_path")
    @classmethod
    def _expand_home(cls, value: Path | None) -> Path | None:
        return value.expanduser() if value is not None else None

    @property
    def journal_file(self) -> Path:
        if self.replaying:  # a replay is a sandbox: its own journal, never the paper one
            return replay_journal(self.sim.replay_files, self.data_dir)
        return self.journal_path or self.data_dir / "journal.sqlite"

    @property
    def replaying(self) -> bool:
        """A bar replay runs (the demo market driven by candle files)."""
        return self.demo and bool(self.sim.replay_files)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest first: CLI flags (passed as init kwargs) > environment > config.toml > defaults.
        toml_file = _CURRENT_FILE.get("path")
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)


# The file being loaded; pydantic-settings builds sources from the class, so the path travels here.
_CURRENT_FILE: dict[str, Path | None] = {"path": None}


class ConfigError(Exception):
    """A config problem, already phrased for the user (file, key, value, what was expected)."""


_SECRET_WORDS = ("secret", "token", "password", "passphrase", "passwd", "credential", "apikey",
                 "api_key", "private")
"""A key whose name contains one of these (or ends in ``key``) may hold a credential: its value
is never echoed. ``keymap`` is not one: its values are key bindings."""

MASK = "***"

CLI_FLAGS: dict[str, str] = {
    "symbols": "--symbol",
    "sim.seed": "--seed",
    "sim.replay": "--replay",
    "sim.speed": "--speed",
    "sim.replay_from": "--from",
}
"""Settings keys whose command-line flag is not simply ``--<key>`` (see ``tradeterm --help``)."""


def _looks_secret(loc: tuple[Any, ...]) -> bool:
    for part in loc:
        name = str(part).lower().replace("-", "_")
        if name.endswith(("key", "keys")) or any(word in name for word in _SECRET_WORDS):
            return True
    return False


def _shown_value(loc: tuple[Any, ...], value: Any) -> str:
    """``value`` as it may be shown: tables and anything under a secret-looking key are masked.

    A table (or a list holding one) may be someone's ``[exchange]`` credentials pasted in the
    wrong place, so only its shape is named, never its contents.
    """
    if _looks_secret(loc):
        return MASK
    if isinstance(value, dict):
        return f"a table ({MASK})"
    if isinstance(value, list | tuple) and any(isinstance(v, dict | list | tuple) for v in value):
        return f"a list of tables ({MASK})"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _given_at(given: dict[str, Any], loc: tuple[Any, ...]) -> bool:
    """True if the CLI overrides hold a value at ``loc`` (or at a prefix of it)."""
    node: Any = given
    for part in loc:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True
    return True


def _flag(loc: tuple[Any, ...]) -> str:
    """The command-line flag that sets ``loc``: the real spelling of ``tradeterm --help``."""
    parts = [str(p) for p in loc]
    for n in range(len(parts), 0, -1):
        if (flag := CLI_FLAGS.get(".".join(parts[:n]))) is not None:
            return flag
    return "--" + parts[0].replace("_", "-")


def _describe(
    errors: Sequence[Mapping[str, Any]], path: Path | None, given: dict[str, Any] | set[str]
) -> str:
    """One line per problem: where it came from (flag, variable or file), key, value, expected.

    Values that may be secret are masked (:func:`_shown_value`); unknown keys never show theirs.
    """
    where = str(path) if path is not None else "defaults"
    cli = given if isinstance(given, dict) else dict.fromkeys(given, True)
    lines = []
    for err in errors:
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        env_name = "TRADETERM_" + "__".join(str(p) for p in loc).upper()
        if loc and _given_at(cli, loc):
            origin = f"command line ({_flag(loc)})"
        elif env_name in os.environ:
            origin = f"environment variable {env_name}"
        elif (var := _env_prefix_var(loc)) is not None:
            origin = f"environment variable {var}"
        else:
            origin = where
        if err["type"] == "extra_forbidden":
            lines.append(f"{origin}: unknown key '{key}' (check the spelling; see config.toml)")
            continue
        value = _shown_value(loc, err.get("input"))
        expected = err["msg"].removeprefix("Value error, ")
        lines.append(f"{origin}: key '{key}' has value {value}: {expected}")
    if len(lines) == 1:
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration\n  " + "\n  ".join(lines)


def _env_prefix_var(loc: tuple[Any, ...]) -> str | None:
    """The ``TRADETERM_*`` variable that set a prefix of ``loc`` as JSON (``TRADETERM_SIM``)."""
    for n in range(len(loc) - 1, 0, -1):
        name = "TRADETERM_" + "__".join(str(p) for p in loc[:n]).upper()
        if name in os.environ:
            return name
    return None


def _bad_env_json(field: str) -> str:
    """The message for a ``TRADETERM_*`` variable of ``field`` whose value is not valid JSON."""
    prefix = f"TRADETERM_{field.upper()}"
    names = sorted(n for n in os.environ if n == prefix or n.startswith(prefix + "__"))
    for name in names:
        try:
            json.loads(os.environ[name])
        except ValueError as exc:
            return (f"environment variable {name}: not valid JSON ({exc.args[0].split(':')[0]}); "
                    f"expected e.g. {_JSON_EXAMPLES.get(field, _JSON_GENERIC)}")
    shown = names[0] if names else prefix
    return f"environment variable {shown}: cannot parse its value as JSON"


_JSON_GENERIC = "'[\"a\", \"b\"]' for a list or '{\"key\": 1}' for a table"
_JSON_EXAMPLES = {
    "symbols": "'[\"BTC/USDT\", \"ETH/USDT\"]'",
    "keymap": "'{\"order.buy\": \"B\"}'",
}


def _read_toml(path: Path) -> None:
    """Parse ``path`` once before pydantic does, so every problem is one line naming it."""
    try:
        read_toml(path, "a config file (TOML)")
    except TomlFileError as exc:
        raise ConfigError(str(exc)) from None


def load_settings(config_path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings; ``overrides`` are CLI flags (None values are ignored; a section such as
    ``sim={"seed": 3}`` is merged into the file's and environment's section).

    Raises :class:`ConfigError` with a user-facing message on any problem.
    """
    explicit = config_path is not None
    path: Path | None = Path(config_path) if config_path is not None else default_config_path()
    assert path is not None
    if not path.is_file():
        if path.is_dir():
            _read_toml(path)
        if path.exists():  # a device, a FIFO: reading it could block or never end
            raise ConfigError(f"{path}: not a regular file; expected a config file (TOML)")
        if explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{path}: config file not found")
        path = None  # no file at the default places: defaults and environment only
    if path is not None:
        _read_toml(path)
    _CURRENT_FILE["path"] = path
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        settings = Settings(**given)
        settings._config_file = path
        env = next((v for v in ("TRADETERM_STRATEGIES__PARAMS", "TRADETERM_STRATEGIES")
                    if v in os.environ), None)
        settings.strategies._params_origin = (
            f"environment variable {env}" if env else str(path) if path is not None
            else "settings")
        return settings
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors(), path, given)) from None
    except SettingsError as exc:
        field = str(exc).partition('field "')[2].partition('"')[0]
        raise ConfigError(_bad_env_json(field)) from None
    finally:
        _CURRENT_FILE["path"] = None
