"""Alert reach (``alert_reach_rate``): the one definition docs/domain.md gives, on a history
worked out by hand.

Recipients are the units that were members of the network when the alert was raised,
except the raising unit; a recipient is reached by a delivery on any channel or by its
acknowledgement (a reply proves receipt where a channel gives no receipt). A unit that
joined after the raise, left before it, or raised the alert is in neither count.
"""

from __future__ import annotations

from safecomm_core import Safecomm
from safecomm_core.reports import monthly_report
from safecomm_core.reports.provenance import explain
from tests.test_monthly import Desk, at, figures, nums


def reach_history(desk: Desk) -> None:
    """March 2014, network of C1, alert a-1 raised by u1 on the 12th at 10:00:

    ====  ==============================  =========  =======
    unit  history                         recipient  reached
    ====  ==============================  =========  =======
    u1    raised the alert                no         —
    u2    sent, delivered                 yes        yes
    u3    sent, failed, never answered    yes        no
    u4    sent, no receipt, acknowledged  yes        yes (its reply)
    u5    left the network on the 10th    no         —
    u6    joined on the 13th              no         —
    ====  ==============================  =========  =======

    Reach: 2 of 3.
    """
    desk("network.open", at("2014-03-01"), network_id="net", name="联防网络", community="*")
    for unit in ("u1", "u2", "u3", "u4", "u5"):
        desk(
            "network.join",
            at("2014-03-01"),
            network_id="net",
            unit_id=unit,
            name=f"{unit} 小区",
            kind="residential_compound",
            community="C1",
        )
        desk(
            "network.set_contact",
            at("2014-03-01"),
            network_id="net",
            unit_id=unit,
            contact_channel="sms",
            contact="13800001234",
        )
    desk("network.leave", at("2014-03-10"), network_id="net", unit_id="u5", reason="closed")
    desk(
        "alert.raise",
        at("2014-03-12", 10),
        alert_id="a-1",
        network_id="net",
        raised_by="u1",
        category="theft",
        area="north gate",
        message="bike stolen",
        expires_at=at("2014-03-12", 18),
    )
    desk(
        "network.join",
        at("2014-03-13"),
        network_id="net",
        unit_id="u6",
        name="u6 小区",
        kind="residential_compound",
        community="C1",
    )
    for unit in ("u2", "u3", "u4"):
        desk(
            "alert.send",
            at("2014-03-12", 10, 1),
            alert_id="a-1",
            unit_id=unit,
            contact_channel="sms",
        )
    desk("alert.record_delivery", at("2014-03-12", 10, 3), alert_id="a-1", unit_id="u2")
    desk(
        "alert.record_failure", at("2014-03-12", 10, 4), alert_id="a-1", unit_id="u3", reason="off"
    )
    desk("alert.acknowledge", at("2014-03-12", 10, 9), alert_id="a-1", unit_id="u4")


def test_alert_reach_counts_recipients_reached_by_delivery_or_reply(
    memory_service: Safecomm,
) -> None:
    reach_history(Desk(memory_service))
    got = figures(monthly_report(memory_service, "2014-03"))
    assert nums(got["alert_reach_rate", "C1"]) == (2, 3, 2 / 3)
    assert nums(got["alert_reach_rate", "*"]) == (2, 3, 2 / 3)


def test_alert_reach_names_the_raise_and_each_receipt(memory_service: Safecomm) -> None:
    reach_history(Desk(memory_service))
    found = explain(memory_service, "alert_reach_rate", "2014-03", "C1")
    assert [e.event for e in found.denominator] == ["Raised"]
    assert [e.event for e in found.numerator] == ["Raised", "Delivered", "Acknowledged"]
