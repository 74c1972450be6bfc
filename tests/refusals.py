"""Checking that a refused command writes nothing: for unit tests and state machines alike."""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import Safecomm, SafecommError


def stored(service: Safecomm) -> list[Any]:
    """Every stored notification: events and receipts alike."""
    return list(service.log.read(0, 10**6))


def refused(service: Safecomm, command: Any, error: type[SafecommError]) -> SafecommError:
    """Handle ``command``, expect ``error``, and check that nothing was written."""
    before = stored(service)
    with pytest.raises(error) as info:
        service.handle(command)
    assert stored(service) == before
    return info.value


def refused_exactly(service: Safecomm, command: Any, error: type[SafecommError]) -> SafecommError:
    """As :func:`refused`, where the error must be ``error`` itself, not a subclass of it."""
    found = refused(service, command, error)
    assert type(found) is error, repr(found)
    return found
