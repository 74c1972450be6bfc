"""Commands of the linkage network (``network.*``), plan M2.3."""

from __future__ import annotations

import attrs

from safecomm_core.commands.base import Command, Context, command
from safecomm_core.domain.grid_network import (
    PHONE_CHANNELS,
    AlertChannel,
    ContactChannel,
    GridNetwork,
    Hours,
    UnitKind,
    contact_ref,
)
from safecomm_core.domain.rules import SUBDISTRICT
from safecomm_core.errors import FieldError, InvalidCommand
from safecomm_core.personal import PersonInput
from safecomm_core.validation import BrokenRule, ident, label, notes

__all__ = [
    "JoinNetwork",
    "LeaveNetwork",
    "OpenNetwork",
    "SetContactChannel",
]

_SERVES = ("M2.3",)


@attrs.frozen(kw_only=True)
class _OnNetwork(Command):
    network_id: str = ident()


@attrs.frozen(kw_only=True)
class _OnNetworkUnit(_OnNetwork):
    unit_id: str = ident()


@command("network.open", serves=_SERVES)
@attrs.frozen(kw_only=True)
class OpenNetwork(_OnNetwork):
    """Open a linkage network; its community is ``*`` when it spans the subdistrict."""

    name: str = label()
    community: str = ident(default=SUBDISTRICT)

    def run(self, ctx: Context) -> None:
        ctx.check_new(GridNetwork, self.network_id)
        ctx.add(
            GridNetwork(
                meta=ctx.meta, ref=self.network_id, community=self.community, name=self.name
            )
        )


@command("network.join", serves=_SERVES)
@attrs.frozen(kw_only=True)
class JoinNetwork(_OnNetworkUnit):
    """A unit or compound joins the network (or rejoins it, keeping its contacts)."""

    name: str = label()
    kind: UnitKind
    community: str = ident()

    def run(self, ctx: Context) -> None:
        network = ctx.load(GridNetwork, self.network_id)
        network.join(ctx.meta, self.unit_id, self.name, self.kind, self.community)


@command("network.leave", serves=_SERVES)
@attrs.frozen(kw_only=True)
class LeaveNetwork(_OnNetworkUnit):
    """A unit leaves the network: alerts raised from then on do not reach it."""

    reason: str = notes()

    def run(self, ctx: Context) -> None:
        ctx.load(GridNetwork, self.network_id).leave(
            ctx.meta, self.unit_id, ctx.seal_text(GridNetwork, self.network_id, self.reason)
        )


@command("network.set_contact", serves=_SERVES)
@attrs.frozen(kw_only=True)
class SetContactChannel(_OnNetworkUnit):
    """How a unit is reached on one channel; the contact value is sealed, never kept in clear.

    For ``sms`` and ``phone`` the contact must be a phone number; for ``qq`` and ``wechat``
    it is the account or group number. ``hours`` is when the channel is preferred.
    """

    #: Named so, because ``channel`` says how the command itself reached the office.
    contact_channel: AlertChannel
    contact: str = label()
    hours: Hours | None = None

    def run(self, ctx: Context) -> None:
        network = ctx.load(GridNetwork, self.network_id)
        ref = contact_ref(self.unit_id)
        try:
            if self.contact_channel in PHONE_CHANNELS:
                person = PersonInput(ref=ref, phone=self.contact)
            else:
                person = PersonInput(ref=ref, address=self.contact)
        except BrokenRule as exc:
            raise InvalidCommand([FieldError("contact", exc.rule)]) from None
        contact = ContactChannel(self.contact_channel, ctx.seal(person), self.hours)
        network.set_contact(ctx.meta, self.unit_id, contact)
