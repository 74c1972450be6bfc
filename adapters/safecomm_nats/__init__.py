"""safecomm's events on NATS JetStream, and commands over NATS (the ``nats`` extra).

- :class:`~safecomm_nats.publisher.Publisher` (``safecomm stream publish``): each stored
  event once, in order, as a CloudEvents envelope;
- :func:`subscribe`: a durable consumer yielding typed :class:`Envelope` objects;
- :func:`~safecomm_nats.intake.serve_commands` (``safecomm stream serve-commands``):
  commands by request/reply, with a service token.

See docs/stream.md.
"""

from safecomm_nats.consumer import Subscription, subscribe
from safecomm_nats.envelope import SCHEMA_VERSION, Envelope, EnvelopeError

__all__ = ["SCHEMA_VERSION", "Envelope", "EnvelopeError", "Subscription", "subscribe"]
