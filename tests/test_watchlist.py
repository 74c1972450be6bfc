"""The watchlist: each list against hand-built histories, as of given days, with rules changed
by ``rules.adopt`` and facts entered late."""

from __future__ import annotations

from datetime import date

import pytest

from safecomm_core import Safecomm
from safecomm_core.commands import dispute as dc
from safecomm_core.commands import migrant as wc
from safecomm_core.reports.masking import mask_numbers, mask_person_ref
from tests.assessing import History, at, rows, watchlist_of

# -- first mediation ------------------------------------------------------------------------


def test_a_dispute_with_no_session_is_listed_once_the_first_mediation_setting_has_passed(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1, 9))  # default rule: 72 hours → due 2014-03-04 09:00

    assert rows(watchlist_of(memory_service, date(2014, 3, 3)), "first_mediation_overdue") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 4)), "first_mediation_overdue")
    assert row["case"] == "d-1"
    assert row["deadline"] == "2014-03-04 09:00"
    assert row["overdue_hours"] == 15.0  # to the end of 4 March
    assert row["rule"] == "first_mediation_hours = 72"
    assert row["rule_version"] == "default"


def test_the_first_mediation_list_uses_the_rules_of_the_community_on_the_report_day(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.adopt(at(2014, 1, 10), date(2014, 2, 1), "C1", first_mediation_hours=24)
    h.adopt(at(2014, 1, 10), date(2014, 3, 5), "C1", first_mediation_hours=12)
    h.dispute("d-c1", at(2014, 3, 1, 9), "C1")  # 24 h: the 12 h set starts later
    h.dispute("d-c2", at(2014, 3, 1, 9), "C2")  # C2 has no set of its own: 72 h

    listed = {
        r["case"]: r
        for r in rows(watchlist_of(memory_service, date(2014, 3, 2)), "first_mediation_overdue")
    }
    assert set(listed) == {"d-c1"}
    assert listed["d-c1"]["rule"] == "first_mediation_hours = 24"
    assert listed["d-c1"]["rule_version"] == "C1 from 2014-02-01"
    assert listed["d-c1"]["overdue_hours"] == 15.0


def test_a_rule_adopted_after_the_day_is_not_used_even_with_an_earlier_effective_date(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1, 9))
    h.adopt(at(2014, 3, 20), date(2014, 1, 1), "C1", first_mediation_hours=24)

    assert rows(watchlist_of(memory_service, date(2014, 3, 2)), "first_mediation_overdue") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 21)), "first_mediation_overdue")
    assert row["rule_version"] == "C1 from 2014-01-01"


def test_a_session_entered_late_takes_the_dispute_off_the_list_from_when_it_happened(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1, 9))
    h.accept("d-1", at(2014, 3, 1, 10))
    assert (
        len(rows(watchlist_of(memory_service, date(2014, 3, 10)), "first_mediation_overdue")) == 1
    )

    h.session("d-1", at(2014, 3, 6, 14))  # paper minutes, typed in now
    assert rows(watchlist_of(memory_service, date(2014, 3, 10)), "first_mediation_overdue") == []
    # as of a day before the session, the dispute was overdue
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 5)), "first_mediation_overdue")
    assert row["overdue_hours"] == 39.0


def test_closed_disputes_are_not_listed(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.agreed_dispute("d-1", at(2014, 3, 1, 15))
    h.dispute("d-2", at(2014, 3, 1, 9))
    h.do(dc.RefuseDispute, at(2014, 3, 1, 10), dispute_id="d-2", reason="a party refused")
    report = watchlist_of(memory_service, date(2014, 4, 30))
    assert rows(report, "first_mediation_overdue") == []
    assert rows(report, "settlement_overdue") == []


# -- settlement ------------------------------------------------------------------------------


def test_accepted_disputes_are_listed_past_the_settlement_setting_until_they_close(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-1", at(2014, 3, 1, 9))
    h.accept("d-1", at(2014, 3, 1, 10))  # default 30 days → settle by 2014-03-31
    h.session("d-1", at(2014, 3, 2))

    assert rows(watchlist_of(memory_service, date(2014, 3, 31)), "settlement_overdue") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 4, 2)), "settlement_overdue")
    assert (row["case"], row["accepted_on"], row["due"], row["overdue_days"]) == (
        "d-1",
        "2014-03-01",
        "2014-03-31",
        2,
    )
    assert row["rule"] == "settle_within_days = 30"

    h.agree("d-1", at(2014, 4, 5))
    assert rows(watchlist_of(memory_service, date(2014, 4, 10)), "settlement_overdue") == []
    assert len(rows(watchlist_of(memory_service, date(2014, 4, 4)), "settlement_overdue")) == 1


def test_the_settlement_setting_is_the_one_in_force_on_the_day_of_acceptance(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.adopt(at(2014, 2, 1), date(2014, 2, 15), "*", settle_within_days=10)
    h.dispute("d-old", at(2014, 2, 10))
    h.accept("d-old", at(2014, 2, 10, 10))  # before the change: 30 days → 2014-03-12
    h.dispute("d-new", at(2014, 2, 20))
    h.accept("d-new", at(2014, 2, 20, 10))  # after: 10 days → 2014-03-02

    listed = {
        r["case"]: r
        for r in rows(watchlist_of(memory_service, date(2014, 3, 5)), "settlement_overdue")
    }
    assert set(listed) == {"d-new"}
    assert listed["d-new"]["overdue_days"] == 3
    assert listed["d-new"]["rule_version"] == "* from 2014-02-15"


# -- judicial confirmation ----------------------------------------------------------------------


def test_judicial_confirmation_windows_closing_within_n_days_are_listed(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.agreed_dispute("d-1", at(2014, 3, 1, 15))  # window: 30 days → ends 2014-03-31

    def listed(day: date, **options: int) -> list[dict[str, object]]:
        return rows(watchlist_of(memory_service, day, **options), "judicial_window_closing")

    assert listed(date(2014, 3, 20)) == []  # 11 days left
    [row] = listed(date(2014, 3, 25))
    assert (row["window_ends"], row["days_left"], row["agreed_on"]) == (
        "2014-03-31",
        6,
        "2014-03-01",
    )
    assert listed(date(2014, 3, 20), closing_within_days=11)[0]["days_left"] == 11
    assert listed(date(2014, 3, 31))[0]["days_left"] == 0
    assert listed(date(2014, 4, 1)) == []  # the window has closed

    h.apply_confirmation("d-1", at(2014, 3, 26))
    assert listed(date(2014, 3, 27)) == []
    assert len(listed(date(2014, 3, 25))) == 1  # not applied yet on the 25th


def test_the_judicial_window_follows_the_rule_in_force_on_the_day(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.adopt(at(2014, 1, 1), date(2014, 3, 10), "C1", judicial_confirmation_days=20)
    h.agreed_dispute("d-1", at(2014, 3, 1, 15))
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 18)), "judicial_window_closing")
    assert (row["window_ends"], row["days_left"]) == ("2014-03-21", 3)
    assert row["rule"] == "judicial_confirmation_days = 20"


# -- alerts -------------------------------------------------------------------------------------


def test_alerts_list_the_units_that_have_not_acknowledged_until_the_alert_concludes(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.network(("u1", "u2", "u3", "u4"), at(2014, 1, 1))
    h.alert("a-1", "u1", at(2014, 3, 1, 20), sent_to=("u2", "u3", "u4"))
    h.acknowledge("a-1", "u2", at(2014, 3, 1, 20, 10))

    [row] = rows(watchlist_of(memory_service, date(2014, 3, 1)), "alerts_unacknowledged")
    assert row["alert"] == "a-1"
    assert (row["units_notified"], row["units_silent"], row["units"]) == (3, 2, "u3, u4")
    assert row["ack_due"] == "2014-03-01 20:30"
    assert row["overdue_minutes"] == 3 * 60 + 30  # to midnight
    assert row["rule"] == "alert_ack_minutes = 30"

    h.acknowledge("a-1", "u3", at(2014, 3, 2, 8))
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 2)), "alerts_unacknowledged")
    assert row["units"] == "u4"
    h.resolve("a-1", at(2014, 3, 3, 8))
    assert rows(watchlist_of(memory_service, date(2014, 3, 3)), "alerts_unacknowledged") == []
    assert len(rows(watchlist_of(memory_service, date(2014, 3, 2)), "alerts_unacknowledged")) == 1


def test_an_alert_raised_after_the_day_is_not_listed_and_the_ack_rule_is_versioned(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.adopt(at(2014, 1, 1), date(2014, 1, 1), "C1", alert_ack_minutes=90)
    h.network(("u1", "u2"), at(2014, 1, 1))
    h.alert("a-1", "u1", at(2014, 3, 1, 20), sent_to=("u2",))
    assert rows(watchlist_of(memory_service, date(2014, 2, 28)), "alerts_unacknowledged") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 3, 1)), "alerts_unacknowledged")
    assert (row["ack_due"], row["overdue_minutes"]) == ("2014-03-01 21:30", 150)
    assert row["rule_version"] == "C1 from 2014-01-01"


# -- residence permits -------------------------------------------------------------------------


def test_permits_are_listed_from_the_month_before_each_full_year_and_when_overdue(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.register("w-2013-0001", date(2013, 1, 1))
    h.permit("w-2013-0001", at(2013, 7, 2), at(2013, 7, 10))  # endorse by 2014-07-10

    def listed(day: date) -> list[dict[str, object]]:
        return rows(watchlist_of(memory_service, day), "permits_to_endorse")

    assert listed(date(2014, 6, 9)) == []
    [row] = listed(date(2014, 6, 10))
    assert (row["status"], row["window_opens"], row["due"], row["days_left"]) == (
        "due",
        "2014-06-10",
        "2014-07-10",
        30,
    )
    assert row["worker"] == "*-****-0001"
    assert row["rule"] == "permit_endorsement_window_months = 1"
    [row] = listed(date(2014, 7, 15))
    assert (row["status"], row["overdue_days"]) == ("overdue", 5)

    h.do(wc.SuspendResidencePermit, at(2014, 7, 20), worker_id="w-2013-0001")
    assert listed(date(2014, 7, 21))[0]["status"] == "suspended"
    h.do(wc.EndorseResidencePermit, at(2014, 7, 25), worker_id="w-2013-0001")  # late
    assert listed(date(2014, 7, 26)) == []  # next due 2015-07-25
    assert listed(date(2015, 6, 25))[0]["due"] == "2015-07-25"


def test_an_endorsement_on_time_moves_the_due_day_a_year_and_a_wider_window_opens_earlier(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.register("w-1", date(2013, 1, 1))
    h.permit("w-1", at(2013, 7, 2), at(2013, 7, 10))
    h.do(wc.EndorseResidencePermit, at(2014, 7, 1), worker_id="w-1")  # on time
    assert rows(watchlist_of(memory_service, date(2014, 7, 2)), "permits_to_endorse") == []
    h.adopt(at(2015, 1, 1), date(2015, 1, 1), "C1", permit_endorsement_window_months=2)
    [row] = rows(watchlist_of(memory_service, date(2015, 5, 10)), "permits_to_endorse")
    assert (row["due"], row["window_opens"]) == ("2015-07-10", "2015-05-10")
    assert row["rule_version"] == "C1 from 2015-01-01"


def test_workers_who_left_are_not_listed(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.register("w-1", date(2010, 1, 1))
    h.permit("w-1", at(2013, 7, 2), at(2013, 7, 10))
    h.do(wc.RecordMigrantDeparture, at(2014, 1, 5), worker_id="w-1")
    report = watchlist_of(memory_service, date(2014, 7, 1))
    assert rows(report, "permits_to_endorse") == []
    assert rows(report, "eligible_not_offered") == []
    # before leaving, they were eligible for M3.3
    assert len(rows(watchlist_of(memory_service, date(2014, 1, 4)), "eligible_not_offered")) == 1


# -- meeting actions ------------------------------------------------------------------------------


def test_meeting_actions_are_listed_once_past_due_until_closed(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.meeting("m-2014-01", "2014-01", at(2014, 1, 28))
    h.action("m-2014-01", "a-1", at(2014, 1, 28), due=date(2014, 2, 15))

    assert rows(watchlist_of(memory_service, date(2014, 2, 15)), "actions_overdue") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 2, 16)), "actions_overdue")
    assert (row["meeting"], row["action"], row["measure"], row["owner"], row["overdue_days"]) == (
        "m-2014-01",
        "a-1",
        "M2.2",
        "staff-040",
        1,
    )
    assert row["rule"] == "due = 2014-02-15"
    h.close_action("m-2014-01", "a-1", at(2014, 2, 20))
    assert rows(watchlist_of(memory_service, date(2014, 2, 21)), "actions_overdue") == []
    assert len(rows(watchlist_of(memory_service, date(2014, 2, 18)), "actions_overdue")) == 1


# -- M3.3 ---------------------------------------------------------------------------------------


def test_workers_are_listed_when_they_reach_three_years_until_offered_a_service(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.register("w-2011-0042", date(2011, 1, 3))
    assert rows(watchlist_of(memory_service, date(2014, 1, 2)), "eligible_not_offered") == []
    [row] = rows(watchlist_of(memory_service, date(2014, 1, 3)), "eligible_not_offered")
    assert (row["worker"], row["eligible_since"], row["days_waiting"]) == (
        "*-****-0042",
        "2014-01-03",
        0,
    )
    assert row["rule"] == "proactive_service_years = 3"

    h.offer("w-2011-0042", at(2014, 2, 1), long_residence=False)  # open to everyone: no M3.3
    assert len(rows(watchlist_of(memory_service, date(2014, 2, 2)), "eligible_not_offered")) == 1
    h.offer("w-2011-0042", at(2014, 2, 3))
    assert rows(watchlist_of(memory_service, date(2014, 2, 4)), "eligible_not_offered") == []
    assert len(rows(watchlist_of(memory_service, date(2014, 2, 2)), "eligible_not_offered")) == 1


def test_the_residence_rule_is_the_one_in_force_in_the_workers_community_on_the_day(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.adopt(at(2013, 1, 1), date(2013, 1, 1), "C2", proactive_service_years=2)
    h.register("w-c1", date(2011, 1, 3), community="C1")
    h.register("w-c2", date(2011, 1, 3), community="C2", id_number=None)
    listed = {
        r["community"]: r
        for r in rows(watchlist_of(memory_service, date(2013, 6, 1)), "eligible_not_offered")
    }
    assert set(listed) == {"C2"}
    assert listed["C2"]["eligible_since"] == "2013-01-03"
    assert listed["C2"]["rule_version"] == "C2 from 2013-01-01"


def test_a_late_endorsement_restarts_the_years_of_residence(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.register("w-1", date(2012, 1, 1))
    h.permit("w-1", at(2012, 7, 2), at(2012, 7, 10))  # endorse by 2013-07-10
    h.do(wc.EndorseResidencePermit, at(2013, 8, 1), worker_id="w-1")  # late: restart
    assert rows(watchlist_of(memory_service, date(2015, 1, 2)), "eligible_not_offered") == []
    [row] = rows(watchlist_of(memory_service, date(2016, 8, 1)), "eligible_not_offered")
    assert (row["resident_since"], row["eligible_since"]) == ("2013-08-01", "2016-08-01")


# -- scope, ordering, masking ------------------------------------------------------------------


def test_a_communitys_watchlist_holds_its_own_records_and_the_subdistricts(
    memory_service: Safecomm,
) -> None:
    h = History(memory_service)
    h.dispute("d-c1", at(2014, 3, 1), "C1")
    h.dispute("d-c2", at(2014, 3, 1), "C2")
    h.meeting("m-1", "2014-01", at(2014, 1, 28))  # the subdistrict's group
    h.action("m-1", "a-1", at(2014, 1, 28), due=date(2014, 2, 15))
    report = watchlist_of(memory_service, date(2014, 3, 10), community="C2")
    assert report.scope == "C2"
    assert [r["case"] for r in rows(report, "first_mediation_overdue")] == ["d-c2"]
    assert len(rows(report, "actions_overdue")) == 1
    summary = {r["list"]: r["rows"] for r in rows(report, "summary")}
    assert summary["first_mediation_overdue"] == 1
    assert summary["settlement_overdue"] == 0


def test_rows_come_most_overdue_first(memory_service: Safecomm) -> None:
    h = History(memory_service)
    h.dispute("d-late", at(2014, 3, 5))
    h.dispute("d-later", at(2014, 3, 1))
    h.dispute("d-latest", at(2014, 3, 3))
    cases = [
        r["case"]
        for r in rows(watchlist_of(memory_service, date(2014, 3, 20)), "first_mediation_overdue")
    ]
    assert cases == ["d-later", "d-latest", "d-late"]


def test_the_report_says_what_it_is(memory_service: Safecomm) -> None:
    report = watchlist_of(memory_service, date(2014, 3, 20))
    assert (report.kind, report.period, report.scope, report.dead_letters) == (
        "watchlist",
        "2014-03-20",
        "*",
        0,
    )
    assert [s.id for s in report.sections] == [
        "summary",
        "first_mediation_overdue",
        "settlement_overdue",
        "judicial_window_closing",
        "alerts_unacknowledged",
        "permits_to_endorse",
        "actions_overdue",
        "eligible_not_offered",
    ]
    with pytest.raises(ValueError, match="closing_within_days"):
        watchlist_of(memory_service, date(2014, 3, 20), closing_within_days=-1)


@pytest.mark.parametrize(
    ("ref", "masked"),
    [
        ("w-2011-0042", "*-****-0042"),
        ("m-0001", "*-0001"),
        ("w-1", "w-1"),
        ("510402198805054321", "**************4321"),
    ],
)
def test_person_refs_keep_only_their_last_four_characters(ref: str, masked: str) -> None:
    assert mask_person_ref(ref) == masked


def test_long_numbers_in_other_refs_are_masked() -> None:
    assert mask_numbers("d-2014-0001") == "d-2014-0001"
    assert mask_numbers("call 13800138000 now") == "call *******8000 now"
    assert mask_numbers("51040219900101123X") == "**************123X"
