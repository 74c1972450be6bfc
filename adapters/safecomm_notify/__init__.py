"""Alert delivery to the linkage network's units (the ``notify`` extra).

- :class:`~safecomm_notify.dispatcher.Dispatcher` (``safecomm alerts dispatch``): follows
  the log, reaches every recipient unit through its channels in fallback order with retries,
  records each attempt before and its result after, escalates at the acknowledgement time;
- channels behind one interface (:class:`~safecomm_notify.channel.Channel`), found through
  the ``safecomm.channels`` entry points: MQTT, webhooks, SMS through a provider, apprise;
- acknowledgements back through the channels, checked against the unit's credential.

See docs/alerts.md.
"""

from safecomm_notify.channel import Channel, DeliveryFailed, InboundAck, Outgoing
from safecomm_notify.credentials import ack_signature, body_signature, unit_key
from safecomm_notify.dispatcher import DISPATCHER, Dispatcher, Retry

__all__ = [
    "DISPATCHER",
    "Channel",
    "DeliveryFailed",
    "Dispatcher",
    "InboundAck",
    "Outgoing",
    "Retry",
    "ack_signature",
    "body_signature",
    "unit_key",
]
