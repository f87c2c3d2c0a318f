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


SHIPPED = ("tradeterm-dark", "tradeterm-light", "tradeterm-colorblind", "tradeterm-256")


def hue(color: str) -> float:
    """Hue in degrees (0-360) of a ``#rrggbb`` colour."""
    import colorsys

    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return colorsys.rgb_to_hls(r, g, b)[0] * 360


def xterm_256_palette() -> set[str]:
    """The 6x6x6 colour cube and the 24-step grey ramp of xterm's 256 colours (the first 16
    are left out on purpose: terminals let users redefine them)."""
    levels = (0x00, 0x5F, 0x87, 0xAF, 0xD7, 0xFF)
    cube = {f"#{r:02X}{g:02X}{b:02X}" for r in levels for g in levels for b in levels}
    greys = {f"#{v:02X}{v:02X}{v:02X}" for v in range(8, 239, 10)}
    return cube | greys


def test_shipped_themes_when_loaded_then_all_four_present_with_distinct_market_colours():
    themes, errors = load_themes(themes_dir())
    assert errors == []
    for name in SHIPPED:
        assert (themes_dir() / f"{name}.toml").is_file()
        colors = trading_colors(themes[name])
        assert colors.up != colors.down, name
        assert colors.bid != colors.ask, name
        assert colors.profit != colors.loss, name
    assert themes["tradeterm-light"].dark is False


def test_colorblind_theme_when_read_then_blue_and_orange_never_green_or_red():
    colors = trading_colors(load_themes(themes_dir())[0]["tradeterm-colorblind"])
    for rising in (colors.up, colors.bid, colors.profit):
        assert 190 <= hue(rising) <= 240, rising  # blue
    for falling in (colors.down, colors.ask, colors.loss):
        assert 25 <= hue(falling) <= 45, falling  # orange
    for color in (colors.up, colors.down, colors.bid, colors.ask, colors.profit, colors.loss):
        h = hue(color)
        assert not (h < 20 or h > 340), f"{color} is red"
        assert not (75 <= h <= 165), f"{color} is green"


def test_256_theme_when_read_then_every_colour_is_an_exact_xterm_palette_entry():
    import tomllib

    data = tomllib.loads((themes_dir() / "tradeterm-256.toml").read_text())
    colors = [data[key] for key in data if key not in ("name", "dark", "trading")]
    colors += list(data["trading"].values())
    assert len(colors) == 16
    palette = xterm_256_palette()
    assert len(palette) == 240
    for color in colors:
        assert color.upper() in palette, color
