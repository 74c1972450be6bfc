"""The project's own promises: the public API, the layers, and README's two commands."""

from __future__ import annotations

import ast
import json
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
ADAPTER_LIBRARIES = (
    "click",
    "msgspec",
    "psycopg",
    "openpyxl",
    "matplotlib",
    "litestar",
    "nats",
    "aiomqtt",
    "httpx",
    "apprise",
)

#: The adapter packages installed beside the core (every package under adapters/).
ADAPTERS = frozenset(path.parent.name for path in (ROOT / "adapters").glob("*/__init__.py"))

#: Imports safecomm_core and every module under it, then prints the modules loaded.
IMPORT_ALL_OF_CORE = """
import importlib, json, pkgutil, sys
import safecomm_core
for found in pkgutil.walk_packages(safecomm_core.__path__, "safecomm_core."):
    importlib.import_module(found.name)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.parametrize(
    "package", [safecomm_core, safecomm_core.audit, safecomm_reports], ids=lambda p: p.__name__
)
def test_public_api_is_sorted_and_complete(package: ModuleType) -> None:
    names = package.__all__
    # isort-style, as ruff keeps it: CONSTANTS, then Classes, then functions
    assert names == sorted(names, key=lambda n: (not n.isupper(), not n[0].isupper(), n))
    for name in names:
        assert hasattr(package, name), name


@pytest.fixture(scope="module")
def loaded_by_core() -> set[str]:
    """Every module loaded, in a fresh interpreter, by importing all of safecomm_core."""
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_ALL_OF_CORE], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out))


def core_modules() -> dict[str, ast.Module]:
    """Each module of safecomm_core, by dotted name, parsed from its source."""
    core = ROOT / "safecomm_core"
    modules = {}
    for path in sorted(core.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return modules


def imported_packages(module: ast.Module) -> set[str]:
    """The top-level packages a module imports by absolute name, wherever in its body."""
    names: set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_core_imports_no_adapter_library(loaded_by_core: set[str]) -> None:
    assert set(ADAPTER_LIBRARIES) & {name.split(".")[0] for name in loaded_by_core} == set()


def test_core_source_imports_no_adapter() -> None:
    assert {"safecomm_cli", "safecomm_reports", "safecomm_demo"} <= ADAPTERS
    offenders = {
        name: found
        for name, module in core_modules().items()
        if (found := sorted(imported_packages(module) & ADAPTERS))
    }
    assert offenders == {}


def test_importing_all_of_core_loads_no_adapter(loaded_by_core: set[str]) -> None:
    assert set(core_modules()) <= loaded_by_core  # every module of the core was imported
    assert ADAPTERS & {name.split(".")[0] for name in loaded_by_core} == set()


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


#: Modules of projections/ and the demo that are about no one record kind: the machinery
#: of views, the receipts' evidence, and the demo's cast, places and plot.
NOT_ABOUT_ONE_RECORD_KIND = {
    "safecomm_core.projections": {
        "catalog", "database", "definition", "digest", "errors", "evidence", "positions",
        "provenance", "runner", "schema", "status", "writer",
    },
    "safecomm_demo": {"builder", "people", "places", "story"},
}  # fmt: skip


def record_kind_modules() -> set[str]:
    """The domain modules that define a record kind (an aggregate), by their short name.

    The service's own records (a command's receipt, an opening of personal data) are kept by
    the handling, not by commands of their own, and are left out.
    """
    import importlib
    import inspect
    import pkgutil

    import safecomm_core.domain
    from safecomm_core.domain.access import PersonalDataOpening
    from safecomm_core.domain.base import Record
    from safecomm_core.domain.receipt import CommandReceipt

    kinds = set()
    for found in pkgutil.iter_modules(safecomm_core.domain.__path__):
        module = importlib.import_module(f"safecomm_core.domain.{found.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            own = issubclass(cls, Record) and cls.__module__ == module.__name__
            if own and cls not in (Record, CommandReceipt, PersonalDataOpening):
                kinds.add(found.name)
    return kinds


def test_every_module_about_a_record_kind_is_named_after_it() -> None:
    import pkgutil

    import safecomm_demo

    import safecomm_core.commands
    import safecomm_core.projections

    kinds = record_kind_modules()
    assert {"dispute", "grid_alert", "grid_network", "prevention_asset", "rules"} <= kinds
    commands = {found.name for found in pkgutil.iter_modules(safecomm_core.commands.__path__)}
    assert kinds <= commands
    assert commands - kinds == {"base", "shape"}
    names = kinds | {f"{kind}s" for kind in kinds}
    for package in (safecomm_core.projections, safecomm_demo):
        modules = {found.name for found in pkgutil.iter_modules(package.__path__)}
        assert modules - names == NOT_ABOUT_ONE_RECORD_KIND[package.__name__], package.__name__


def test_the_common_path_is_one_import() -> None:
    """Every command, every record a caller asks for, and every enum or value a command's
    fields take are exported by ``safecomm_core`` itself."""
    import enum
    import typing

    import attrs

    from safecomm_core.commands import COMMANDS
    from safecomm_core.domain.base import KINDS

    needed: set[type] = set()

    def walk(hint: object) -> None:
        for arg in typing.get_args(hint):
            walk(arg)
        wanted = isinstance(hint, type) and (issubclass(hint, enum.Enum) or attrs.has(hint))
        if wanted and hint not in needed:
            needed.add(hint)
            if attrs.has(hint):
                for field_hint in typing.get_type_hints(hint).values():
                    walk(field_hint)

    for command in COMMANDS.values():
        needed.add(command)
        for hint in typing.get_type_hints(command).values():
            walk(hint)
    internal = {"command", "opening", "migrant_id"}  # the service's own bookkeeping
    needed |= {cls for kind, cls in KINDS.items() if kind not in internal}
    missing = sorted(
        f"{t.__module__}.{t.__name__}"
        for t in needed
        if getattr(safecomm_core, t.__name__, None) is not t
    )
    assert missing == []
    assert len(needed) > 120  # the walk found the commands and their values
