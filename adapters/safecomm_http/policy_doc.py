"""The access policy as Markdown tables, for docs/access.md (a test keeps them equal).

Regenerate with ``python -m safecomm_http.policy_doc``.
"""

from __future__ import annotations

from safecomm_core.access import POLICY, Read

__all__ = ["policy_table"]


def policy_table() -> str:
    """The command grants and the reads of :data:`~safecomm_core.access.POLICY`."""
    lines = [
        "| Commands | Scope | Roles |",
        "|---|---|---|",
        *(f"| `{name}` | {scope} | {', '.join(roles)} |" for name, scope, roles in POLICY.table()),
        "",
        "| Read | Roles |",
        "|---|---|",
        *(
            f"| {read} | {', '.join(sorted(str(r) for r in POLICY.reads.get(read, ())))} |"
            for read in Read
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(policy_table(), end="")
