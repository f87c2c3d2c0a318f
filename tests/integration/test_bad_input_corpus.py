"""Every bad input is one clear line (issue 11, item 2): a table of bad config files, environment
variables, theme files, strategy files, candle parquet files, journal files and command-line
arguments. For each: exit status 2 (or, for a theme, the app keeps running with a notice), one
line naming the file, variable, key or flag, no traceback, no secret echoed, and nothing written
or changed in the sandbox (every file hashed, every folder listed, before and after).

Most cases call ``tradeterm.cli.main`` in-process (fast on CI's 2 cores) in an isolated sandbox
(HOME, XDG_*, cwd and every ``TRADETERM_*`` variable replaced); a handful go through a real
``python -m tradeterm`` process to prove the real exit path; the theme case runs the real app
through Pilot. ``test_corpus_size`` counts the cases (the issue asks for at least 60).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles

STRATEGY = '''
import polars as pl
from tradeterm.strategy import Strategy


class Always(Strategy):
    name = "always"

    def signals(self, frame):
        return frame.with_columns(
            entry_long=pl.lit(True), entry_short=pl.lit(False),
            exit_long=pl.lit(False), exit_short=pl.lit(False),
            stop=pl.col("low"), target_1=pl.col("close") * 1.01,
        )
'''

Content = bytes | Callable[[Path], None]  # bytes, or a function that builds the file at a path


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    names: str  # the line must contain this (file, variable, key or flag)
    files: dict[str, Content] = field(default_factory=dict)  # sandbox-relative path -> content
    env: dict[str, str] = field(default_factory=dict)  # "{tmp}" is replaced by the sandbox
    hidden: tuple[str, ...] = ()  # must never appear (secrets)
    subprocess: bool = False


# -- builders of bad files ---------------------------------------------------------------------

GOOD = synthetic_candles(300, seed=3)


def parquet(frame: pl.DataFrame) -> Callable[[Path], None]:
    def build(path: Path) -> None:
        frame.write_parquet(path)
    return build


def truncated_parquet(path: Path) -> None:
    GOOD.write_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def at_row(col: str, value: float | None) -> pl.DataFrame:
    row = pl.int_range(pl.len()) == 7
    return GOOD.with_columns(pl.when(row).then(value).otherwise(pl.col(col)).alias(col))


def directory(path: Path) -> None:
    path.mkdir()


def journal(path: Path, version: int | None = None, app_id: int | None = None) -> None:
    """A real journal made by the writer's own opener, optionally re-stamped."""
    from tradeterm.journal.files import open_for_writing

    db = open_for_writing(path)
    if version is not None:
        db.conn.execute(f"PRAGMA user_version = {version}")
    if app_id is not None:
        db.conn.execute(f"PRAGMA application_id = {app_id}")
    db.conn.execute("PRAGMA journal_mode = DELETE")
    db.conn.close()


def newer_journal(path: Path) -> None:
    journal(path, version=999)


def foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()


def truncated_journal(path: Path) -> None:
    journal(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def file_in_the_way(path: Path) -> None:
    path.parent.rmdir()
    path.parent.write_text("a file where the journal's folder should be")


NON_UTF8 = b'exchange = "caf\xe9"\n'
BINARY = bytes(range(256)) * 8
UTF16 = 'timeframe = "5m"\n'.encode("utf-16")
TABLE_WITH_SECRETS = b'[exchange]\napiKey = "AKIAEXAMPLE123"\nsecret = "s3cr3t-value"\n'


def cfg(text: str | bytes) -> dict[str, Content]:
    return {"config.toml": text.encode() if isinstance(text, str) else text}


def theme(content: bytes) -> dict[str, Content]:
    return {"themes/broken.toml": content}


CHECK = ["check-strategy", "always", "--data"]
JOURNAL_ENV = {"TRADETERM_JOURNAL_PATH": "{tmp}/j/journal.sqlite"}
JOURNAL = "j/journal.sqlite"

CASES: list[Case] = [
    # -- config files (./config.toml is found from the cwd; --config names one) ---------------
    Case("cfg-non-utf8", ["journal", "trades"], "config.toml", cfg(NON_UTF8)),
    Case("cfg-binary", ["journal", "trades"], "config.toml", cfg(BINARY)),
    Case("cfg-utf16", ["journal", "trades"], "config.toml", cfg(UTF16)),
    Case("cfg-nul-byte", ["journal", "trades"], "config.toml", cfg(b'exchange = "x"\x00\n')),
    Case("cfg-bad-toml", ["journal", "trades"], "config.toml", cfg("exchange = \n")),
    Case("cfg-explicit-non-utf8", ["--config", "other.toml", "journal", "trades"], "other.toml",
         {"other.toml": NON_UTF8}),
    Case("cfg-is-directory", ["--config", "confdir", "journal", "trades"], "confdir",
         {"confdir": directory}),
    Case("cfg-device", ["--config", "/dev/zero", "journal", "trades"], "/dev/zero"),
    Case("cfg-missing", ["--config", "absent.toml", "journal", "trades"], "absent.toml"),
    Case("cfg-unknown-key", ["journal", "trades"], "exchnage", cfg('exchnage = "x"\n')),
    Case("cfg-unknown-secret-key", ["journal", "trades"], "api_secret",
         cfg('api_secret = "hunter2-secret"\n'), hidden=("hunter2",)),
    Case("cfg-exchange-table-with-secrets", ["journal", "trades"], "exchange",
         cfg(TABLE_WITH_SECRETS), hidden=("AKIAEXAMPLE123", "s3cr3t-value")),
    Case("cfg-unknown-table-with-secrets", ["journal", "trades"], "binance",
         cfg('[binance]\napiKey = "KEY-0123"\nsecret = "SEC-4567"\n'),
         hidden=("KEY-0123", "SEC-4567")),
    Case("cfg-section-secret-key", ["journal", "trades"], "paper.api_key",
         cfg('[paper]\napi_key = "ZZ-secret-ZZ"\n'), hidden=("ZZ-secret-ZZ",)),
    Case("cfg-symbols-table", ["journal", "trades"], "symbols",
         cfg('[symbols]\ntoken = "tok-999"\n'), hidden=("tok-999",)),
    Case("cfg-timeframe-type", ["journal", "trades"], "timeframe", cfg("timeframe = 5\n")),
    Case("cfg-timeframe-value", ["journal", "trades"], "timeframe", cfg('timeframe = "9m"\n')),
    Case("cfg-mode", ["journal", "trades"], "mode", cfg('mode = "yolo"\n')),
    Case("cfg-symbols-string", ["journal", "trades"], "symbols", cfg('symbols = "BTC/USDT"\n')),
    Case("cfg-symbol-form", ["journal", "trades"], "symbols", cfg('symbols = ["BTCUSDT"]\n')),
    Case("cfg-keymap-secret-value", ["journal", "trades"], "keymap.secret_token",
         cfg("[keymap]\nsecret_token = 987654321\n"), hidden=("987654321",)),
    Case("cfg-ui-fps", ["journal", "trades"], "ui.fps", cfg("[ui]\nfps = 0\n")),
    Case("cfg-feed-type", ["journal", "trades"], "feed.history_bars",
         cfg('[feed]\nhistory_bars = "many"\n')),
    Case("cfg-keymap-unknown", ["journal", "trades"], "keymap",
         cfg('[keymap]\n"order.nope" = "B"\n')),
    Case("cfg-risk-range", ["journal", "trades"], "risk.risk_per_trade_pct",
         cfg("[risk]\nrisk_per_trade_pct = 500\n")),
    Case("cfg-paper-fee", ["journal", "trades"], "paper.taker_fee",
         cfg('[paper]\ntaker_fee = "abc"\n')),
    Case("cfg-section-as-value", ["journal", "trades"], "sim", cfg("sim = 3\n")),
    # -- environment ---------------------------------------------------------------------------
    Case("env-config-missing", ["journal", "trades"], "absent.toml",
         env={"TRADETERM_CONFIG": "{tmp}/absent.toml"}),
    Case("env-config-directory", ["journal", "trades"], "confdir", {"confdir": directory},
         env={"TRADETERM_CONFIG": "{tmp}/confdir"}),
    Case("env-symbols-json", ["journal", "trades"], "TRADETERM_SYMBOLS",
         env={"TRADETERM_SYMBOLS": "[BTC"}),
    Case("env-keymap-json", ["journal", "trades"], "TRADETERM_KEYMAP",
         env={"TRADETERM_KEYMAP": "{"}),
    Case("env-sim-json", ["journal", "trades"], "TRADETERM_SIM", env={"TRADETERM_SIM": "{bad"}),
    Case("env-nested-list-json", ["journal", "trades"], "TRADETERM_STRATEGIES__ENABLED",
         env={"TRADETERM_STRATEGIES__ENABLED": "[x"}),
    Case("env-timeframe", ["journal", "trades"], "TRADETERM_TIMEFRAME",
         env={"TRADETERM_TIMEFRAME": "9m"}),
    Case("env-sim-speed", ["journal", "trades"], "TRADETERM_SIM__SPEED",
         env={"TRADETERM_SIM__SPEED": "-1"}),
    Case("env-ui-fps", ["journal", "trades"], "TRADETERM_UI__FPS",
         env={"TRADETERM_UI__FPS": "abc"}),
    Case("env-mode", ["journal", "trades"], "TRADETERM_MODE", env={"TRADETERM_MODE": "yolo"}),
    Case("env-symbols-not-a-list", ["journal", "trades"], "TRADETERM_SYMBOLS",
         env={"TRADETERM_SYMBOLS": '"BTC/USDT"'}),
    Case("env-sim-secret-key", ["journal", "trades"], "sim.apiKey",
         env={"TRADETERM_SIM": '{"apiKey": "env-SEKRIT"}'}, hidden=("env-SEKRIT",)),
    Case("env-risk-range", ["journal", "trades"], "TRADETERM_RISK__MAX_OPEN_POSITIONS",
         env={"TRADETERM_RISK__MAX_OPEN_POSITIONS": "0"}),
    # -- strategy files (check-strategy) -------------------------------------------------------
    Case("strat-non-utf8", ["check-strategy", "bad"], "bad.py: not a text file in UTF-8",
         {"strategies/bad.py": b"# caf\xe9\nx = 1\n"}),
    Case("strat-binary", ["check-strategy", "bad"], "bad.py: a binary file",
         {"strategies/bad.py": BINARY}),
    Case("strat-utf16", ["check-strategy", "bad"], "bad.py: a binary file",
         {"strategies/bad.py": STRATEGY.encode("utf-16")}),
    Case("strat-syntax", ["check-strategy", "bad"], "bad.py",
         {"strategies/bad.py": b"x = (\n"}),
    Case("strat-raises", ["check-strategy", "bad"], "bad.py",
         {"strategies/bad.py": b"raise RuntimeError('boom at import')\n"}),
    Case("strat-directory", ["check-strategy", "bad"], "bad.py",
         {"strategies/bad.py": directory}),
    Case("strat-unknown-name", ["check-strategy", "ghost"], "ghost"),
    # -- candle parquet files (check-strategy --data, replay, backtest, the store) -------------
    Case("pq-text", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": b"not parquet"}),
    Case("pq-empty-file", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": b""}),
    Case("pq-binary", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": BINARY}),
    Case("pq-truncated", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": truncated_parquet}),
    Case("pq-directory", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": directory}),
    Case("pq-missing", [*CHECK, "c.parquet"], "c.parquet"),
    Case("pq-no-rows", [*CHECK, "c.parquet"], "c.parquet", {"c.parquet": parquet(GOOD.head(0))}),
    Case("pq-missing-column", [*CHECK, "c.parquet"], "volume",
         {"c.parquet": parquet(GOOD.drop("volume"))}),
    Case("pq-no-time", [*CHECK, "c.parquet"], "open_time",
         {"c.parquet": parquet(GOOD.drop("open_time"))}),
    Case("pq-string-prices", [*CHECK, "c.parquet"], "close",
         {"c.parquet": parquet(GOOD.with_columns(pl.col("close").cast(pl.String)))}),
    Case("pq-float-times", [*CHECK, "c.parquet"], "open_time",
         {"c.parquet": parquet(GOOD.with_columns(pl.col("open_time").cast(pl.Float64)))}),
    Case("pq-unsorted", [*CHECK, "c.parquet"], "out of order",
         {"c.parquet": parquet(GOOD.reverse())}),
    Case("pq-duplicate-times", [*CHECK, "c.parquet"], "duplicate",
         {"c.parquet": parquet(pl.concat([GOOD.head(5), GOOD.slice(4, 20)]))}),
    Case("pq-nan-price", [*CHECK, "c.parquet"], "close", {"c.parquet": parquet(
        at_row("close", float("nan")))}),
    Case("pq-inf-volume", [*CHECK, "c.parquet"], "volume", {"c.parquet": parquet(
        at_row("volume", float("inf")))}),
    Case("pq-null-price", [*CHECK, "c.parquet"], "high", {"c.parquet": parquet(
        at_row("high", None))}),
    Case("pq-negative-price", [*CHECK, "c.parquet"], "low", {"c.parquet": parquet(
        at_row("low", -1.0))}),
    Case("replay-headless-text", ["run", "--headless", "--replay", "c.parquet"], "c.parquet",
         {"c.parquet": b"not parquet"}),
    Case("replay-app-truncated", ["--replay", "c.parquet"], "c.parquet",
         {"c.parquet": truncated_parquet}),
    Case("replay-headless-unsorted", ["run", "--headless", "--replay", "c.parquet"],
         "c.parquet", {"c.parquet": parquet(GOOD.reverse())}),
    # a replay's --from outside its file (GOOD: 2024-01-01 00:00 .. 04:59 UTC), malformed, or
    # two files of one symbol: refused before anything starts (no replay journal written)
    Case("replay-from-after-file", ["--replay", "c.parquet", "--from", "2030-01-01", "run",
                                    "--headless"], "--from 2030-01-01 00:00 UTC is outside",
         {"c.parquet": parquet(GOOD)}),
    Case("replay-from-before-file", ["--replay", "c.parquet", "--from", "2023-12-31T23:00",
                                     "--speed", "60"], "c.parquet", {"c.parquet": parquet(GOOD)}),
    Case("replay-from-malformed", ["--replay", "c.parquet", "--from", "yesterday", "run",
                                   "--headless"], "--from", {"c.parquet": parquet(GOOD)}),
    Case("replay-two-files-one-symbol", ["--replay", "a.parquet", "--replay", "b.parquet", "run",
                                         "--headless"], "b.parquet",
         {"a.parquet": parquet(GOOD), "b.parquet": parquet(GOOD)}),
    Case("proc-replay-from-after-file", ["--replay", "c.parquet", "--from", "2030-01-01", "run",
                                         "--headless"], "outside the file",
         {"c.parquet": parquet(GOOD)}, subprocess=True),
    Case("backtest-data-nan", ["backtest", "always", "--data", "c.parquet"], "c.parquet",
         {"c.parquet": parquet(at_row("open", float("nan")))}),
    Case("backtest-lower-text", ["backtest", "always", "--data", "g.parquet", "--lower",
                                 "c.parquet"], "c.parquet",
         {"g.parquet": parquet(GOOD), "c.parquet": b"junk"}),
    Case("store-damaged-data-list", ["data", "list"], "BTCUSDT_1m.parquet",
         {"data/tradeterm/candles/BTCUSDT_1m.parquet": b"junk"}),
    Case("store-damaged-backtest", ["backtest", "always", "--symbol", "BTC/USDT",
                                    "--timeframe", "1m"], "BTCUSDT_1m.parquet",
         {"data/tradeterm/candles/BTCUSDT_1m.parquet": truncated_parquet}),
    # -- journal files -------------------------------------------------------------------------
    Case("journal-text", ["journal", "trades"], "journal.sqlite",
         {JOURNAL: b"hello, not a database"}, env=JOURNAL_ENV),
    Case("journal-binary", ["journal", "stats"], "journal.sqlite", {JOURNAL: BINARY},
         env=JOURNAL_ENV),
    Case("journal-truncated", ["journal", "trades"], "journal.sqlite",
         {JOURNAL: truncated_journal}, env=JOURNAL_ENV),
    Case("journal-directory", ["journal", "trades"], "journal.sqlite", {JOURNAL: directory},
         env=JOURNAL_ENV),
    Case("journal-newer-schema", ["journal", "trades"], "journal.sqlite",
         {JOURNAL: newer_journal}, env=JOURNAL_ENV),
    Case("journal-foreign-sqlite", ["journal", "orders"], "journal.sqlite",
         {JOURNAL: foreign_sqlite}, env=JOURNAL_ENV),
    Case("headless-journal-text", ["run", "--headless"], "journal.sqlite",
         {JOURNAL: b"hello, not a database"}, env=JOURNAL_ENV),
    Case("headless-journal-truncated", ["run", "--headless"], "journal.sqlite",
         {JOURNAL: truncated_journal}, env=JOURNAL_ENV),
    Case("headless-journal-newer", ["run", "--headless"], "journal.sqlite",
         {JOURNAL: newer_journal}, env=JOURNAL_ENV),
    Case("headless-journal-directory", ["run", "--headless"], "journal.sqlite",
         {JOURNAL: directory}, env=JOURNAL_ENV),
    Case("app-journal-foreign", [], "journal.sqlite", {JOURNAL: foreign_sqlite},
         env=JOURNAL_ENV),
    Case("app-journal-folder-is-a-file", [], "journal.sqlite", {JOURNAL: file_in_the_way},
         env=JOURNAL_ENV),
    # -- command-line arguments ----------------------------------------------------------------
    Case("arg-unknown-flag", ["--bogus"], "--bogus"),
    Case("arg-misspelled-flag", ["--symbols", "BTC/USDT"], "--symbols"),
    Case("arg-seed-not-int", ["--seed", "x"], "--seed"),
    Case("arg-speed-not-number", ["--speed", "fast"], "--speed"),
    Case("arg-unknown-command", ["frobnicate"], "frobnicate"),
    Case("arg-journal-unknown-view", ["journal", "nope"], "nope"),
    Case("arg-journal-bad-since", ["journal", "trades", "--since", "yesterday-ish"], "--since"),
    Case("arg-symbol-form", ["--symbol", "BTCUSDT", "journal", "trades"], "(--symbol)"),
    Case("arg-speed-negative", ["--speed", "-1", "journal", "trades"], "(--speed)"),
    Case("arg-seed-with-env-speed", ["--seed", "3", "journal", "trades"],
         "environment variable TRADETERM_SIM__SPEED", env={"TRADETERM_SIM__SPEED": "0"}),
    Case("arg-timeframe", ["--timeframe", "9m", "journal", "trades"], "(--timeframe)"),
    Case("arg-check-without-name", ["check-strategy"], "name"),
    Case("arg-run-without-headless", ["run"], "--headless"),
    Case("arg-backtest-without-strategy", ["backtest"], "strategy"),
    Case("arg-engine-without-action", ["engine"], "ACTION"),
    Case("arg-engine-unknown-action", ["engine", "restart"], "restart"),
    Case("arg-engine-logs-lines-text", ["engine", "logs", "-n", "many"], "-n"),
    Case("arg-engine-logs-lines-negative", ["engine", "logs", "-n", "-3"], "-n"),
    Case("arg-engine-start-unknown-flag", ["engine", "start", "--detatch"], "--detatch"),
    Case("arg-engine-status-every-zero", ["engine", "start", "--demo"],
         "TRADETERM_SERVICE__STATUS_EVERY_S", env={"TRADETERM_SERVICE__STATUS_EVERY_S": "0"}),
    Case("engine-start-replay-text", ["engine", "start", "--replay", "c.parquet"], "c.parquet",
         {"c.parquet": b"not parquet"}),
    Case("engine-detach-journal-newer", ["engine", "start", "--demo", "--detach"],
         "journal.sqlite", {JOURNAL: newer_journal}, env=JOURNAL_ENV),
    # -- a few through a real process: the real exit path --------------------------------------
    Case("proc-cfg-non-utf8", ["journal", "trades"], "config.toml", cfg(NON_UTF8),
         subprocess=True),
    Case("proc-env-json", ["journal", "trades"], "TRADETERM_SYMBOLS",
         env={"TRADETERM_SYMBOLS": "[BTC"}, subprocess=True),
    Case("proc-cfg-secrets", ["journal", "trades"], "exchange", cfg(TABLE_WITH_SECRETS),
         hidden=("AKIAEXAMPLE123", "s3cr3t-value"), subprocess=True),
    Case("proc-unknown-flag", ["--bogus"], "--bogus", subprocess=True),
    Case("proc-journal-truncated", ["journal", "trades"], "journal.sqlite",
         {JOURNAL: truncated_journal}, env=JOURNAL_ENV, subprocess=True),
    Case("proc-check-data-truncated", [*CHECK, "c.parquet"], "c.parquet",
         {"c.parquet": truncated_parquet}, subprocess=True),
    Case("proc-sim-replay-text", ["sim", "--port", "0", "--replay", "c.parquet"], "c.parquet",
         {"c.parquet": b"not parquet"}, subprocess=True),
    Case("proc-headless-journal-newer", ["run", "--headless"], "journal.sqlite",
         {JOURNAL: newer_journal}, env=JOURNAL_ENV, subprocess=True),
    Case("proc-engine-detach-replay-text", ["engine", "start", "--detach", "--replay",
                                            "c.parquet"], "c.parquet",
         {"c.parquet": b"not parquet"}, subprocess=True),
]

THEME_CASES: dict[str, bytes] = {
    "theme-non-utf8": b'name = "caf\xe9"\nprimary = "#fff"\n',
    "theme-binary": BINARY,
    "theme-utf16": 'name = "x"\nprimary = "#fff"\n'.encode("utf-16"),
    "theme-bad-toml": b"name = [\n",
    "theme-no-name": b'primary = "#ffffff"\n',
    "theme-bad-colour": b'name = "x"\nprimary = "no-colour"\n',
    "theme-unknown-key": b'name = "x"\nprimary = "#fff"\nsparkle = 1\n',
    "theme-trading-not-table": b'name = "x"\nprimary = "#fff"\ntrading = "red"\n',
}


def test_corpus_size() -> None:
    """The issue asks for at least 60 bad inputs; print the count for the record."""
    total = len(CASES) + len(THEME_CASES) + 1 + 2  # + the Pilot case, the read-only journal
    print(f"bad-input corpus: {total} cases ({len(CASES)} CLI, {len(THEME_CASES)} theme files, "
          f"1 through the app, 2 read-only journal)")
    assert len({c.id for c in CASES} | set(THEME_CASES)) == len(CASES) + len(THEME_CASES)
    assert total >= 60


# -- the sandbox -------------------------------------------------------------------------------


def snapshot(root: Path) -> dict[str, str]:
    """Every file (sha256 and mode) and folder under ``root``: what "nothing changed" means."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames:
            out[os.path.relpath(os.path.join(dirpath, name), root) + "/"] = "dir"
        for name in filenames:
            path = Path(dirpath, name)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            out[os.path.relpath(path, root)] = f"{digest} {path.stat().st_mode:o}"
    return out


def sandbox(case: Case, tmp: Path) -> dict[str, str]:
    """Build the case's files under ``tmp``; the environment it runs in (no TRADETERM_* of ours)."""
    (tmp / "strategies").mkdir()
    (tmp / "strategies" / "always.py").write_text(STRATEGY)
    for rel, content in case.files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            content(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADETERM_")}
    env.update(HOME=str(tmp / "home"), XDG_CONFIG_HOME=str(tmp / "config"),
               XDG_DATA_HOME=str(tmp / "data"), XDG_CACHE_HOME=str(tmp / "cache"))
    env.update({k: v.replace("{tmp}", str(tmp)) for k, v in case.env.items()})
    return env


def check_output(case: Case, status: int, out: str, err: str) -> None:
    text = out + err
    lines = [line for line in text.splitlines() if line.strip()]
    assert status == 2, f"exit status {status}: {text}"
    assert "Traceback" not in text
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n{text}"
    assert case.names in lines[0], lines[0]
    for secret in case.hidden:
        assert secret not in text, lines[0]


@pytest.mark.parametrize("case", [c for c in CASES if not c.subprocess], ids=lambda c: c.id)
def test_bad_input_in_process(case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                              capfd: pytest.CaptureFixture[str]) -> None:
    from tradeterm.cli import main

    env = sandbox(case, tmp_path)
    for name in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)

    def started(*_: object) -> int:  # a bad input must stop before the app or engine starts
        raise AssertionError("the app or the engine started despite the bad input")

    monkeypatch.setattr("tradeterm.ui.app.run_app", started)
    monkeypatch.setattr("tradeterm.service.runner.main", started)
    monkeypatch.setattr("tradeterm.service.cli.start_detached", started)
    before = snapshot(tmp_path)
    try:
        status = main(case.argv)
    except SystemExit as exc:  # argparse
        status = exc.code if isinstance(exc.code, int) else 1
    out, err = capfd.readouterr()
    check_output(case, status, out, err)
    assert snapshot(tmp_path) == before, "the bad input changed or wrote files"


@pytest.mark.parametrize("case", [c for c in CASES if c.subprocess], ids=lambda c: c.id)
def test_bad_input_real_process(case: Case, tmp_path: Path) -> None:
    env = sandbox(case, tmp_path)
    before = snapshot(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "tradeterm", *case.argv], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    check_output(case, proc.returncode, proc.stdout, proc.stderr)
    assert snapshot(tmp_path) == before, "the bad input changed or wrote files"


@pytest.mark.parametrize("content", list(THEME_CASES.values()), ids=list(THEME_CASES))
def test_bad_theme_file_is_skipped_with_one_line(content: bytes, tmp_path: Path) -> None:
    from tradeterm.ui.themes import DEFAULT_THEME, load_themes, themes_dir

    folder = tmp_path / "themes"
    folder.mkdir()
    for shipped in themes_dir().glob("*.toml"):
        (folder / shipped.name).write_bytes(shipped.read_bytes())
    (folder / "broken.toml").write_bytes(content)
    before = snapshot(tmp_path)
    themes, errors = load_themes(folder)
    assert len(errors) == 1 and "\n" not in errors[0] and "broken.toml" in errors[0], errors
    assert DEFAULT_THEME in themes and len(themes) == len(list(themes_dir().glob("*.toml")))
    assert snapshot(tmp_path) == before


async def test_bad_theme_file_the_app_starts_and_shows_a_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A non-UTF-8 theme file used to stop the app from starting: now a notice, and the chosen
    theme (another file of the same folder) still applies."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ui"))
    from fake_engine import FakeEngine  # type: ignore[import-not-found]

    from tradeterm.config import Settings
    from tradeterm.ui import themes
    from tradeterm.ui.app import TradetermApp

    folder = tmp_path / "themes"
    folder.mkdir()
    for shipped in themes.themes_dir().glob("*.toml"):
        (folder / shipped.name).write_bytes(shipped.read_bytes())
    (folder / "broken.toml").write_bytes(THEME_CASES["theme-non-utf8"])
    monkeypatch.setattr(themes, "themes_dir", lambda: folder)
    settings = Settings(theme="tradeterm-light", data_dir=tmp_path / "data")
    app = TradetermApp(settings, FakeEngine(settings))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        notices = [n.message for n in app._notifications]
        assert any("broken.toml" in m and "UTF-8" in m for m in notices), notices
        assert app.theme == "tradeterm-light"
        assert app.is_running


def test_every_flag_a_message_names_exists() -> None:
    """Errors name flags that exist: every ``--flag`` in a string of the source (not in a
    docstring) is a flag of some ``tradeterm`` parser. ``--symbols`` and ``--sim`` were named by
    config errors once, and neither exists."""
    import ast
    import re

    from tradeterm.cli import _Parser, _parser
    from tradeterm.config import CLI_FLAGS

    flags = _Parser._flags(_parser())
    src = Path(__file__).resolve().parents[2] / "src" / "tradeterm"
    named: dict[str, str] = {}
    for path in src.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings:
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z-]*[a-z]", node.value):
                    named.setdefault(flag, str(path.relative_to(src)))
    assert len(named) > 20  # the scan sees the messages
    foreign = {"--user", "--now", "--extra"}  # systemctl (install-service), uv (--ray)
    unknown = {flag: where for flag, where in named.items()
               if flag not in flags and flag not in foreign}
    assert unknown == {}
    assert set(CLI_FLAGS.values()) <= flags


@pytest.fixture
def read_only_journal(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real journal nobody may write: mode 0444, and for root (who ignores modes) the
    immutable attribute (``chattr +i``), removed again afterwards."""
    path = tmp_path / "j" / "journal.sqlite"
    path.parent.mkdir()
    journal(path)
    path.chmod(0o444)
    immutable = False
    if os.geteuid() == 0:
        proc = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True,
                              check=False)
        if proc.returncode != 0:
            pytest.skip(f"root, and chattr +i is not possible here: {proc.stderr.strip()}")
        immutable = True
    yield path
    if immutable:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("argv", [["run", "--headless"], []], ids=["headless", "app"])
def test_read_only_journal_is_refused_before_start(
    argv: list[str], read_only_journal: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from tradeterm.cli import main

    case = Case(f"journal-read-only-{argv}", argv, "read-only")
    (tmp_path / "sandbox").mkdir()
    env = sandbox(case, tmp_path / "sandbox")
    for name in [k for k in os.environ if k not in env]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TRADETERM_JOURNAL_PATH", str(read_only_journal))
    monkeypatch.chdir(tmp_path / "sandbox")

    def started(*_: object) -> int:
        raise AssertionError("the app or the engine started on a read-only journal")

    monkeypatch.setattr("tradeterm.ui.app.run_app", started)
    monkeypatch.setattr("tradeterm.service.runner.main", started)
    before = snapshot(tmp_path)
    status = main(argv)
    out, err = capfd.readouterr()
    check_output(case, status, out, err)
    assert "journal.sqlite" in err
    assert snapshot(tmp_path) == before
