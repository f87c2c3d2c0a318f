"""The loader: good files load, broken ones are reported with file and line, others keep going."""

from __future__ import annotations

import os

from strat_samples import always_source, write

from tradeterm.strategy.loader import FileWatcher, load_directory, load_file


def test_a_good_file_loads_its_strategy(tmp_path):
    path = write(tmp_path, "always.py", always_source())
    result = load_directory(tmp_path)
    assert result.errors == []
    loaded = result.strategies["always"]
    assert loaded.file == path.resolve() and loaded.cls.__name__ == "Always"
    assert loaded.cls().params.size == 1.0


def test_syntax_error_is_reported_with_file_and_line_while_others_load(tmp_path):
    write(tmp_path, "always.py", always_source())
    broken = write(tmp_path, "broken.py", "import polars\n\nx = 1\ndef f(:\n    pass\n")
    result = load_directory(tmp_path)
    assert list(result.strategies) == ["always"]
    [err] = result.errors
    assert err.file == broken.resolve() and err.line == 4
    assert "syntax error" in err.message and "broken.py:4" in str(err)


def test_import_error_is_reported_with_its_line(tmp_path):
    write(tmp_path, "always.py", always_source())
    write(tmp_path, "missing.py", "import os\nimport no_such_module_xyz\n")
    result = load_directory(tmp_path)
    [err] = result.errors
    assert err.line == 2 and "ModuleNotFoundError" in err.message
    assert "always" in result.strategies


def test_error_raised_in_a_class_body_points_at_that_line(tmp_path):
    src = always_source().replace('    warmup = 0\n', '    warmup = 0\n    oops = 1 / 0\n')
    write(tmp_path, "div.py", src)
    [err] = load_directory(tmp_path).errors
    assert "ZeroDivisionError" in err.message
    assert err.line == src.splitlines().index("    oops = 1 / 0") + 1


def test_duplicate_names_keep_the_first_and_report_the_second(tmp_path):
    write(tmp_path, "a_first.py", always_source("same"))
    second = write(tmp_path, "b_second.py", always_source("same", cls="Again"))
    result = load_directory(tmp_path)
    assert result.strategies["same"].file.name == "a_first.py"
    [err] = result.errors
    assert err.file == second.resolve() and "duplicate strategy name 'same'" in err.message
    assert err.line is not None


def test_definition_problems_and_empty_files_are_reported(tmp_path):
    write(tmp_path, "tf.py", always_source("tf", timeframe="7m"))
    write(tmp_path, "empty.py", "X = 1\n")
    write(tmp_path, "two.py", always_source("one") + always_source("two", cls="Two"))
    write(tmp_path, "_helper.py", "raise RuntimeError('helpers are not loaded')\n")
    messages = {e.file.name: e.message for e in load_directory(tmp_path).errors}
    assert "unknown timeframe '7m'" in messages["tf.py"]
    assert "no Strategy subclass" in messages["empty.py"]
    assert "one strategy class per file" in messages["two.py"]
    assert "_helper.py" not in messages


def test_a_strategy_may_import_a_sibling_helper(tmp_path):
    write(tmp_path, "_shared.py", "LABEL = 'from helper'\n")
    src = always_source("uses_helper").replace(
        "import polars as pl\n", "import polars as pl\nfrom _shared import LABEL\n"
    )
    write(tmp_path, "uses_helper.py", src)
    assert "uses_helper" in load_directory(tmp_path).strategies


def test_file_watcher_reports_new_changed_and_removed_files(tmp_path):
    watcher = FileWatcher(tmp_path)
    a = write(tmp_path, "a.py", always_source("a"))
    b = write(tmp_path, "b.py", always_source("b", cls="B"))
    assert watcher.poll() == ({a.resolve(), b.resolve()}, set())
    assert watcher.poll() == (set(), set())
    write(tmp_path, "a.py", always_source("a2"))
    st = a.stat()
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    b.unlink()
    assert watcher.poll() == ({a.resolve()}, {b.resolve()})
    assert load_file(a)[0].name == "a2"  # a reload executes the new source
