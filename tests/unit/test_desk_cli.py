"""A foreign or corrupt journal stops ``tradeterm run --headless`` before anything starts, with
the journal's message (exit 2), and the file is left byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradeterm.cli import main


@pytest.mark.parametrize("content", [b"not a database at all" * 10, b"SQLite format 3\x00" + bytes(84)])
def test_run_refuses_a_foreign_journal_and_leaves_it_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    content: bytes,
):
    journal = tmp_path / "journal.sqlite"
    journal.write_bytes(content)
    monkeypatch.setenv("TRADETERM_JOURNAL_PATH", str(journal))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["--demo", "run", "--headless"]) == 2
    err = capsys.readouterr().err
    assert str(journal) in err and "left as is" in err
    assert journal.read_bytes() == content
