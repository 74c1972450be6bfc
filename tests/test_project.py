"""The project's own promises: the public API, the layers, and README's two commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import safecomm_reports

import safecomm_core
import safecomm_core.audit

ROOT = Path(__file__).parents[1]

#: Libraries of the adapters and extras, which the core never imports.
ADAPTER_LIBRARIES = ("click", "msgspec", "psycopg", "openpyxl", "matplotlib", "litestar", "nats")


@pytest.mark.parametrize(
    "package", [safecomm_core, safecomm_core.audit, safecomm_reports], ids=lambda p: p.__name__
)
def test_public_api_is_sorted_and_complete(package: ModuleType) -> None:
    names = package.__all__
    # isort-style, as ruff keeps it: CONSTANTS, then Classes, then functions
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert hasattr(package, name), name


def test_core_imports_no_adapter_library() -> None:
    probe = (
        "import sys, safecomm_core, safecomm_core.commands, safecomm_core.audit,"
        " safecomm_core.reports;"
        f"bad = set({ADAPTER_LIBRARIES!r}) & {{m.split('.')[0] for m in sys.modules}};"
        "print(sorted(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_ci_runs_readme_test_command_verbatim() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.+?)\n```", quick, flags=re.S)
    assert len(commands) == 2, "Quick start holds exactly two commands: main job, tests"
    main_job, tests = commands
    assert "safecomm demo" in main_job
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_readme_python_examples_run(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.+?)\n```", readme, flags=re.S)
    assert blocks
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
