"""The pages in tests: a small programme to look at, the app over it, and a real browser.

The browser is Debian's chromium driven by the ``playwright`` package (never
``playwright install``); each flow keeps a screenshot under ``tests/artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from litestar import Litestar
from safecomm_http import Backend, RateLimits, TokenVerifier, create_app

from safecomm_core import Safecomm
from safecomm_core.access import ALL_COMMUNITIES, Principal
from safecomm_core.commands import dispute as cd
from safecomm_core.commands import grid_alert as ca
from safecomm_core.commands import grid_network as cn
from safecomm_core.commands import migrant as cm
from safecomm_core.dates import SUBDISTRICT_TZ
from safecomm_core.domain.dispute import AgreementForm, DisputeKind, PartyRole
from safecomm_core.domain.grid_alert import AlertCategory, AlertChannel, AlertPriority
from safecomm_core.domain.grid_network import UnitKind
from safecomm_core.domain.migrant import RegistrationSource
from safecomm_core.personal import PersonInput
from safecomm_core.values import Role
from tests.commanding import issue
from tests.serving import KEY, MEDIATOR_C1, MEDIATOR_C2, OFFICE

__all__ = [
    "ALERT",
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "DISPUTE_C2",
    "EVALUATOR",
    "MEDIATOR_C1",
    "MEDIATOR_C2",
    "NAME_C2",
    "OFFICE",
    "PERIOD",
    "TODAY",
    "UNITS",
    "UNIT_OFFICER",
    "WORKER",
    "WORKER_NAME",
    "page_app",
    "programme",
]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Screenshots of the browser flows (ignored by git).
ARTIFACTS = Path(__file__).parent / "artifacts"

#: The 47 units of the linkage network, spread over seven communities.
UNITS = tuple(f"U{n:02d}" for n in range(1, 48))
ALERT = "a-web-1"
DISPUTE_C2 = "d-c2-1"
NAME_C2 = "李秀兰"
WORKER = "w-c1-1"
WORKER_NAME = "陈立"
PERIOD = "2014-05"
TODAY = date(2014, 5, 31)
UNIT_OFFICER = Principal("U05", Role.UNIT, ["C5"], grid_unit="U05")
EVALUATOR = Principal("eval-1", Role.EVALUATOR, ALL_COMMUNITIES)
_NET = "net-1"
_T0 = datetime(2014, 5, 2, 9, 0, tzinfo=SUBDISTRICT_TZ)


def _community(unit: str) -> str:
    return f"C{(int(unit[1:]) - 1) % 7 + 1}"


def programme(service: Safecomm) -> None:
    """A month of work: the network of 47 units, one alert sent to every other unit (some
    delivered, one failed, two acknowledged), and disputes in C1 and C2."""
    service.handle(issue(cn.OpenNetwork, _T0, network_id=_NET, name="河门口联防联动网络"))
    for unit in UNITS:
        service.handle(
            issue(cn.JoinNetwork, _T0, network_id=_NET, unit_id=unit, name=f"{unit} 小区",
                  kind=UnitKind.RESIDENTIAL_COMPOUND, community=_community(unit))
        )  # fmt: skip
        service.handle(
            issue(cn.SetContactChannel, _T0, network_id=_NET, unit_id=unit,
                  contact_channel=AlertChannel.SMS, contact=f"139{int(unit[1:]):08d}")
        )  # fmt: skip
    raised = _T0 + timedelta(days=20)
    service.handle(
        issue(ca.RaiseAlert, raised, alert_id=ALERT, network_id=_NET, raised_by="U02",
              category=AlertCategory.THEFT, priority=AlertPriority.URGENT, area="北门",
              message="电动车被盗，嫌疑人步行往桥头方向", expires_at=raised + timedelta(hours=6))
    )  # fmt: skip
    later = raised + timedelta(minutes=2)
    for i, unit in enumerate(u for u in UNITS if u != "U02"):
        service.handle(issue(ca.SendAlert, later, alert_id=ALERT, unit_id=unit,
                             contact_channel=AlertChannel.SMS))  # fmt: skip
        if i % 3 == 0:
            service.handle(issue(ca.RecordAlertDelivery, later, alert_id=ALERT, unit_id=unit))
    service.handle(issue(ca.RecordAlertFailure, later, alert_id=ALERT, unit_id="U07",
                         reason="number unreachable"))  # fmt: skip
    for unit in ("U01", "U10"):
        service.handle(issue(ca.AcknowledgeAlert, later, alert_id=ALERT, unit_id=unit))
    service.handle(
        issue(cm.RegisterMigrantWorker, _T0, worker_id=WORKER, community="C1",
              person=PersonInput(ref=f"p-{WORKER}", name=WORKER_NAME), arrived_on=date(2014, 4, 30),
              dwelling="河门口 3 栋", source=RegistrationSource.LANDLORD)
    )  # fmt: skip
    for n, community in enumerate(["C1", "C1", "C1", "C2"]):
        ref = DISPUTE_C2 if community == "C2" else f"d-c1-{n}"
        at = _T0 + timedelta(days=n)
        name = NAME_C2 if community == "C2" else f"王{n}"
        service.handle(
            issue(cd.ReportDispute, at, dispute_id=ref, community=community,
                  kind=DisputeKind.NEIGHBOUR, summary="楼上噪音",
                  parties=(cd.PartyInput(ref=f"p-{ref}", name=name, role=PartyRole.APPLICANT),))
        )  # fmt: skip
        service.handle(issue(cd.AcceptDispute, at + timedelta(hours=1), dispute_id=ref))
        if n == 0:
            service.handle(
                issue(cd.AssignMediator, at + timedelta(hours=2), dispute_id=ref,
                      mediator=MEDIATOR_C1.subject)
            )  # fmt: skip
            service.handle(issue(cd.HoldSession, at + timedelta(hours=3), dispute_id=ref))
            service.handle(
                issue(cd.ReachAgreement, at + timedelta(hours=4), dispute_id=ref,
                      form=AgreementForm.WRITTEN, terms="夜间十点后保持安静")
            )  # fmt: skip


def page_app(service: Safecomm, **kwargs: Any) -> Litestar:
    """The service with its pages over ``service``, today being :data:`TODAY`; sign-in
    links sign in, as on a demo server, unless ``sign_in_links=False``."""
    kwargs.setdefault("sign_in_links", True)
    return create_app(
        Backend(service),
        TokenVerifier(secret=KEY),
        limits=RateLimits(rate=10_000, burst=10_000),
        close_store=False,
        today=TODAY,
        **kwargs,
    )


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless chromium, driven by playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
