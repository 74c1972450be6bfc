"""safecomm's HTTP service: ``safecomm serve``.

The same service as in process (:class:`~safecomm_core.Safecomm`), for a caller
authenticated by a bearer token and held to the access policy
(:data:`~safecomm_core.access.POLICY`, shown in docs/access.md): commands as the
principal, records and reports of its communities, the audit, and the stored events'
public envelopes. Errors are RFC 9457 problem details. Install with the ``http`` extra.
"""

from safecomm_tokens import TokenVerifier

from safecomm_http.app import create_app
from safecomm_http.backend import Backend
from safecomm_http.context import RateLimits

__all__ = ["Backend", "RateLimits", "TokenVerifier", "create_app"]
