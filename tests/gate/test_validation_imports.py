"""Validation imports Great Expectations only when it validates, and defers the modules GX imports but
the suites never use (flows/validate.py: DEFERRED_MODULES)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows.validate import _defer_import

ROOT = Path(__file__).parents[2]


def run_python(code):
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_validation_module_does_not_import_great_expectations():
    out = run_python("""
        import sys
        import flows.validate
        print(sorted(m for m in ("great_expectations", "pandas", "expectations.suites") if m in sys.modules))
    """)
    assert out.strip() == "[]"


def test_a_validation_leaves_the_deferred_modules_unloaded(tmp_path):
    # A fresh interpreter: the test process itself may have loaded them already.
    out = run_python(f"""
        import sys, duckdb
        from pathlib import Path
        from flows.config import load_settings
        from flows.validate import DEFERRED_MODULES, validate
        settings = load_settings({{"PROCUREMENT_HOME": {str(tmp_path / 'home')!r}}})
        settings.home.mkdir(parents=True)
        con = duckdb.connect(str(settings.work_db))
        con.execute(Path("tests/fixtures/gate/work_db.sql").read_text())
        con.close()
        report = validate(settings, run_id="deferred")
        print(report.passed, [type(sys.modules[m]).__name__ for m in DEFERRED_MODULES])
        import altair as alt, scipy.stats as stats
        used = alt.Chart.__name__, stats.entropy([1, 1], [1, 1])
        print(*used, [type(sys.modules[m]).__name__ for m in DEFERRED_MODULES])
    """)
    lines = out.splitlines()
    assert lines[0] == "True ['_LoadedOnFirstUse', '_LoadedOnFirstUse']"
    assert lines[1] == "Chart 0.0 ['module', 'module']"  # both work once used


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `deferred_pkg` whose code counts its runs in `runs.txt`; removed from sys.modules after."""
    folder = tmp_path / "deferred_pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text(
        "from pathlib import Path\n"
        f"runs = Path({str(tmp_path / 'runs.txt')!r})\n"
        "runs.write_text(runs.read_text() + 'x' if runs.exists() else 'x')\n"
        "VALUE = 42\n"
        "if (Path(__file__).parent / 'FAIL').exists():\n"
        "    raise RuntimeError('broken package')\n"
    )
    (folder / "sub.py").write_text("from . import VALUE\nDOUBLE = 2 * VALUE\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield folder
    for name in [m for m in sys.modules if m.split(".")[0] == "deferred_pkg"]:
        del sys.modules[name]


def test_a_deferred_module_runs_its_code_on_first_use_only(package):
    runs = package.parent / "runs.txt"
    _defer_import("deferred_pkg")
    import deferred_pkg as pkg  # reading __spec__ on import does not run it

    assert not runs.exists()
    assert pkg.VALUE == 42 and runs.read_text() == "x"
    assert type(pkg).__name__ == "module"
    from deferred_pkg.sub import DOUBLE

    assert DOUBLE == 84 and runs.read_text() == "x"
    with pytest.raises(AttributeError):
        pkg.MISSING  # noqa: B018 - a missing attribute is still an AttributeError once loaded


def test_a_submodule_imported_first_still_sees_its_package(package):
    _defer_import("deferred_pkg")
    from deferred_pkg.sub import DOUBLE

    assert DOUBLE == 84


def test_a_deferred_module_that_fails_is_no_longer_imported(package):
    (package / "FAIL").touch()
    _defer_import("deferred_pkg")
    import deferred_pkg as pkg

    with pytest.raises(RuntimeError, match="broken package"):
        pkg.VALUE  # noqa: B018
    assert "deferred_pkg" not in sys.modules


def test_an_imported_module_is_left_as_it_is(package):
    import deferred_pkg

    _defer_import("deferred_pkg")
    assert sys.modules["deferred_pkg"] is deferred_pkg and type(deferred_pkg).__name__ == "module"
