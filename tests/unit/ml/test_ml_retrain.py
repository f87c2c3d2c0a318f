"""A retrain of a saved model (``ml/retrain.py``) as the real child process: a new version
beside the old one, made current in one step; the floor keeps a worse model out; the strategy's
loader switches to a new version at its next call and keeps the old one when the new one is
broken."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from tradeterm.indicators.frame import synthetic_candles
from tradeterm.ml.features import FeatureSpec
from tradeterm.ml.labels import LabelSpec
from tradeterm.ml.predict import ModelRefused, fresh_model
from tradeterm.ml.retrain import RESULT, RetrainJob, floor_refusal
from tradeterm.ml.store import MANIFEST_FILE, load, read_manifest, save, version_of
from tradeterm.ml.train import TrainConfig, train_final, walk_forward

CONFIG = TrainConfig(model="logistic", features=FeatureSpec("scale_free", "1m"),
                     labels=LabelSpec(5, 0.002), n_splits=2)


def save_tiny(root: Path, candles: pl.DataFrame, name: str = "tiny") -> dict:
    """A logistic model on synthetic 1m candles, saved as ``tradeterm ml train`` saves it."""
    model = train_final(candles, CONFIG)
    report = walk_forward(candles, CONFIG).report
    times = candles.get_column("open_time")
    manifest = {"symbol": "BTC/USDT", "timeframe": "1m", "model": "logistic",
                "features": list(model.features), "config": CONFIG.as_dict(),
                "data": {"from_ms": int(times[0]), "to_ms": int(times[-1]),
                         "bars": candles.height, "source": "test"},
                "metrics": report, "code_version": "test",
                "trained_at_ms": int(time.time() * 1000)}
    save(root, name, model, manifest)
    return read_manifest(root, name).manifest  # as JSON has it


def run_child(job: RetrainJob, tmp_path: Path) -> dict:
    path = tmp_path / "job.json"
    path.write_text(job.to_json())
    out = subprocess.run([sys.executable, "-m", "tradeterm.ml.retrain", str(path)],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    [line] = [ln for ln in out.splitlines() if ln.startswith(RESULT)]
    return json.loads(line[len(RESULT):])


def test_a_retrain_writes_a_new_version_beside_the_old_and_records_its_data(tmp_path):
    root = tmp_path / "models"
    first = save_tiny(root, synthetic_candles(1500, seed=3))
    newer = tmp_path / "newer.parquet"
    synthetic_candles(2500, seed=8).write_parquet(newer)
    result = run_child(RetrainJob(str(root), "tiny", str(newer), 1200, floor="none"), tmp_path)
    assert result["ok"], result
    manifest = read_manifest(root, "tiny").manifest
    assert result["version"] == version_of(manifest) != version_of(first) == result["previous"]
    assert manifest["file"] != first["file"] and manifest["data"]["bars"] == 1200
    assert manifest["retrained_from"] == version_of(first)
    assert manifest["config"] == first["config"] and manifest["symbol"] == "BTC/USDT"
    assert manifest["metrics"]["model"]["log_loss"] == pytest.approx(result["log_loss"])
    # the old version is still there, whole: its manifest and its file
    [kept] = list((root / "tiny").glob("manifest-*.json"))
    assert json.loads(kept.read_text())["sha256"] == first["sha256"]
    assert (root / "tiny" / first["file"]).is_file()
    model, saved = load(root, "tiny")  # and the new one loads, its hash checked
    assert saved.manifest["sha256"] == manifest["sha256"]


def test_the_floor_keeps_a_model_worse_than_the_majority_baseline_out(tmp_path):
    report = {"model": {"log_loss": 1.07}, "majority": {"log_loss": 1.06}}
    assert "1.0700 is worse than the majority baseline's 1.0600" in floor_refusal(report,
                                                                                 "majority")
    assert floor_refusal(report, "none") is None
    assert floor_refusal({"model": {"log_loss": 1.05}, "majority": {"log_loss": 1.06}},
                         "majority") is None



def test_a_model_under_the_floor_changes_nothing_on_disk(tmp_path, monkeypatch):
    from tradeterm.ml import retrain as module

    root = tmp_path / "models"
    first = save_tiny(root, synthetic_candles(1500, seed=3))
    before = sorted(p.name for p in (root / "tiny").iterdir())
    data = tmp_path / "c.parquet"
    synthetic_candles(2500, seed=8).write_parquet(data)
    seen: list[dict] = []

    def refuse(report: dict, floor: str) -> str:
        seen.append(report)
        return "under the floor"

    monkeypatch.setattr(module, "floor_refusal", refuse)
    result = module.retrain(RetrainJob(str(root), "tiny", str(data), 1200))
    assert result["ok"] is False and result["reason"] == "under the floor"
    assert seen and seen[0]["model"]["bars"] > 0  # judged on its walk-forward report
    assert read_manifest(root, "tiny").manifest["sha256"] == first["sha256"]
    assert sorted(p.name for p in (root / "tiny").iterdir()) == before


def test_a_failing_retrain_reports_one_line_and_leaves_the_model(tmp_path):
    root = tmp_path / "models"
    first = save_tiny(root, synthetic_candles(1500, seed=3))
    data = tmp_path / "few.parquet"
    synthetic_candles(40, seed=8).write_parquet(data)  # far too few bars for the windows
    result = run_child(RetrainJob(str(root), "tiny", str(data), 1200, floor="none"), tmp_path)
    assert not result["ok"] and "\n" not in result["reason"] and result["reason"]
    assert read_manifest(root, "tiny").manifest["sha256"] == first["sha256"]
    # a day of 1m bars, started after midnight: the first training window has no session VWAP
    synthetic_candles(1500, seed=8, start_ms=1704067200000 + 3_600_000).write_parquet(data)
    result = run_child(RetrainJob(str(root), "tiny", str(data), 1500, floor="none"), tmp_path)
    assert result["reason"].startswith("ValueError: the first training window has 0 bars with "
                                       "every feature known (of 495; 1380 of the 1500 bars miss")
    assert result["reason"].endswith("raise [ml] retrain_window_bars")
    assert read_manifest(root, "tiny").manifest["sha256"] == first["sha256"]


def test_the_strategy_loader_switches_versions_and_keeps_the_old_when_the_new_is_broken(
        tmp_path):
    root = tmp_path / "models"
    first = save_tiny(root, synthetic_candles(1500, seed=3))
    said: list[str] = []
    model, saved = fresh_model(root, "tiny", 24, notice=said.append)
    assert version_of(saved.manifest) == version_of(first) and not said
    data = tmp_path / "c.parquet"
    synthetic_candles(2500, seed=8).write_parquet(data)
    result = run_child(RetrainJob(str(root), "tiny", str(data), 1200, floor="none"), tmp_path)
    model2, saved2 = fresh_model(root, "tiny", 24, notice=said.append)
    assert model2 is not model and version_of(saved2.manifest) == result["version"]
    assert said == [f"model tiny: now using version {result['version']} "
                    f"(was {version_of(first)})"]
    # a third version whose file does not match its manifest: the second stays in use
    manifest = json.loads((root / "tiny" / MANIFEST_FILE).read_text())
    broken = {**manifest, "sha256": "0" * 64}
    tmp = root / "tiny" / "x.tmp"
    tmp.write_text(json.dumps(broken))
    tmp.replace(root / "tiny" / MANIFEST_FILE)
    model3, saved3 = fresh_model(root, "tiny", 24, notice=said.append)
    assert model3 is model2 and version_of(saved3.manifest) == result["version"]
    assert "its new version cannot be used" in said[-1] and "hash differs" in said[-1]
    assert f"still using version {result['version']}" in said[-1]
    # a process that never loaded it refuses it outright
    from tradeterm.ml import predict

    predict._cache.clear()
    with pytest.raises(ModelRefused, match="hash differs"):
        fresh_model(root, "tiny", 24)
