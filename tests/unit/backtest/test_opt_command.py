"""``optimize`` end to end on a tiny strategy whose result is known in advance: on a price that
rises every bar, holding a long longer earns more, so ranking by total return must pick the
longest allowed ``hold``; one value is refused by the strategy's own validator."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import polars as pl
from rich.console import Console

from tradeterm.backtest.optimize import Job, optimize
from tradeterm.backtest.optimize_cli import add_optimize_parser, optimize_command
from tradeterm.backtest.runner import BacktestConfig
from tradeterm.config import load_settings
from tradeterm.core.models import TIMEFRAME_MS
from tradeterm.indicators.frame import synthetic_candles

HOLD = '''
import polars as pl
from pydantic import Field, model_validator
from tradeterm.strategy import Strategy


class Hold(Strategy):
    name = "hold"
    timeframe = "1m"

    class Params(Strategy.Params):
        hold: int = Field(3, ge=1, le=20)
        every: int = Field(30, ge=25, le=40)

        @model_validator(mode="after")
        def _no_13(self):
            if self.hold == 13:
                raise ValueError("13 is unlucky")
            return self

    def signals(self, frame):
        i = pl.int_range(pl.len())
        p = self.params
        return frame.with_columns(
            entry_long=(i % p.every) == 5,
            entry_short=pl.lit(False),
            exit_long=(i % p.every) == 5 + p.hold,
            exit_short=pl.lit(False),
            stop=pl.col("close") - 5.0,
        )
'''


def _rising(n: int) -> pl.DataFrame:
    close = [100.0 + i for i in range(n)]
    return pl.DataFrame({
        "open_time": [1_704_067_200_000 + i * 60_000 for i in range(n)],
        "open": [c - 0.5 for c in close], "high": [c + 0.2 for c in close],
        "low": [c - 0.7 for c in close], "close": close, "volume": [1.0] * n,
    })


def _setup(tmp_path: Path) -> tuple[Path, Path]:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "hold.py").write_text(HOLD)
    data = tmp_path / "rising.parquet"
    _rising(200).write_parquet(data)
    return strategies, data


def _run(tmp_path: Path, strategies: Path, *argv: str) -> tuple[int, str]:
    parser = argparse.ArgumentParser()
    add_optimize_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["optimize", *argv])
    settings = load_settings(None, data_dir=tmp_path, strategies={"dir": strategies})
    console = Console(record=True, width=200, force_terminal=False)
    return optimize_command(args, settings, console), console.export_text()


def test_ranking_picks_the_known_best_and_counts_refused(tmp_path):
    strategies, data = _setup(tmp_path)
    out = tmp_path / "r.json"
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--grid",
                        "--vary", "hold", "--steps", "20", "--metric", "total_return",
                        "--split", "0.7", "--top", "3", "--jobs", "1", "--json", str(out))
    assert status == 0, text
    doc = json.loads(out.read_text())
    assert doc["candidates"] == 20 and doc["invalid"] == 1 and len(doc["all"]) == 19
    assert [r["params"]["hold"] for r in doc["top"]] == [20, 19, 18]
    returns = [r["in_sample"]["total_return"] for r in doc["top"]]
    assert returns == sorted(returns, reverse=True) and returns[0] > 0
    assert doc["in_sample"]["bars"] == 140 and doc["out_of_sample"]["bars"] == 60
    assert doc["in_sample"]["end"] == "2024-01-01 02:19"  # bar 139
    assert doc["out_of_sample"]["start"] == "2024-01-01 02:20"
    oos = doc["top"][0]["out_of_sample"]
    assert oos["bars"] == 60 and oos["trades"] == 2  # entries at bars 155 and 185 (every 30)
    assert doc["top"][0]["in_sample"]["trades"] == 5  # 5, 35, 65, 95, 125 (closed at the end)
    assert "refused by Params" in text


def test_parallel_equals_serial(tmp_path):
    strategies, _ = _setup(tmp_path)
    candles = synthetic_candles(1500, seed=4)
    job = Job((strategies / "hold.py").resolve(), "hold", candles, BacktestConfig(),
              TIMEFRAME_MS["1m"], 1000)
    cands = [{"hold": h, "every": e} for h in (1, 4, 9, 17) for e in (25, 31, 40)]
    serial = optimize(job, cands, metric="sharpe", top=5, jobs=1)
    parallel = optimize(job, cands, metric="sharpe", top=5, jobs=2)
    assert serial.in_sample == parallel.in_sample and len(serial.in_sample) == 12
    assert [(r.index, r.in_sample, r.out_of_sample) for r in serial.top] == [
        (r.index, r.in_sample, r.out_of_sample) for r in parallel.top]
    assert all(r.out_of_sample is not None for r in serial.top)


def test_random_search_is_deterministic(tmp_path):
    strategies, data = _setup(tmp_path)
    docs = []
    for name in ("a.json", "b.json"):
        status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--random", "8",
                            "--seed", "3", "--jobs", "1", "--json", str(tmp_path / name))
        assert status == 0, text
        docs.append(json.loads((tmp_path / name).read_text()))
    assert docs[0] == docs[1] and docs[0]["candidates"] == 8


def test_exit_codes(tmp_path):
    strategies, data = _setup(tmp_path)
    base = ("--data", str(data), "--jobs", "1")
    assert _run(tmp_path, strategies, "hold", *base, "--param", "hold=2,3")[0] == 0
    status, text = _run(tmp_path, strategies, "nope", *base, "--grid")
    assert status == 2 and "no strategy named 'nope'" in text
    status, text = _run(tmp_path, strategies, "hold", *base, "--param", "speed=1,2")
    assert status == 2 and "unknown parameter 'speed'" in text
    status, text = _run(tmp_path, strategies, "hold", *base, "--metric", "sharpe,bogus")
    assert status == 2 and "unknown metric 'bogus'" in text
    assert _run(tmp_path, strategies, "hold", *base, "--param", "hold=13")[0] == 2  # all refused
    assert _run(tmp_path, strategies, "hold", "--jobs", "1", "--grid")[0] == 2  # no candles


def test_rolling_folds_pick_a_winner_per_fold(tmp_path):
    strategies, data = _setup(tmp_path)
    out = tmp_path / "f.json"
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--param",
                        "hold=2,8,20", "--metric", "total_return", "--folds", "2",
                        "--split", "0.5", "--jobs", "1", "--json", str(out))
    assert status == 0, text
    folds = json.loads(out.read_text())["folds"]
    # o = floor(200 x 0.5 / (0.5 + 1)) = 66; in-sample 200 - 132 = 68
    assert [(f["in_sample"]["bars"], f["out_of_sample"]["bars"]) for f in folds] == [(68, 66)] * 2
    assert folds[1]["in_sample"]["start"] == "2024-01-01 01:06"  # bar 66
    assert [f["top"][0]["params"]["hold"] for f in folds] == [20, 20]
    assert all(f["top"][0]["out_of_sample"]["trades"] >= 2 for f in folds)
    assert "walk-forward" in text


def test_min_trades_ranks_thin_candidates_last_and_counts_them(tmp_path):
    strategies, data = _setup(tmp_path)
    out = tmp_path / "m.json"
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--param",
                        "hold=10", "--param", "every=25,40", "--metric", "total_return",
                        "--min-trades", "5", "--jobs", "1", "--json", str(out))
    assert status == 0, text
    doc = json.loads(out.read_text())
    trades = {r["params"]["every"]: r["in_sample"]["trades"] for r in doc["all"]}
    assert trades == {25: 6, 40: 4}  # entries at 5, 30, ..., 130 and at 5, 45, 85, 125
    assert doc["min_trades"] == 5 and doc["too_few_trades"] == 1
    assert [r["params"]["every"] for r in doc["top"]] == [25, 40]
    assert "1 with fewer than 5 trades (ranked last)" in text


def test_a_study_is_the_default_and_resumes_from_the_journal_folder(tmp_path):
    strategies, data = _setup(tmp_path)
    docs = []
    for name in ("a.json", "b.json"):
        status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--trials", "6",
                            "--seed", "2", "--jobs", "1", "--json", str(tmp_path / name))
        assert status == 0, text
        docs.append(json.loads((tmp_path / name).read_text()))
    assert docs[0]["mode"].startswith("tpe 6 trials")
    assert (docs[0]["study"]["trials"], docs[1]["study"]["trials"]) == (6, 12)
    assert docs[0]["study"]["name"] == docs[1]["study"]["name"]
    assert (tmp_path / "studies.sqlite").is_file()  # beside the journal (data_dir here)
    assert len(docs[1]["all"]) == 12 and "12 complete trials (6 run now" in text
    # another metric is another objective: a new study, not a mix of incomparable trials
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--trials", "3",
                        "--metric", "sortino", "--jobs", "1", "--json", str(tmp_path / "c.json"))
    assert status == 0, text
    assert json.loads((tmp_path / "c.json").read_text())["study"]["trials"] == 3


def test_two_metrics_run_nsga2_and_mark_the_pareto_front(tmp_path):
    strategies, data = _setup(tmp_path)
    out = tmp_path / "p.json"
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--trials", "8",
                        "--metric", "total_return,max_drawdown", "--jobs", "1", "--json",
                        str(out))
    assert status == 0, text
    doc = json.loads(out.read_text())
    assert doc["mode"].startswith("nsga2") and doc["study"]["pareto"]
    assert "Pareto front" in text
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--grid",
                        "--metric", "sharpe,sortino", "--jobs", "1")
    assert status == 2 and "two metrics need an Optuna search" in text


def test_ray_without_ray_installed_is_one_line_and_exit_2(tmp_path, monkeypatch):
    import sys

    strategies, data = _setup(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra gives
    status, text = _run(tmp_path, strategies, "hold", "--data", str(data), "--trials", "2",
                        "--ray")
    assert status == 2
    assert text.strip() == ("tradeterm optimize: --ray needs ray: install the cluster extra "
                            "(uv sync --extra cluster, or pip install 'tradeterm[cluster]')")
