"""Checking that a refused command writes nothing: for unit tests and state machines alike."""

from __future__ import annotations

from typing import Any

import pytest

from safecomm_core import Safecomm, SafecommError


def stored(store: Safecomm) -> list[Any]:
    """Every stored notification: events and receipts alike."""
    return list(store.log.read(0, 10**6))


def refused(store: Safecomm, command: Any, error: type[SafecommError]) -> SafecommError:
    """Handle ``command``, expect ``error``, and check that nothing was written."""
    before = stored(store)
    with pytest.raises(error) as info:
        store.handle(command)
    assert stored(store) == before
    return info.value


def refused_exactly(store: Safecomm, command: Any, error: type[SafecommError]) -> SafecommError:
    """As :func:`refused`, where the error must be ``error`` itself, not a subclass of it."""
    found = refused(store, command, error)
    assert type(found) is error, repr(found)
    return found
