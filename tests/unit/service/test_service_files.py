"""The engine's log (tail, last status line, follow), the detached child's command line, and
the systemd user unit ``install-service`` writes (content, quoting, no secrets, no silent
overwrite; ``systemd-analyze verify`` where it is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path


from tradeterm.service.detach import child_argv
from tradeterm.service.logs import follow, last_status, tail
from tradeterm.service.unit import render_unit, write_unit

# -- logs --------------------------------------------------------------------------------------


def test_tail_reads_the_last_lines_and_only_after_a_start_offset(tmp_path: Path) -> None:
    log = tmp_path / "tradeterm.log"
    log.write_text("".join(f"line {i}\n" for i in range(100_000)))
    assert tail(log, 3) == ["line 99997", "line 99998", "line 99999"]
    assert tail(log, 0) == []
    start = log.stat().st_size
    with log.open("a") as f:
        f.write("new 1\nnew 2\n")
    assert tail(log, 15, start) == ["new 1", "new 2"]


def test_last_status_is_the_last_status_line_without_the_logging_prefix(tmp_path: Path) -> None:
    log = tmp_path / "tradeterm.log"
    assert last_status(log) is None  # no log yet
    log.write_text(
        "2026-12-07 07:00:00,000 INFO tradeterm.service.runner: status equity=1.00 USDT a\n"
        "2026-12-07 07:01:00,000 INFO tradeterm.service.runner: status equity=2.00 USDT b\n"
        "2026-12-07 07:01:30,000 INFO tradeterm.service.runner: 2026-12-07T07:01:30Z "
        "OrderDenied rule=x buy 1 BTC/USDT denied: the status of it\n"
    )
    assert last_status(log) == "status equity=2.00 USDT b"


def test_follow_prints_the_tail_then_appended_lines_and_survives_truncation(
    tmp_path: Path,
) -> None:
    log = tmp_path / "tradeterm.log"
    log.write_text("old 1\nold 2\n")
    seen: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=follow, args=(log, 1), daemon=True,
                              kwargs={"poll_s": 0.02, "write": seen.append, "until": stop.is_set})
    thread.start()

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 10
        while text not in seen:
            assert time.monotonic() < deadline, seen
            time.sleep(0.02)

    wait_for("old 2\n")
    with log.open("a") as f:
        f.write("new 1\n")
    wait_for("new 1\n")
    log.write_text("after truncation\n")
    wait_for("after truncation\n")
    stop.set()
    thread.join(timeout=10)
    assert "old 1\n" not in seen  # -n 1


# -- detach ------------------------------------------------------------------------------------


def test_the_detached_child_is_the_same_command_without_detach() -> None:
    argv = ["--config", "c.toml", "engine", "start", "--demo", "--detach", "--replay", "r.pq"]
    assert child_argv(argv) == [sys.executable, "-m", "tradeterm", "--config", "c.toml",
                                "engine", "start", "--demo", "--replay", "r.pq"]
    assert child_argv(["engine", "start", "--det"])[3:] == ["engine", "start"]  # abbreviation
    assert child_argv(["--demo", "engine", "start", "--detach"])[3:] == [
        "--demo", "engine", "start"]


# -- the systemd unit --------------------------------------------------------------------------


def test_unit_quotes_what_systemd_would_expand_or_split() -> None:
    text = render_unit(["/opt/py env/bin/python", "-m", "tradeterm", "--config",
                        "/home/u/100%/$HOME.toml", "engine", "start"],
                       working_dir=Path("/home/u/my dir"), environment={"TRADETERM_DATA_DIR":
                                                                        "/d"},
                       env_path=Path("/home/u/.config/tradeterm/env"))
    assert ('ExecStart="/opt/py env/bin/python" -m tradeterm --config /home/u/100%%/$$HOME.toml '
            "engine start\n") in text
    assert 'WorkingDirectory="/home/u/my dir"\n' in text
    assert "Environment=TRADETERM_DATA_DIR=/d\n" in text
    assert "EnvironmentFile=-/home/u/.config/tradeterm/env\n" in text
    for line in ("Restart=on-failure", "RestartSec=10", "KillSignal=SIGTERM",
                 "TimeoutStopSec=30", "RestartPreventExitStatus=2", "WantedBy=default.target"):
        assert line + "\n" in text


def test_write_unit_never_replaces_a_different_unit_without_force(tmp_path: Path) -> None:
    path = tmp_path / "u" / "tradeterm-engine.service"
    assert write_unit("A\n", path, force=False) == "written"
    assert write_unit("A\n", path, force=False) == "unchanged"
    assert write_unit("B\n", path, force=False) == "exists"
    assert path.read_text() == "A\n"
    assert write_unit("B\n", path, force=True) == "written"
    assert path.read_text() == "B\n"


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradeterm", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=60, stdin=subprocess.DEVNULL)


def test_install_service_writes_a_unit_with_absolute_paths_and_no_secret(tmp_path: Path) -> None:
    """A real ``tradeterm engine install-service`` into a temporary XDG_CONFIG_HOME."""
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "config.toml").write_text("timeframe = \"5m\"\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADETERM_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), XDG_DATA_HOME=str(tmp_path / "data"),
               HOME=str(tmp_path / "home"), BINANCE_API_SECRET="s3cr3t-never-in-a-unit")
    done = _run(["--config", "config.toml", "--seed", "7", "engine", "install-service",
                 "--demo"], env, tmp_path / "work")
    assert done.returncode == 0, done.stderr
    unit = tmp_path / "cfg" / "systemd" / "user" / "tradeterm-engine.service"
    assert f"wrote {unit}" in done.stdout
    for step in ("systemctl --user daemon-reload", "systemctl --user enable --now "
                 "tradeterm-engine", "loginctl enable-linger $USER"):
        assert step in done.stdout
    text = unit.read_text()
    config = (tmp_path / "work" / "config.toml").resolve()
    assert (f"ExecStart={sys.executable} -m tradeterm --config {config} --demo --seed 7 "
            "engine start\n") in text
    assert f"WorkingDirectory={(tmp_path / 'work').resolve()}\n" in text
    data = (tmp_path / "data" / "tradeterm").resolve()
    assert f"Environment=TRADETERM_DATA_DIR={data}\n" in text
    assert f"EnvironmentFile=-{tmp_path / 'cfg' / 'tradeterm' / 'env'}\n" in text
    assert "s3cr3t" not in text and "SECRET" not in text

    again = _run(["engine", "install-service"], env, tmp_path / "work")  # other flags: differs
    assert again.returncode == 1 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert unit.read_text() == text
    forced = _run(["engine", "install-service", "--force"], env, tmp_path / "work")
    assert forced.returncode == 0 and "--demo" not in unit.read_text()

    if shutil.which("systemd-analyze"):  # the content is checked above either way
        verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                                text=True, timeout=60, check=False)
        assert verify.returncode == 0, verify.stderr
        assert str(unit) not in verify.stderr, verify.stderr  # no "unknown key" warnings
