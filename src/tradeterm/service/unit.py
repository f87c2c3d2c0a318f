"""``tradeterm engine install-service``: a systemd user unit that runs the engine.

The unit runs this very interpreter (``sys.executable -m tradeterm``, so the virtualenv is the
one tradeterm was installed in) with absolute paths only: systemd starts it in another
directory and environment than the shell that installed it. The data directory is pinned in
the unit (``TRADETERM_DATA_DIR``) because a user manager's ``XDG_DATA_HOME`` may differ from the
shell's. No secret is ever written here: API keys come from the optional environment file
(``EnvironmentFile=-<config>/tradeterm/env``, 0600, ``KEY=value`` lines; docs/service.md).

``Restart=on-failure`` brings a crashed engine back; a clean stop (SIGTERM: ``systemctl --user
stop`` or ``tradeterm engine stop``) exits 0 and stays stopped; exit status 2 (bad config, a
journal it must not open, another engine on the journal) is not retried: it would fail again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tradeterm import __version__

UNIT_NAME = "tradeterm-engine.service"
RESTART_SEC = 10
TIMEOUT_STOP_SEC = 30


def config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".config"


def unit_path() -> Path:
    return config_home() / "systemd" / "user" / UNIT_NAME


def env_file() -> Path:
    """Where the unit reads secrets from (optional; ``-`` in the unit)."""
    return config_home() / "tradeterm" / "env"


def _quote(word: str) -> str:
    """One word of a unit's command line or assignment: ``%`` and ``$`` escaped (systemd would
    expand them), double quotes around anything with space, quote or backslash."""
    word = word.replace("%", "%%").replace("$", "$$")
    if any(c.isspace() or c in "\"'\\;" for c in word) or not word:
        word = '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def render_unit(
    command: Sequence[str], *, working_dir: Path, environment: dict[str, str], env_path: Path
) -> str:
    """The unit's text. ``command`` is the full ExecStart argv (absolute interpreter first)."""
    exec_start = " ".join(_quote(word) for word in command)
    env_lines = "".join(
        f"Environment={_quote(f'{key}={value}')}\n" for key, value in sorted(environment.items())
    )
    return (
        f"# Written by `tradeterm engine install-service` (tradeterm {__version__}).\n"
        "# No secrets here: API keys go in the EnvironmentFile (0600), see docs/service.md.\n"
        "[Unit]\n"
        "Description=tradeterm engine (feed, strategies, paper broker, journal)\n"
        "\n"
        "[Service]\n"
        "Type=simple\n"
        f"WorkingDirectory={_quote(str(working_dir))}\n"
        f"{env_lines}"
        f"EnvironmentFile=-{_quote(str(env_path))}\n"
        f"ExecStart={exec_start}\n"
        "Restart=on-failure\n"
        f"RestartSec={RESTART_SEC}\n"
        "RestartPreventExitStatus=2\n"
        "KillSignal=SIGTERM\n"
        "KillMode=mixed\n"
        f"TimeoutStopSec={TIMEOUT_STOP_SEC}\n"
        "\n"
        "[Install]\n"
        "WantedBy=default.target\n"
    )


def write_unit(text: str, path: Path, *, force: bool) -> str:
    """Write ``text`` to ``path``: ``"written"``, ``"unchanged"`` (the same unit is there), or
    ``"exists"`` (a different unit is there and ``force`` is not set: nothing written)."""
    try:
        old = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        old = None
    if old == text:
        return "unchanged"
    if old is not None and not force:
        return "exists"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return "written"
