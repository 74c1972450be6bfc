"""safecomm's benchmarks: every workload beside its baseline, in one process, as a ratio.

    python -m benchmarks [--quick] [--json FILE] [--pg URL]

Each workload module has one function that takes a :class:`~benchmarks.harness.Context`
(where to write, how large) and returns :class:`~benchmarks.harness.Result` rows; the
entry point (:mod:`benchmarks.__main__`) runs them at each size, prints the table and
writes the JSON. README.md beside this file says what each figure means.
"""
