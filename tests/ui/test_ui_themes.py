"""Theme files: the shipped default loads; broken files are reported, never fatal."""

from __future__ import annotations

from pathlib import Path

from tradeterm.ui.themes import (
    DEFAULT_THEME,
    TRADING_KEYS,
    builtin_theme,
    load_themes,
    themes_dir,
    trading_colors,
)


def test_load_themes_when_repository_folder_then_default_theme_file_loads_cleanly():
    themes, errors = load_themes(themes_dir())
    assert errors == []
    assert (themes_dir() / f"{DEFAULT_THEME}.toml").is_file()
    shipped = themes[DEFAULT_THEME]
    assert {f"trading-{k}" for k in TRADING_KEYS} <= set(shipped.variables)
    assert shipped.primary == builtin_theme().primary


def test_load_themes_when_no_folder_then_builtin_default_still_there(tmp_path: Path):
    themes, errors = load_themes(tmp_path / "missing")
    assert list(themes) == [DEFAULT_THEME] and errors == []


def test_load_themes_when_broken_files_then_each_reported_and_others_kept(tmp_path: Path):
    (tmp_path / "bad-toml.toml").write_text("name = [")
    (tmp_path / "bad-colour.toml").write_text('name = "x"\nprimary = "not-a-colour"\n')
    (tmp_path / "bad-key.toml").write_text('name = "y"\nprimary = "#fff"\n[trading]\nupp = "#0f0"\n')
    (tmp_path / "good.toml").write_text(
        'name = "good"\ndark = false\nprimary = "#123456"\n[trading]\nup = "#00ff00"\n'
    )
    themes, errors = load_themes(tmp_path)
    assert set(themes) == {DEFAULT_THEME, "good"}
    assert len(errors) == 3
    joined = "\n".join(errors)
    assert "bad-toml.toml: not valid TOML" in joined
    assert "'not-a-colour' is not a colour" in joined
    assert "unknown [trading] key(s) upp" in joined
    colors = trading_colors(themes["good"])
    assert colors.up == "#00FF00"
    assert colors.down == trading_colors(builtin_theme()).down  # missing keys: defaults
