"""The ``safecomm`` command: a thin click adapter over :mod:`safecomm_core`."""
