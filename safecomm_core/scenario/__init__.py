"""A deterministic scenario of the Hemenkou programme, Oct 2013 – Dec 2014.

It issues commands through the public API only (:meth:`Safecomm.handle`), shaped by the
facts of the plan; ``seed`` fixes every choice and ``scale`` multiplies volumes.
"""

from safecomm_core.scenario.builder import BuildResult, build, scenario_commands

__all__ = ["BuildResult", "build", "scenario_commands"]
