"""Every docstring example (``>>>``) in the library and its adapters runs, and gives what it
shows: an example that breaks fails here, with the module and line it is on."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

ROOT = Path(__file__).parents[1]
#: The library and every package beside the bundled adapters (``adapters/<package>``).
PACKAGES = ["safecomm_core", *sorted(p.parent.name for p in ROOT.glob("adapters/*/__init__.py"))]


def modules() -> list[str]:
    """Every module of :data:`PACKAGES`, packages included."""
    found = []
    for name in PACKAGES:
        package = importlib.import_module(name)
        found.append(name)
        found += [m.name for m in pkgutil.walk_packages(package.__path__, prefix=f"{name}.")]
    return found


def examples(module: str) -> list[doctest.DocTest]:
    """The module's docstring examples (its own, not those of names it imports)."""
    return [t for t in doctest.DocTestFinder().find(importlib.import_module(module)) if t.examples]


def test_docstring_examples_run() -> None:
    failed: dict[str, str] = {}
    for module in modules():
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        report: list[str] = []
        for test in examples(module):
            runner.run(test, out=report.append)
        if runner.failures:
            failed[module] = "".join(report)
    assert not failed, "\n".join(failed.values())


def test_examples_are_found() -> None:
    """The check above sees the examples it should: the library's own front page has some."""
    assert examples("safecomm_core")
    assert {"safecomm_core.audit.verify", "safecomm_cli.main", "safecomm_reports"} <= set(modules())
