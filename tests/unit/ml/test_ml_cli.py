"""``tradeterm ml train | list | show`` through the real command line, on generated candles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradeterm.cli import main
from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml.store import MANIFEST_FILE, MODEL_FILE


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("TRADETERM_DATA_DIR", str(folder))
    return folder


def test_train_saves_a_model_with_its_manifest_and_list_show_read_it(tmp_path, data_dir, capsys):
    candles = tmp_path / "c.parquet"
    synthetic_candles(6000, seed=4, interval_ms=300_000).write_parquet(candles)
    code = main(["ml", "train", "--data", str(candles), "--symbol", "ETH/USDT", "--timeframe", "5m",
                 "--model", "logistic", "--splits", "3", "--higher", "1h", "--shifts", "1",
                 "--name", "eth5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "majority" in out and "persistence" in out and "confusion" in out
    folder = data_dir / "models" / "eth5"
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    assert (folder / MODEL_FILE).is_file() and len(manifest["sha256"]) == 64
    assert manifest["symbol"] == "ETH/USDT" and manifest["timeframe"] == "5m"
    assert manifest["data"]["bars"] == 6000 and manifest["code_version"].startswith("0.")
    assert "rsi_1h" in manifest["features"] and "rsi_s1" in manifest["features"]
    assert len(manifest["features"]) == 16 * 3
    assert manifest["config"]["labels"] == {"horizon": 5, "threshold": 0.005, "atr_mult": None}
    assert len(manifest["metrics"]["windows"]) == 3

    assert main(["ml", "list"]) == 0
    listed = capsys.readouterr().out
    assert "eth5" in listed and "ETH/USDT" in listed
    assert main(["ml", "show", "eth5"]) == 0
    shown = capsys.readouterr().out
    assert "rsi_1h" in shown and "sha256" in shown and "persistence" in shown


@pytest.mark.parametrize("argv,expected", [
    (["ml", "train", "--model", "xgb", "--data", "{data}"], "unknown model 'xgb'"),
    (["ml", "train", "--data", "/nonexistent.parquet"], "no such file"),
    (["ml", "train", "--timeframe", "7m", "--data", "{data}"], "unknown timeframe '7m'"),
    (["ml", "train", "--higher", "7m", "--data", "{data}"], "higher timeframe '7m'"),
    (["ml", "train", "--shifts", "a", "--data", "{data}"], "--shifts expects integers"),
    (["ml", "show", "nope"], "no model named 'nope'"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, data_dir, capsys, argv, expected):
    candles = tmp_path / "c.parquet"
    synthetic_candles(300, seed=1).write_parquet(candles)
    code = main([a.replace("{data}", str(candles)) for a in argv])
    out = capsys.readouterr()
    text = (out.out + out.err).strip()
    assert code == 2 and expected in text
    assert len(text.splitlines()) == 1 and "Traceback" not in text


def test_too_few_bars_for_the_windows_is_a_usage_error(tmp_path, data_dir, capsys):
    candles = tmp_path / "c.parquet"
    synthetic_candles(300, seed=1).write_parquet(candles)
    assert main(["ml", "train", "--data", str(candles), "--timeframe", "1m"]) == 2
    assert "too few for 5 walk-forward windows" in capsys.readouterr().out
