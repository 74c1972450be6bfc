"""Scaffolding of the stateful tests: the real application on ``memory://``, a clock, settings.

A machine subclasses :class:`StoreMachine`, sets ``START`` (and ``STEP`` if it wants another
pace), keeps its plain model beside ``self.store`` and takes each fact's time from
:meth:`StoreMachine.tick`, so that facts follow each other unless a rule backdates one on
purpose.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine

from safecomm_core import open_store

#: Quick enough to run on every change; the contract tests cover the other stores.
MACHINE_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class StoreMachine(RuleBasedStateMachine):
    """A state machine driving a fresh in-memory application."""

    START: ClassVar[datetime]
    STEP: ClassVar[timedelta] = timedelta(hours=5)

    def __init__(self) -> None:
        super().__init__()
        self.store = open_store("memory://")
        self.clock = self.START

    def tick(self) -> datetime:
        """A moment after every moment given before."""
        self.clock += self.STEP
        return self.clock

    def teardown(self) -> None:
        self.store.close()
