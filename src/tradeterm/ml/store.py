"""Saved models: ``<data_dir>/models/<name>/model.joblib`` beside ``manifest.json``.

The manifest says what the model is and how far to trust it: symbol, timeframe, model kind,
the training configuration (features, labels, splits, seed), the data range, the walk-forward
report, the code version (package version and git commit) and the SHA-256 of the model file,
checked on every load. A model file is a pickle: load only models you trained (the hash stops a
file changed after training, not one written by someone else along with its manifest).

**Versions.** A retrain (``ml/retrain.py``) writes its model beside the old one under a new file
name (``model-<stamp>.joblib``), then replaces ``manifest.json`` in one ``os.replace``: a reader
sees the old manifest and file or the new ones, never a mix, and the manifest's ``file`` names
the model file it vouches for. The replaced manifest is kept as ``manifest-<its stamp>.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tradeterm import __version__
from tradeterm.ml.models import Model

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"


class ModelStoreError(ValueError):
    """A model cannot be found, read or trusted; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Saved:
    name: str
    path: Path
    manifest: dict[str, Any]

    @property
    def age_hours(self) -> float:
        return (time.time() - self.manifest["trained_at_ms"] / 1000) / 3600


def models_dir(data_dir: Path) -> Path:
    return data_dir / "models"


def code_version() -> str:
    """``0.1.0`` plus the git commit of the source tree when there is one."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, cwd=Path(__file__).parent, check=False)
    except (OSError, subprocess.SubprocessError):
        return __version__
    commit = out.stdout.strip()[:12]
    return f"{__version__}+{commit}" if out.returncode == 0 and commit else __version__


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def default_name(symbol: str, timeframe: str, kind: str, now_ms: int) -> str:
    stamp = datetime.fromtimestamp(now_ms / 1000, UTC).strftime("%Y%m%dT%H%M%S")
    return f"{symbol.replace('/', '').upper()}_{timeframe}_{kind}_{stamp}"


def save(root: Path, name: str, model: Model, manifest: dict[str, Any]) -> Saved:
    """Write the model and its manifest (with the file's hash) under ``root/name``."""
    import joblib

    if not name or "/" in name or name.startswith("."):
        raise ModelStoreError(f"bad model name {name!r}")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / MODEL_FILE
    joblib.dump(model, path, compress=3)
    full = {**manifest, "name": name, "file": MODEL_FILE, "sha256": sha256(path)}
    write_manifest(folder, full)
    return Saved(name, folder, full)


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    """``manifest.json`` replaced in one step (written beside it, then ``os.replace``)."""
    tmp = folder / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, folder / MANIFEST_FILE)


def version_of(manifest: dict[str, Any]) -> str:
    """A model version's short name: the first 8 hex digits of its file's hash."""
    return str(manifest.get("sha256", ""))[:8] or "?"


def read_manifest(root: Path, name: str) -> Saved:
    folder = root / name
    path = folder / MANIFEST_FILE
    if not path.is_file():
        known = ", ".join(s.name for s in list_models(root)) or "none"
        raise ModelStoreError(f"no model named {name!r} in {root} (found: {known})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ModelStoreError(f"{path}: unreadable manifest ({exc})") from None
    return Saved(name, folder, manifest)


def load(root: Path, name: str) -> tuple[Model, Saved]:
    """The model and its manifest; refuses a model whose file no longer matches its hash."""
    import joblib

    saved = read_manifest(root, name)
    file = str(saved.manifest.get("file", MODEL_FILE))
    if "/" in file or "\\" in file or file.startswith("."):
        raise ModelStoreError(f"{saved.path / MANIFEST_FILE}: bad model file name {file!r}")
    path = saved.path / file
    if not path.is_file():
        raise ModelStoreError(f"{path}: missing model file")
    if sha256(path) != saved.manifest.get("sha256"):
        raise ModelStoreError(f"{path}: the file changed after training (hash differs from the manifest)")
    model = joblib.load(path)
    if not isinstance(model, Model):
        raise ModelStoreError(f"{path}: not a tradeterm model")
    return model, saved


def list_models(root: Path) -> list[Saved]:
    """Every readable manifest under ``root``, newest first."""
    out = []
    if root.is_dir():
        for folder in root.iterdir():
            path = folder / MANIFEST_FILE
            try:
                out.append(Saved(folder.name, folder, json.loads(path.read_text())))
            except (OSError, ValueError):
                continue
    return sorted(out, key=lambda s: -int(s.manifest.get("trained_at_ms", 0)))


KEEP_VERSIONS = 3
"""Earlier versions kept beside the one in use (their manifests and model files)."""


def save_version(root: Path, name: str, model: Model, manifest: dict[str, Any]) -> Saved:
    """A new version of the existing model ``name``, written beside the old one and made current
    in one ``os.replace`` of its manifest (module doc). The new file is read back and checked
    before it becomes current; the old manifest is kept as ``manifest-<its stamp>.json``."""
    import joblib

    old = read_manifest(root, name)
    folder = old.path
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    file = f"model-{stamp}.joblib"
    tmp = folder / f".{file}.tmp"
    joblib.dump(model, tmp, compress=3)
    os.replace(tmp, folder / file)
    if not isinstance(joblib.load(folder / file), Model):
        raise ModelStoreError(f"{folder / file}: did not read back as a tradeterm model")
    full = {**manifest, "name": name, "file": file, "sha256": sha256(folder / file)}
    kept = folder / f"manifest-{old.manifest.get('trained_at_ms', 0)}.json"
    kept.write_text(json.dumps(old.manifest, indent=2, sort_keys=True) + "\n")
    write_manifest(folder, full)
    _prune(folder, keep={file})
    return Saved(name, folder, full)


def _prune(folder: Path, keep: set[str]) -> None:
    """Drop all but the newest :data:`KEEP_VERSIONS` earlier versions (manifest and file)."""
    old = sorted(folder.glob("manifest-*.json"), key=lambda p: p.stat().st_mtime_ns)
    for manifest in old[:-KEEP_VERSIONS] if len(old) > KEEP_VERSIONS else []:
        try:
            file = str(json.loads(manifest.read_text()).get("file", ""))
        except (OSError, ValueError):
            file = ""
        manifest.unlink(missing_ok=True)
        if file and "/" not in file and file not in keep:
            (folder / file).unlink(missing_ok=True)
