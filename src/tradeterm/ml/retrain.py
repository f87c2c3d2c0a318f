"""One retrain of a saved model, in its own process: ``python -m tradeterm.ml.retrain JOB``.

The engine's scheduler (``ml/schedule.py``) fetches the newest candles, writes them to a
parquet file and starts this module as a child process; nothing of the training (LightGBM,
scikit-learn, the fit itself) ever runs in the engine. The child lowers its own priority
(``nice``), trains with the model's own recipe from its manifest (features, labels, kind,
splits, seed) on the candles it was handed, and judges the result on its purged walk-forward
report before it may replace the model:

**The floor.** With ``floor = "majority"`` (the default) the new model's out-of-sample log loss
must not be worse than the majority baseline's on the same windows; otherwise the old version
stays and the reason says by how much. (The old version's own metrics were measured on other
bars, so they are not the yardstick.)

A new version is written beside the old one and made current atomically (``store.save_version``);
the running ``ml_signal`` strategy picks it up at its next evaluation. The child's last stdout
line is ``RESULT {json}``: ``{"ok": true, "version", "previous", "bars", ...}`` or
``{"ok": false, "reason"}``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

RESULT = "RESULT "


@dataclass(frozen=True, slots=True)
class RetrainJob:
    models_dir: str
    name: str
    candles: str  # parquet of closed candles, oldest first
    window_bars: int
    floor: str = "majority"
    nice: int = 10
    threads: int = 1

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> RetrainJob:
        return cls(**json.loads(text))


def floor_refusal(report: dict[str, Any], floor: str) -> str | None:
    """Why a new model may not replace the old one (None: it may)."""
    model = report["model"].get("log_loss")
    if model is None:
        return "no out-of-sample bars to judge the new model on"
    if floor == "none":
        return None
    majority = report["majority"].get("log_loss")
    if majority is not None and model > majority:
        return (f"the new model's out-of-sample log loss {model:.4f} is worse than the majority "
                f"baseline's {majority:.4f} (floor: majority)")
    return None


def _enough_known_bars(frame: Any, config: Any) -> None:
    """Refuse, in words, a window whose first training block has too few bars with every
    feature known (the session VWAP features are missing until the first whole UTC day in the
    window begins: up to a day of 1m bars), rather than let the fit fail on zero rows."""
    import numpy as np

    from tradeterm.ml.features import feature_fn
    from tradeterm.ml.splits import walk_forward_splits
    from tradeterm.ml.train import design

    _, _, complete = design(frame, feature_fn(config.features))
    splits = walk_forward_splits(frame.height, config.n_splits, horizon=config.labels.horizon,
                                 embargo=config.embargo, train_bars=config.train_bars)
    known = int(np.count_nonzero(complete[splits[0].train]))
    if known < 100:
        raise ValueError(
            f"the first training window has {known} bars with every feature known (of "
            f"{splits[0].train.size}; {int(np.count_nonzero(~complete))} of the {frame.height} "
            f"bars miss a feature, e.g. the session VWAP before the first whole UTC day); "
            f"raise [ml] retrain_window_bars")


def retrain(job: RetrainJob) -> dict[str, Any]:
    """Train, judge and (if it passes the floor) save a new version; the result as a dict."""
    from tradeterm.indicators.candle_file import read_candle_file
    from tradeterm.ml.features import FeatureSpec
    from tradeterm.ml.labels import LabelSpec
    from tradeterm.ml.store import code_version, read_manifest, save_version, version_of
    from tradeterm.ml.train import TrainConfig, train_final, walk_forward

    root = Path(job.models_dir)
    old = read_manifest(root, job.name).manifest
    cfg = old["config"]
    config = TrainConfig(
        model=cfg["model"], features=FeatureSpec.from_dict(cfg["features"]),
        labels=LabelSpec(**cfg["labels"]).check(), n_splits=int(cfg["n_splits"]),
        embargo=int(cfg["embargo"]), train_bars=cfg.get("train_bars"), seed=int(cfg["seed"]),
        threads=job.threads,
    )
    frame = read_candle_file(Path(job.candles)).tail(job.window_bars)
    _enough_known_bars(frame, config)
    started = time.perf_counter()
    result = walk_forward(frame, config)
    metrics = {"log_loss": result.report["model"]["log_loss"],
               "majority_log_loss": result.report["majority"]["log_loss"],
               "accuracy": result.report["model"]["accuracy"]}
    refusal = floor_refusal(result.report, job.floor)
    if refusal is not None:
        return {"ok": False, "reason": refusal, "previous": version_of(old), **metrics}
    model = train_final(frame, config)
    times = frame.get_column("open_time")
    now_ms = int(time.time() * 1000)
    manifest = {
        **{k: v for k, v in old.items() if k not in ("name", "file", "sha256")},
        "features": list(model.features),
        "data": {"from_ms": int(times[0]), "to_ms": int(times[-1]), "bars": frame.height,
                 "source": "retrain (the engine's market data)"},
        "metrics": result.report, "code_version": code_version(), "trained_at_ms": now_ms,
        "train_seconds": round(time.perf_counter() - started, 2),
        "retrained_from": version_of(old),
    }
    saved = save_version(root, job.name, model, manifest)
    return {"ok": True, "version": version_of(saved.manifest), "previous": version_of(old),
            "bars": frame.height, "from_ms": int(times[0]), "to_ms": int(times[-1]), **metrics}


def main(argv: list[str]) -> int:
    job = RetrainJob.from_json(Path(argv[0]).read_text())
    try:
        os.nice(job.nice)
    except OSError:
        pass
    os.environ.setdefault("OMP_NUM_THREADS", str(job.threads))
    try:
        result = retrain(job)
    except Exception as exc:  # noqa: BLE001 - one line for the engine's notice
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        result = {"ok": False, "reason": f"{type(exc).__name__}: {text}" if text
                  else type(exc).__name__}
    print(RESULT + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
