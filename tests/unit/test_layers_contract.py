"""The import-linter contracts in pyproject.toml cover the whole package.

`.ci/run` runs `lint-imports` before the tests; these checks make sure what it checks is the
whole map of ``docs/architecture.md``: a new top-level module or package of ``tradeterm`` must
be given a layer (else nothing would stop it importing anything), and the textual and ccxt
contracts name every module but their owners.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "tradeterm"


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert config["root_package"] == "tradeterm" and config["include_external_packages"]
    return {c["id"]: c for c in config["contracts"]}


def _top_level() -> set[str]:
    """Every importable child of ``tradeterm`` (package or module), bar __init__/__main__."""
    names = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return {f"tradeterm.{name}" for name in names}


def test_every_top_level_module_has_exactly_one_layer() -> None:
    layers = _contracts()["layers"]
    assert layers["type"] == "layers"
    placed = [m.strip() for layer in layers["layers"] for m in layer.split("|")]
    assert len(placed) == len(set(placed)), "a module is in two layers"
    assert set(placed) == _top_level()


def test_layers_keep_the_documented_order() -> None:
    def index(module: str) -> int:
        return next(i for i, layer in enumerate(layers) if module in layer.split(" | "))

    layers = _contracts()["layers"]["layers"]  # top first
    order = ["tradeterm.cli", "tradeterm.ui", "tradeterm.engine", "tradeterm.desk",
             "tradeterm.risk", "tradeterm.market", "tradeterm.config", "tradeterm.core"]
    assert [index(m) for m in order] == sorted(index(m) for m in order)
    assert index("tradeterm.sim") < index("tradeterm.strategy")  # nothing below may import it
    assert index("tradeterm.backtest") == index("tradeterm.sim")  # siblings: no import either way


def test_textual_and_ccxt_contracts_name_every_module_but_their_owner() -> None:
    contracts, modules = _contracts(), _top_level()
    textual = contracts["no-textual"]
    assert textual["forbidden_modules"] == ["textual"]
    assert not textual.get("allow_indirect_imports", False)  # the engine not even through a module
    assert set(textual["source_modules"]) == modules - {"tradeterm.ui", "tradeterm.cli"}
    assert contracts["cli-no-textual"]["source_modules"][0] == "tradeterm.cli"
    ccxt = contracts["ccxt-in-exchange"]
    assert ccxt["forbidden_modules"] == ["ccxt"]
    assert set(ccxt["source_modules"]) == modules - {"tradeterm.exchange"}
