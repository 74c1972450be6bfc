"""Commands of the linkage network's alerts (``alert.*``), plan M2.3."""

from __future__ import annotations

from datetime import datetime

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.dates import local_date
from safecomm_core.domain.grid_alert import AlertCategory, AlertPriority, GridAlert
from safecomm_core.domain.grid_network import AlertChannel, GridNetwork
from safecomm_core.validation import (
    count_or_none,
    ident,
    label,
    label_or_none,
    moment,
    prose,
)

__all__ = [
    "AcknowledgeAlert",
    "CancelAlert",
    "CloseAlert",
    "EscalateUnacknowledged",
    "ExpireAlert",
    "RaiseAlert",
    "RecordAlertDelivery",
    "RecordAlertFailure",
    "RecordSuspectCaught",
    "ReportAlertAction",
    "ResolveAlert",
    "SendAlert",
    "UpdateAlert",
]

_SERVES = ("M2.3",)


@attrs.frozen(kw_only=True)
class _OnAlert(Command):
    alert_id: str = ident()


@attrs.frozen(kw_only=True)
class _OnAlertUnit(_OnAlert):
    unit_id: str = ident()


@command("alert.raise", serves=_SERVES)
@attrs.frozen(kw_only=True)
class RaiseAlert(_OnAlert):
    """A member unit reports an incident; the alert goes to every other member unit."""

    network_id: str = ident()
    raised_by: str = ident()
    category: AlertCategory
    priority: AlertPriority = AlertPriority.NORMAL
    area: str = label()
    message: str = prose()
    expires_at: datetime = moment()

    def run(self, ctx: Context) -> None:
        network = ctx.load(GridNetwork, self.network_id)
        ctx.check_new(GridAlert, self.alert_id)
        ctx.add(
            GridAlert.raise_alert(
                meta=ctx.meta,
                ref=self.alert_id,
                network=network,
                raised_by=self.raised_by,
                category=self.category,
                priority=self.priority,
                area=self.area,
                message=self.message,
                expires_at=self.expires_at,
            )
        )


@command("alert.send", serves=_SERVES)
@attrs.frozen(kw_only=True)
class SendAlert(_OnAlertUnit):
    """The alert went out to a unit on one of its channels (first try, retry or fallback)."""

    #: Named so, because ``channel`` says how the command itself reached the office.
    contact_channel: AlertChannel
    #: The attempt's number on the channel (a dispatcher numbers them from 1).
    attempt: int | None = count_or_none()

    def run(self, ctx: Context) -> None:
        alert = ctx.load(GridAlert, self.alert_id)
        network = ctx.load(GridNetwork, alert.network)
        alert.send(ctx.meta, self.unit_id, self.contact_channel, network, self.attempt)


@command("alert.record_delivery", serves=_SERVES)
@attrs.frozen(kw_only=True)
class RecordAlertDelivery(_OnAlertUnit):
    """The latest attempt reached the unit."""

    #: The channel's id of the message (an SMS provider's message id), where it gave one.
    message_id: str | None = label_or_none()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).record_delivery(ctx.meta, self.unit_id, self.message_id)


@command("alert.record_failure", serves=_SERVES)
@attrs.frozen(kw_only=True)
class RecordAlertFailure(_OnAlertUnit):
    """The latest attempt did not reach the unit."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).record_failure(ctx.meta, self.unit_id, self.reason)


@command("alert.acknowledge", serves=_SERVES)
@attrs.frozen(kw_only=True)
class AcknowledgeAlert(_OnAlertUnit):
    """The unit replied that it has the alert."""

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).acknowledge(ctx.meta, self.unit_id)


@command("alert.report_action", serves=_SERVES)
@attrs.frozen(kw_only=True)
class ReportAlertAction(_OnAlertUnit):
    """What an acknowledging unit did about the alert."""

    text: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).report_action(ctx.meta, self.unit_id, self.text)


@command("alert.escalate", serves=_SERVES)
@attrs.frozen(kw_only=True)
class EscalateUnacknowledged(_OnAlertUnit):
    """A unit did not acknowledge within the rule ``alert_ack_minutes``: a coordinator acts."""

    def run(self, ctx: Context) -> None:
        alert = ctx.load(GridAlert, self.alert_id)
        # The rules of the alert's community on the day it was raised: the time the units
        # were given cannot change under them.
        rules = ctx.rules(alert.community, local_date(alert.raised_at))
        alert.escalate(ctx.meta, self.unit_id, rules.alert_ack_minutes)


@command("alert.update", serves=_SERVES)
@attrs.frozen(kw_only=True)
class UpdateAlert(_OnAlert):
    """News of the incident while the alert is open."""

    text: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).update(ctx.meta, self.text)


@command("alert.record_suspect_caught", serves=_SERVES)
@attrs.frozen(kw_only=True)
class RecordSuspectCaught(_OnAlert):
    """The suspect was caught: the alert is concluded."""

    details: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).catch_suspect(ctx.meta, self.details)


@command("alert.resolve", serves=_SERVES)
@attrs.frozen(kw_only=True)
class ResolveAlert(_OnAlert):
    """The incident is over: the alert is concluded."""

    summary: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).resolve(ctx.meta, self.summary)


@command("alert.cancel", serves=_SERVES)
@attrs.frozen(kw_only=True)
class CancelAlert(_OnAlert):
    """The alert was a mistake or a false report: it is concluded."""

    reason: str = prose()

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).cancel(ctx.meta, self.reason)


@command("alert.expire", serves=_SERVES)
@attrs.frozen(kw_only=True)
class ExpireAlert(_OnAlert):
    """The alert lapsed at its ``expires_at``: it is concluded."""

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).expire(ctx.meta)


@command("alert.close", serves=_SERVES)
@attrs.frozen(kw_only=True)
class CloseAlert(_OnAlert):
    """Shut a concluded alert's record: nothing more is accepted."""

    def run(self, ctx: Context) -> None:
        ctx.load(GridAlert, self.alert_id).close(ctx.meta)
