"""Hypothesis strategies shared by the tests. One section per aggregate; keep them small.

Every command strategy produces a valid command object; tests mix in invalid ones.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import attrs
from hypothesis import strategies as st

from safecomm_core.commands import broadcast as broadcast_cmds
from safecomm_core.commands import campaign as campaign_cmds
from safecomm_core.commands import dispute as dispute_cmds
from safecomm_core.commands import grid_alert as alert_cmds
from safecomm_core.commands import grid_network as network_cmds
from safecomm_core.commands import meeting as meeting_cmds
from safecomm_core.commands import migrant as migrant_cmds
from safecomm_core.commands import patrol as patrol_cmds
from safecomm_core.commands import phase as phase_cmds
from safecomm_core.commands import police_statistic as police_cmds
from safecomm_core.commands import population as population_cmds
from safecomm_core.commands import prevention_asset as asset_cmds
from safecomm_core.commands import rules as rules_cmds
from safecomm_core.commands import survey as survey_cmds
from safecomm_core.commands import targets as target_cmds
from safecomm_core.commands.dispute import PartyInput
from safecomm_core.domain import grid_alert, grid_network
from safecomm_core.domain.broadcast import BroadcastCategory, Medium, Outlet, Period
from safecomm_core.domain.campaign import CAMPAIGN_MEASURES, Audience, CampaignTheme, MaterialKind
from safecomm_core.domain.dispute import (
    AgreementForm,
    DisputeKind,
    DisputeSource,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.domain.migrant import ErasureGround, PermitBasis, RegistrationSource, RightsKind
from safecomm_core.domain.patrol import ObservationCategory, PatrolTeam
from safecomm_core.domain.phase import Evidence, EvidenceKind, PhaseId, ReviewKind
from safecomm_core.domain.police_statistic import statistic_ref
from safecomm_core.domain.population import PopulationBasis, population_ref
from safecomm_core.domain.prevention_asset import AssetKind, InspectionOutcome
from safecomm_core.domain.rules import Rules
from safecomm_core.domain.survey import Answers, Satisfaction, Security, Wave
from safecomm_core.domain.targets import Direction, TargetIndicator
from safecomm_core.personal import PersonInput
from safecomm_core.values import Actor, Channel, Role

# -- shared -----------------------------------------------------------------------------

CST = timezone(timedelta(hours=8))

#: Short printable identifiers, as callers choose them ("d-2014-0001", "C1", ...).
refs = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
#: Free text, including Chinese, never blank.
texts = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")
#: Free text that may be left empty (notes): no control characters but tab and newline.
notes_texts = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="\t\n"
    ),
    max_size=20,
)
communities = st.sampled_from([f"C{i}" for i in range(1, 8)])
actors = st.builds(Actor, id=refs, role=st.sampled_from(list(Role)))
channels = st.none() | st.sampled_from(list(Channel))
#: Aware date-times in the programme's years, in +08:00 or UTC.
moments = st.datetimes(min_value=datetime(2010, 1, 1), max_value=datetime(2016, 12, 31)).flatmap(
    lambda d: st.sampled_from([d.replace(tzinfo=CST), d.replace(tzinfo=UTC)])
)
dates = st.dates(min_value=date(2010, 1, 1), max_value=date(2016, 12, 31))
command_ids = st.uuids().map(lambda u: f"c-{u.hex[:16]}")


def meta_fields() -> st.SearchStrategy[dict[str, object]]:
    """The fields every command carries, as keyword arguments."""
    return st.fixed_dictionaries(
        {"command_id": command_ids, "occurred_at": moments, "actor": actors, "channel": channels}
    )


def commands_of(cls: type[Any], **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid ``cls`` commands: random metadata plus the given field strategies."""
    return st.builds(
        cls, command_id=command_ids, occurred_at=moments, actor=actors, channel=channels, **fields
    )


#: A person as a command names them (a hero, a resident, a migrant worker): sometimes only the ref.
person_inputs = st.builds(
    PersonInput,
    ref=refs,
    name=st.none() | texts,
    phone=st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    id_number=st.none() | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
)

# -- phase ------------------------------------------------------------------------------

phase_ids = st.sampled_from(list(PhaseId))
#: Real digests of random contents, upper case now and then (accepted, kept lower case).
sha256s = st.binary(max_size=32).map(lambda b: hashlib.sha256(b).hexdigest())
evidence = st.builds(
    Evidence,
    sha256=sha256s | sha256s.map(str.upper),
    title=texts,
    kind=st.sampled_from(list(EvidenceKind)),
)
#: (start, end) of a planned window, start on or before end.
windows = st.lists(dates, min_size=2, max_size=2).map(sorted)
#: A review kind with a score only where one is allowed (a self-assessment).
reviews = st.one_of(
    st.tuples(st.just(ReviewKind.SELF_ASSESSMENT), st.none() | st.integers(0, 100)),
    st.tuples(
        st.sampled_from([k for k in ReviewKind if k != ReviewKind.SELF_ASSESSMENT]), st.none()
    ),
)

phase_commands = st.one_of(
    windows.flatmap(
        lambda w: commands_of(
            phase_cmds.PlanPhase,
            phase_id=phase_ids,
            title=texts,
            window_start=st.just(w[0]),
            window_end=st.just(w[1]),
            required_deliverables=st.lists(texts, max_size=4, unique=True).map(tuple),
            community=st.just("*") | communities,
        )
    ),
    commands_of(phase_cmds.StartPhase, phase_id=phase_ids),
    commands_of(
        phase_cmds.RecordDeliverable,
        phase_id=phase_ids,
        name=texts,
        evidence=st.lists(evidence, min_size=1, max_size=3, unique_by=lambda e: e.sha256).map(
            tuple
        ),
    ),
    reviews.flatmap(
        lambda r: commands_of(
            phase_cmds.HoldPhaseReview,
            phase_id=phase_ids,
            kind=st.just(r[0]),
            score=st.just(r[1]),
            findings=texts,
        )
    ),
    commands_of(phase_cmds.CompletePhase, phase_id=phase_ids),
    commands_of(phase_cmds.MarkPhaseOverdue, phase_id=phase_ids),
)


# -- meeting ----------------------------------------------------------------------------

months = st.builds("{:04d}-{:02d}".format, st.integers(2010, 2016), st.integers(1, 12))
#: The plan's measure ids (docs/domain.md, *Plan measures*).
measures = st.sampled_from(
    [f"M1.{i}" for i in range(1, 6)]
    + [f"M2.{i}" for i in range(1, 5)]
    + [f"M3.{i}" for i in range(1, 6)]
    + [f"P{i}" for i in range(1, 8)]
    + [f"S{i}" for i in range(1, 7)]
)

meeting_commands = st.one_of(
    commands_of(
        meeting_cmds.HoldMeeting,
        meeting_id=refs,
        month=months,
        attendees=st.lists(refs, min_size=1, max_size=5, unique=True).map(tuple),
        minutes=texts,
        community=st.just("*") | communities,
    ),
    commands_of(
        meeting_cmds.RaiseProblem, meeting_id=refs, problem_id=refs, text=texts, measure=measures
    ),
    commands_of(
        meeting_cmds.AssignAction,
        meeting_id=refs,
        action_id=refs,
        problem_id=refs,
        owner=refs,
        due=dates,
    ),
    commands_of(meeting_cmds.CloseAction, meeting_id=refs, action_id=refs, result=texts),
)


# -- grid -------------------------------------------------------------------------------

#: Phone numbers as units give them (mobile or landline with area code).
phones = st.from_regex(r"1[3-9][0-9]{9}|0[1-9][0-9]{1,2}-[0-9]{7,8}", fullmatch=True)
#: A QQ or WeChat account or group id.
account_ids = st.from_regex(r"[a-z][a-z0-9_]{4,15}|[1-9][0-9]{4,10}", fullmatch=True)
#: Preferred hours, distinct start and end (may run over midnight).
contact_hours = st.tuples(st.integers(0, 23 * 60 + 59), st.integers(1, 23 * 60 + 59)).map(
    lambda t: grid_network.Hours(
        start=f"{t[0] // 60:02d}:{t[0] % 60:02d}",
        end=f"{(t[0] + t[1]) % 1440 // 60:02d}:{(t[0] + t[1]) % 60:02d}",
    )
)
#: A channel with a contact value of the kind it takes.
channel_contacts = st.one_of(
    st.tuples(st.sampled_from(sorted(grid_network.PHONE_CHANNELS)), phones),
    st.tuples(
        st.sampled_from(
            [c for c in grid_network.AlertChannel if c not in grid_network.PHONE_CHANNELS]
        ),
        account_ids,
    ),
)
_alert_unit = {"alert_id": refs, "unit_id": refs}

#: A valid command of each grid type (network.* and alert.*), by type.
grid_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "network.open": commands_of(
        network_cmds.OpenNetwork, network_id=refs, name=texts, community=st.just("*") | communities
    ),
    "network.join": commands_of(
        network_cmds.JoinNetwork,
        network_id=refs,
        unit_id=refs,
        name=texts,
        kind=st.sampled_from(list(grid_network.UnitKind)),
        community=communities,
    ),
    "network.leave": commands_of(
        network_cmds.LeaveNetwork, network_id=refs, unit_id=refs, reason=notes_texts
    ),
    "network.set_contact": channel_contacts.flatmap(
        lambda cc: commands_of(
            network_cmds.SetContactChannel,
            network_id=refs,
            unit_id=refs,
            contact_channel=st.just(cc[0]),
            contact=st.just(cc[1]),
            hours=st.none() | contact_hours,
        )
    ),
    "alert.raise": commands_of(
        alert_cmds.RaiseAlert,
        alert_id=refs,
        network_id=refs,
        raised_by=refs,
        category=st.sampled_from(list(grid_alert.AlertCategory)),
        priority=st.sampled_from(list(grid_alert.AlertPriority)),
        area=texts,
        message=texts,
        expires_at=moments,
    ),
    "alert.send": commands_of(
        alert_cmds.SendAlert,
        contact_channel=st.sampled_from(list(grid_network.AlertChannel)),
        attempt=st.none() | st.integers(min_value=0, max_value=1_000),
        **_alert_unit,
    ),
    "alert.record_delivery": commands_of(
        alert_cmds.RecordAlertDelivery, message_id=st.none() | texts, **_alert_unit
    ),
    "alert.record_failure": commands_of(alert_cmds.RecordAlertFailure, reason=texts, **_alert_unit),
    "alert.acknowledge": commands_of(alert_cmds.AcknowledgeAlert, **_alert_unit),
    "alert.report_action": commands_of(alert_cmds.ReportAlertAction, text=texts, **_alert_unit),
    "alert.escalate": commands_of(alert_cmds.EscalateUnacknowledged, **_alert_unit),
    "alert.update": commands_of(alert_cmds.UpdateAlert, alert_id=refs, text=texts),
    "alert.record_suspect_caught": commands_of(
        alert_cmds.RecordSuspectCaught, alert_id=refs, details=texts
    ),
    "alert.resolve": commands_of(alert_cmds.ResolveAlert, alert_id=refs, summary=texts),
    "alert.cancel": commands_of(alert_cmds.CancelAlert, alert_id=refs, reason=texts),
    "alert.expire": commands_of(alert_cmds.ExpireAlert, alert_id=refs),
    "alert.close": commands_of(alert_cmds.CloseAlert, alert_id=refs),
}


# -- patrol -----------------------------------------------------------------------------

#: Parties as a command names them (dispute.report, patrol.mediate_on_site): 1-3, each once.
party_inputs = st.lists(
    st.builds(
        PartyInput,
        ref=refs,
        role=st.sampled_from(list(PartyRole)),
        name=st.none() | texts,
        phone=st.none() | st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
        id_number=st.none() | st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda p: p.ref,
).map(tuple)
#: A team of 1-5 distinct ids, split between police and volunteers.
patrol_teams = st.lists(refs, min_size=1, max_size=5, unique=True).flatmap(
    lambda ids: st.integers(0, len(ids)).map(
        lambda k: PatrolTeam(police=tuple(ids[:k]), volunteers=tuple(ids[k:]))
    )
)
#: (start, end) of a planned patrol: end 1 minute to 12 hours after start.
patrol_windows = st.tuples(moments, st.integers(1, 12 * 60)).map(
    lambda w: (w[0], w[0] + timedelta(minutes=w[1]))
)
#: Whether settled on the spot, and the oral terms exactly when it was.
on_site_outcomes = st.one_of(st.tuples(st.just(False), st.none()), st.tuples(st.just(True), texts))

#: A valid command of each patrol type, by type.
patrol_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "patrol.plan": patrol_windows.flatmap(
        lambda w: commands_of(
            patrol_cmds.PlanPatrol,
            patrol_id=refs,
            community=communities,
            area=texts,
            route=st.lists(refs, min_size=1, max_size=6, unique=True).map(tuple),
            team=patrol_teams,
            planned_start=st.just(w[0]),
            planned_end=st.just(w[1]),
            grid_unit=st.none() | refs,
        )
    ),
    "patrol.start": commands_of(patrol_cmds.StartPatrol, patrol_id=refs),
    "patrol.visit_checkpoint": commands_of(
        patrol_cmds.VisitCheckpoint, patrol_id=refs, checkpoint=refs, notes=notes_texts
    ),
    "patrol.record_observation": commands_of(
        patrol_cmds.RecordPatrolObservation,
        patrol_id=refs,
        category=st.sampled_from(list(ObservationCategory)),
        details=texts,
        checkpoint=st.none() | refs,
    ),
    "patrol.mediate_on_site": on_site_outcomes.flatmap(
        lambda o: commands_of(
            patrol_cmds.MediateOnSite,
            patrol_id=refs,
            dispute_id=refs,
            kind=st.sampled_from(list(DisputeKind)),
            summary=texts,
            parties=party_inputs,
            settled=st.just(o[0]),
            terms=st.just(o[1]),
            mediator=st.none() | refs,
            grid_unit=st.none() | refs,
            notes=notes_texts,
        )
    ),
    "patrol.end": commands_of(
        patrol_cmds.EndPatrol,
        patrol_id=refs,
        distance_m=st.none() | st.integers(0, 50_000),
        duration_minutes=st.none() | st.integers(0, 24 * 60),
    ),
}


# -- campaign ---------------------------------------------------------------------------

campaign_measures = st.lists(
    st.sampled_from(CAMPAIGN_MEASURES), min_size=1, max_size=4, unique=True
).map(tuple)

#: A valid command of each campaign type, by type.
campaign_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "campaign.plan": commands_of(
        campaign_cmds.PlanCampaign,
        campaign_id=refs,
        community=st.just("*") | communities,
        title=texts,
        theme=st.sampled_from(list(CampaignTheme)),
        measures=campaign_measures,
        planned_on=dates,
    ),
    "campaign.hold": commands_of(
        campaign_cmds.HoldCampaign,
        campaign_id=refs,
        place=texts,
        audiences=st.lists(
            st.sampled_from(list(Audience)), min_size=1, max_size=3, unique=True
        ).map(tuple),
        attendance=st.integers(0, 5000),
        partners=st.lists(texts, max_size=3, unique=True).map(tuple),
        community=st.none() | communities,
    ),
    "campaign.distribute_materials": commands_of(
        campaign_cmds.DistributeMaterials,
        campaign_id=refs,
        kind=st.sampled_from(list(MaterialKind)),
        count=st.integers(1, 10_000),
    ),
    "campaign.publicise_bravery": commands_of(
        campaign_cmds.PubliciseBravery,
        campaign_id=refs,
        description=texts,
        person=st.none() | person_inputs,
    ),
    "campaign.cancel": commands_of(campaign_cmds.CancelCampaign, campaign_id=refs, reason=texts),
    "campaign.record_participants": commands_of(
        campaign_cmds.RecordParticipants,
        campaign_id=refs,
        participants=st.lists(person_inputs, min_size=1, max_size=4, unique_by=lambda p: p.ref).map(
            tuple
        ),
    ),
}


# -- broadcast --------------------------------------------------------------------------

outlets = st.builds(
    Outlet, medium=st.sampled_from(list(Medium)), community=st.just("*") | communities
)
#: 1-4 outlets, each once, with their recipient counts.
outlet_reaches = st.lists(
    st.builds(broadcast_cmds.OutletReach, outlet=outlets, recipients=st.integers(0, 10**5)),
    min_size=1,
    max_size=4,
    unique_by=lambda r: r.outlet,
).map(tuple)

#: A valid command of each broadcast type, by type.
broadcast_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "broadcast.publish": commands_of(
        broadcast_cmds.PublishBroadcast,
        broadcast_id=refs,
        community=st.just("*") | communities,
        category=st.sampled_from(list(BroadcastCategory)),
        period=st.sampled_from(list(Period)),
        text=texts,
        outlets=outlet_reaches,
    ),
    "broadcast.publish_on": commands_of(
        broadcast_cmds.PublishBroadcastOn, broadcast_id=refs, outlets=outlet_reaches
    ),
    "broadcast.receive_question": commands_of(
        broadcast_cmds.ReceiveQuestion,
        broadcast_id=refs,
        question_id=refs,
        outlet=outlets,
        text=texts,
        person=st.none() | person_inputs,
    ),
    "broadcast.answer_question": commands_of(
        broadcast_cmds.AnswerQuestion, broadcast_id=refs, question_id=refs, answer=texts
    ),
    "broadcast.withdraw": commands_of(
        broadcast_cmds.WithdrawBroadcast, broadcast_id=refs, reason=texts
    ),
}


# -- survey -----------------------------------------------------------------------------

#: Answers with at least one question answered (a blank questionnaire is refused).
survey_answers = st.builds(
    Answers,
    aware=st.none() | st.booleans(),
    participated=st.none() | st.booleans(),
    satisfaction=st.none() | st.sampled_from(list(Satisfaction)),
    security=st.none() | st.sampled_from(list(Security)),
).filter(lambda a: a.answered() > 0)

survey_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "survey.open_wave": commands_of(
        survey_cmds.OpenSurveyWave,
        survey_id=refs,
        wave=st.sampled_from(list(Wave)),
        sample_target=st.integers(1, 5000),
        community=st.just("*") | communities,
    ),
    "survey.record_response": commands_of(
        survey_cmds.RecordSurveyResponse,
        survey_id=refs,
        response_id=refs,
        community=communities,
        answers=survey_answers,
    ),
    "survey.close_wave": commands_of(
        survey_cmds.CloseSurveyWave, survey_id=refs, notes=st.just("") | texts
    ),
}


# -- prevention asset -------------------------------------------------------------------

#: What a gatehouse writes of a large item: never a long number (ID, phone).
item_descriptions = texts.filter(lambda s: not re.search(r"\d{7,}", s))
#: (large items out, their descriptions): at most one description an item.
large_items = st.integers(0, 40).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(item_descriptions, max_size=min(n, 3)).map(tuple))
)
asset_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "asset.install": commands_of(
        asset_cmds.InstallDevice,
        asset_id=refs,
        community=communities,
        compound=refs,
        description=texts,
        funding_source=texts,
    ),
    "asset.build": commands_of(
        asset_cmds.BuildAsset,
        asset_id=refs,
        community=communities,
        compound=refs,
        kind=st.sampled_from([AssetKind.PARKING_LOT, AssetKind.GATEHOUSE]),
        description=st.just("") | texts,
        rebuilt=st.booleans(),
        funding_source=st.none() | texts,
    ),
    "asset.assign_custodian": commands_of(
        asset_cmds.AssignCustodian, asset_id=refs, custodian=refs
    ),
    "asset.inspect": st.sampled_from(list(InspectionOutcome)).flatmap(
        lambda o: commands_of(
            asset_cmds.InspectAsset,
            asset_id=refs,
            outcome=st.just(o),
            notes=texts if o is InspectionOutcome.FAULT else st.just("") | texts,
        )
    ),
    "asset.report_fault": commands_of(asset_cmds.ReportAssetFault, asset_id=refs, fault=texts),
    "asset.repair": commands_of(asset_cmds.RepairAsset, asset_id=refs, notes=st.just("") | texts),
    "asset.decommission": commands_of(asset_cmds.DecommissionAsset, asset_id=refs, reason=texts),
    "asset.count_register": large_items.flatmap(
        lambda li: commands_of(
            asset_cmds.CountGatehouseRegister,
            asset_id=refs,
            day=dates,
            entries=st.integers(0, 5000),
            large_items_out=st.just(li[0]),
            items=st.just(li[1]),
        )
    ),
}


# -- police statistic -------------------------------------------------------------------

case_categories = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
#: (month, community or the subdistrict, category) of one police figure.
statistic_keys = st.tuples(months, st.just("*") | communities, case_categories)
police_statistic_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "police_statistic.report": statistic_keys.flatmap(
        lambda k: commands_of(
            police_cmds.ReportPoliceStatistic,
            statistic_id=st.just(statistic_ref(*k)),
            month=st.just(k[0]),
            community=st.just(k[1]),
            category=st.just(k[2]),
            cases=st.integers(0, 10_000),
            source=texts,
        )
    ),
    "police_statistic.correct": commands_of(
        police_cmds.CorrectPoliceStatistic,
        statistic_id=statistic_keys.map(lambda k: statistic_ref(*k)),
        cases=st.integers(0, 10_000),
        reason=texts,
    ),
}


# -- population -------------------------------------------------------------------------

#: (community, as-of day) of one population count.
population_keys = st.tuples(communities, dates)
population_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "population.record": population_keys.flatmap(
        lambda k: commands_of(
            population_cmds.RecordPopulation,
            population_id=st.just(population_ref(*k)),
            community=st.just(k[0]),
            as_of=st.just(k[1]),
            residents=st.integers(0, 100_000),
            migrants=st.integers(0, 100_000),
            basis=st.sampled_from(PopulationBasis),
            source=texts,
        )
    ),
    "population.correct": commands_of(
        population_cmds.CorrectPopulation,
        population_id=population_keys.map(lambda k: population_ref(*k)),
        residents=st.integers(0, 100_000),
        migrants=st.integers(0, 100_000),
        reason=texts,
    ),
}


# -- targets ----------------------------------------------------------------------------

#: Finite amounts of zero or more; -0.0 is left out (it equals 0.0 but prints "-0.0").
amounts = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False).map(abs)
target_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "target.set": commands_of(
        target_cmds.SetTarget,
        indicator=st.sampled_from(list(TargetIndicator)),
        community=st.just("*") | communities,
        direction=st.sampled_from(list(Direction)),
        baseline=amounts,
        baseline_source=texts,
        target=amounts,
        due=dates,
    ),
    "target.revise": commands_of(
        target_cmds.ReviseTarget,
        indicator=st.sampled_from(list(TargetIndicator)),
        community=st.just("*") | communities,
        reason=texts,
        baseline=st.none() | amounts,
        baseline_source=st.none() | texts,
        target=st.none() | amounts,
        due=st.none() | dates,
    ),
}


# -- migrant ----------------------------------------------------------------------------

#: Exactly one of a linked dispute and a legal-aid matter, as migrant.open_rights_case wants.
rights_links = st.one_of(
    st.fixed_dictionaries({"dispute_id": refs}), st.fixed_dictionaries({"legal_aid": refs})
)

#: A valid command of each migrant type, by type.
migrant_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "migrant.register": commands_of(
        migrant_cmds.RegisterMigrantWorker,
        worker_id=refs,
        community=communities,
        person=person_inputs,
        arrived_on=dates,
        dwelling=texts,
        employer=st.none() | texts,
        grid_unit=st.none() | refs,
        source=st.none() | st.sampled_from(list(RegistrationSource)),
    ),
    "migrant.move": commands_of(
        migrant_cmds.RecordMigrantMove,
        worker_id=refs,
        dwelling=texts,
        community=communities,
        grid_unit=st.none() | refs,
    ),
    "migrant.leave": commands_of(migrant_cmds.RecordMigrantDeparture, worker_id=refs),
    "migrant.apply_permit": commands_of(
        migrant_cmds.ApplyResidencePermit, worker_id=refs, basis=st.sampled_from(list(PermitBasis))
    ),
    "migrant.issue_permit": commands_of(migrant_cmds.IssueResidencePermit, worker_id=refs),
    "migrant.endorse_permit": commands_of(migrant_cmds.EndorseResidencePermit, worker_id=refs),
    "migrant.suspend_permit": commands_of(migrant_cmds.SuspendResidencePermit, worker_id=refs),
    "migrant.open_rights_case": rights_links.flatmap(
        lambda link: commands_of(
            migrant_cmds.OpenMigrantRightsCase,
            worker_id=refs,
            case_id=refs,
            kind=st.sampled_from(list(RightsKind)),
            **{k: st.just(v) for k, v in link.items()},
        )
    ),
    "migrant.offer_service": commands_of(
        migrant_cmds.OfferMigrantService,
        worker_id=refs,
        offer_id=refs,
        service=texts,
        proactive=st.booleans(),
        long_residence=st.booleans(),
    ),
    "migrant.deliver_service": commands_of(
        migrant_cmds.DeliverMigrantService, worker_id=refs, offer_id=refs
    ),
    "migrant.erase": commands_of(
        migrant_cmds.EraseMigrantWorker,
        worker_id=refs,
        ground=st.none() | st.sampled_from(list(ErasureGround)),
    ),
}

# -- dispute ----------------------------------------------------------------------------

_on_dispute = {"dispute_id": refs}

#: A valid command of each dispute type, by type.
dispute_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "dispute.report": commands_of(
        dispute_cmds.ReportDispute,
        dispute_id=refs,
        community=communities,
        kind=st.sampled_from(list(DisputeKind)),
        summary=texts,
        parties=party_inputs,
        grid_unit=st.none() | refs,
        source=st.none() | st.sampled_from(list(DisputeSource)),
    ),
    "dispute.accept": commands_of(dispute_cmds.AcceptDispute, **_on_dispute),
    "dispute.refuse": commands_of(dispute_cmds.RefuseDispute, reason=texts, **_on_dispute),
    "dispute.assign_mediator": commands_of(
        dispute_cmds.AssignMediator, mediator=refs, **_on_dispute
    ),
    "dispute.hold_session": commands_of(dispute_cmds.HoldSession, notes=notes_texts, **_on_dispute),
    "dispute.flag_risk": commands_of(dispute_cmds.FlagDisputeRisk, risk=texts, **_on_dispute),
    "dispute.report_to_police": commands_of(
        dispute_cmds.ReportDisputeToPolice, station=texts, **_on_dispute
    ),
    "dispute.reach_agreement": commands_of(
        dispute_cmds.ReachAgreement,
        form=st.sampled_from(list(AgreementForm)),
        terms=texts,
        **_on_dispute,
    ),
    "dispute.terminate": commands_of(
        dispute_cmds.TerminateMediation,
        reason=texts,
        routes_told=st.lists(st.sampled_from(list(Route)), min_size=1, unique=True).map(tuple),
        **_on_dispute,
    ),
    "dispute.record_performance": commands_of(
        dispute_cmds.RecordPerformance,
        outcome=st.sampled_from(list(PerformanceOutcome)),
        notes=notes_texts,
        **_on_dispute,
    ),
    "dispute.apply_judicial_confirmation": commands_of(
        dispute_cmds.ApplyJudicialConfirmation, court=texts, **_on_dispute
    ),
    "dispute.decide_judicial_confirmation": commands_of(
        dispute_cmds.DecideJudicialConfirmation,
        confirmed=st.booleans(),
        notes=notes_texts,
        **_on_dispute,
    ),
    "dispute.follow_up": commands_of(
        dispute_cmds.FollowUpDispute, notes=notes_texts, **_on_dispute
    ),
    "dispute.archive": commands_of(dispute_cmds.ArchiveDispute, **_on_dispute),
    "dispute.refer_legal_aid": commands_of(
        dispute_cmds.ReferLegalAid, provider=texts, matter=texts, **_on_dispute
    ),
}


# -- rules ------------------------------------------------------------------------------

rules_commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    "rules.adopt": commands_of(
        rules_cmds.AdoptRules,
        effective_from=dates,
        changes=st.dictionaries(
            st.sampled_from(sorted(attrs.fields_dict(Rules))), st.integers(1, 100), min_size=1
        ),
        community=st.just("*") | communities,
    )
}


# -- every aggregate with strategies by type --------------------------------------------

#: A valid command of each type that has a strategy of its own, by type.
commands_by_type: dict[str, st.SearchStrategy[Any]] = {
    **grid_commands_by_type,
    **patrol_commands_by_type,
    **campaign_commands_by_type,
    **broadcast_commands_by_type,
    **survey_commands_by_type,
    **asset_commands_by_type,
    **police_statistic_commands_by_type,
    **population_commands_by_type,
    **target_commands_by_type,
    **migrant_commands_by_type,
}


#: A valid command of every type there is, by type.
every_command_by_type: dict[str, st.SearchStrategy[Any]] = {
    **commands_by_type,
    **dispute_commands_by_type,
    **rules_commands_by_type,
    **{
        t: phase_commands.filter(lambda c, t=t: t == c.TYPE)
        for t in (
            "phase.plan",
            "phase.start",
            "phase.record_deliverable",
            "phase.hold_review",
            "phase.complete",
            "phase.mark_overdue",
        )
    },
    **{
        t: meeting_commands.filter(lambda c, t=t: t == c.TYPE)
        for t in (
            "meeting.hold",
            "meeting.raise_problem",
            "meeting.assign_action",
            "meeting.close_action",
        )
    },
}
