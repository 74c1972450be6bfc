"""The demo's data: a deterministic scenario of the Hemenkou programme, Oct 2013 – Dec 2014.

An adapter beside the library, not part of it: ``safecomm demo`` records it, and tests and
benchmarks use it as realistic data; :mod:`safecomm_core` never imports it. It issues
commands through the public API only (:meth:`Safecomm.handle`), shaped by the facts of the
plan; ``seed`` fixes every choice and ``scale`` multiplies volumes.
"""

from safecomm_demo.builder import BuildResult, build, scenario_commands

__all__ = ["BuildResult", "build", "scenario_commands"]
