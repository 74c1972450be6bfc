"""safecomm: event-sourced records, reports and audits for a Safe Community programme.

Everything a service needs is one import away: the store, every command with the enums
and values its fields take, every record, the errors, the access policy's principal, the
subdistrict's time zone and the reports.

>>> from datetime import datetime
>>> from safecomm_core import (
...     SUBDISTRICT_TZ, Actor, Dispute, DisputeKind, PartyInput, PartyRole, ReportDispute,
...     Role, monthly_report, open_store,
... )
>>> with open_store("memory://") as service:  # or "sqlite:///safecomm.db", "postgresql://…"
...     outcome = service.handle(ReportDispute(
...         command_id="c-1",
...         occurred_at=datetime(2014, 3, 3, 9, 10, tzinfo=SUBDISTRICT_TZ),
...         actor=Actor("staff-017", Role.MEDIATOR),
...         dispute_id="d-2014-0001",
...         community="C1",
...         kind=DisputeKind.NEIGHBOUR,
...         summary="Water leaking from the flat above",
...         parties=(PartyInput(ref="p-1001", name="王建国", role=PartyRole.APPLICANT),),
...     ))
...     dispute = service.get(Dispute, "d-2014-0001")
...     report = monthly_report(service, "2014-03")  # catches the views up first
>>> outcome.records
('dispute:d-2014-0001',)
>>> dispute.status.value, dispute.community
('reported', 'C1')
>>> report.figure("mediation_success_rate", "C1").value is None  # nothing closed yet
True

A JSON command goes through :func:`parse_command` (or ``service.handle_json``), with the
same rules as a command built in Python.
"""

from safecomm_core.access import ALL_COMMUNITIES, Principal, Read
from safecomm_core.application import open_store
from safecomm_core.batch import CommandBatch, Settled
from safecomm_core.commands import COMMANDS, Command, command_to_json, parse_command
from safecomm_core.commands.broadcast import (
    AnswerQuestion,
    OutletReach,
    PublishBroadcast,
    PublishBroadcastOn,
    ReceiveQuestion,
    WithdrawBroadcast,
)
from safecomm_core.commands.campaign import (
    CancelCampaign,
    DistributeMaterials,
    HoldCampaign,
    PlanCampaign,
    PubliciseBravery,
    RecordParticipants,
)
from safecomm_core.commands.dispute import (
    AcceptDispute,
    ApplyJudicialConfirmation,
    ArchiveDispute,
    AssignMediator,
    DecideJudicialConfirmation,
    EraseDispute,
    FlagDisputeRisk,
    FollowUpDispute,
    HoldSession,
    PartyInput,
    ReachAgreement,
    RecordPerformance,
    ReferLegalAid,
    RefuseDispute,
    ReportDispute,
    ReportDisputeToPolice,
    TerminateMediation,
)
from safecomm_core.commands.grid_alert import (
    AcknowledgeAlert,
    CancelAlert,
    CloseAlert,
    EscalateUnacknowledged,
    ExpireAlert,
    RaiseAlert,
    RecordAlertDelivery,
    RecordAlertFailure,
    RecordSuspectCaught,
    ReportAlertAction,
    ResolveAlert,
    SendAlert,
    UpdateAlert,
)
from safecomm_core.commands.grid_network import (
    JoinNetwork,
    LeaveNetwork,
    OpenNetwork,
    SetContactChannel,
)
from safecomm_core.commands.meeting import (
    AssignAction,
    CloseAction,
    HoldMeeting,
    RaiseProblem,
)
from safecomm_core.commands.migrant import (
    ApplyResidencePermit,
    DeliverMigrantService,
    EndorseResidencePermit,
    EraseMigrantWorker,
    IssueResidencePermit,
    OfferMigrantService,
    OpenMigrantRightsCase,
    RecordMigrantDeparture,
    RecordMigrantMove,
    RegisterMigrantWorker,
    SuspendResidencePermit,
)
from safecomm_core.commands.patrol import (
    EndPatrol,
    MediateOnSite,
    PlanPatrol,
    RecordPatrolObservation,
    StartPatrol,
    VisitCheckpoint,
)
from safecomm_core.commands.phase import (
    CompletePhase,
    HoldPhaseReview,
    MarkPhaseOverdue,
    PlanPhase,
    RecordDeliverable,
    StartPhase,
)
from safecomm_core.commands.police_statistic import (
    CorrectPoliceStatistic,
    ReportPoliceStatistic,
)
from safecomm_core.commands.population import (
    CorrectPopulation,
    RecordPopulation,
)
from safecomm_core.commands.prevention_asset import (
    AssignCustodian,
    BuildAsset,
    CountGatehouseRegister,
    DecommissionAsset,
    InspectAsset,
    InstallDevice,
    RepairAsset,
    ReportAssetFault,
)
from safecomm_core.commands.rules import (
    AdoptRules,
)
from safecomm_core.commands.survey import (
    CloseSurveyWave,
    OpenSurveyWave,
    RecordSurveyResponse,
)
from safecomm_core.commands.targets import (
    ReviseTarget,
    SetTarget,
)
from safecomm_core.dates import SUBDISTRICT_TZ, Month, local_date
from safecomm_core.domain.broadcast import (
    Broadcast,
    BroadcastCategory,
    Medium,
    Outlet,
    Period,
)
from safecomm_core.domain.campaign import (
    Audience,
    Campaign,
    CampaignTheme,
    MaterialKind,
)
from safecomm_core.domain.dispute import (
    AgreementForm,
    Dispute,
    DisputeKind,
    DisputeSource,
    PartyRole,
    PerformanceOutcome,
    Route,
)
from safecomm_core.domain.grid_alert import (
    AlertCategory,
    AlertPriority,
    GridAlert,
)
from safecomm_core.domain.grid_network import (
    AlertChannel,
    GridNetwork,
    Hours,
    UnitKind,
)
from safecomm_core.domain.meeting import (
    Meeting,
)
from safecomm_core.domain.migrant import (
    ErasureGround,
    MigrantWorker,
    PermitBasis,
    RegistrationSource,
    RightsKind,
)
from safecomm_core.domain.patrol import (
    ObservationCategory,
    Patrol,
    PatrolTeam,
)
from safecomm_core.domain.phase import (
    Evidence,
    EvidenceKind,
    PhaseId,
    ProjectPhase,
    ReviewKind,
)
from safecomm_core.domain.police_statistic import (
    PoliceStatistic,
)
from safecomm_core.domain.population import (
    Population,
    PopulationBasis,
)
from safecomm_core.domain.prevention_asset import (
    AssetKind,
    InspectionOutcome,
    PreventionAsset,
)
from safecomm_core.domain.rules import (
    Rulebook,
)
from safecomm_core.domain.survey import (
    Answers,
    Satisfaction,
    Security,
    Survey,
    Wave,
)
from safecomm_core.domain.targets import (
    Direction,
    Target,
    TargetIndicator,
)
from safecomm_core.errors import (
    AlreadyExists,
    CommandIdReused,
    ConcurrencyConflict,
    FieldError,
    Forbidden,
    InvalidCommand,
    InvalidTransition,
    NotFound,
    PersonErased,
    RuleViolation,
    SafecommError,
    StoreError,
    UnknownCommandType,
)
from safecomm_core.freetext import SealedText
from safecomm_core.history import HistoryEntry
from safecomm_core.personal import PersonData, PersonInput
from safecomm_core.reports import (
    Figure,
    Report,
    UnknownFigure,
    monthly_report,
    self_assessment,
    watchlist,
)
from safecomm_core.service import OpenedText, Outcome, Safecomm
from safecomm_core.values import Actor, Channel, Meta, Role

__all__ = [
    "ALL_COMMUNITIES",
    "COMMANDS",
    "SUBDISTRICT_TZ",
    "AcceptDispute",
    "AcknowledgeAlert",
    "Actor",
    "AdoptRules",
    "AgreementForm",
    "AlertCategory",
    "AlertChannel",
    "AlertPriority",
    "AlreadyExists",
    "AnswerQuestion",
    "Answers",
    "ApplyJudicialConfirmation",
    "ApplyResidencePermit",
    "ArchiveDispute",
    "AssetKind",
    "AssignAction",
    "AssignCustodian",
    "AssignMediator",
    "Audience",
    "Broadcast",
    "BroadcastCategory",
    "BuildAsset",
    "Campaign",
    "CampaignTheme",
    "CancelAlert",
    "CancelCampaign",
    "Channel",
    "CloseAction",
    "CloseAlert",
    "CloseSurveyWave",
    "Command",
    "CommandBatch",
    "CommandIdReused",
    "CompletePhase",
    "ConcurrencyConflict",
    "CorrectPoliceStatistic",
    "CorrectPopulation",
    "CountGatehouseRegister",
    "DecideJudicialConfirmation",
    "DecommissionAsset",
    "DeliverMigrantService",
    "Direction",
    "Dispute",
    "DisputeKind",
    "DisputeSource",
    "DistributeMaterials",
    "EndPatrol",
    "EndorseResidencePermit",
    "EraseDispute",
    "EraseMigrantWorker",
    "ErasureGround",
    "EscalateUnacknowledged",
    "Evidence",
    "EvidenceKind",
    "ExpireAlert",
    "FieldError",
    "Figure",
    "FlagDisputeRisk",
    "FollowUpDispute",
    "Forbidden",
    "GridAlert",
    "GridNetwork",
    "HistoryEntry",
    "HoldCampaign",
    "HoldMeeting",
    "HoldPhaseReview",
    "HoldSession",
    "Hours",
    "InspectAsset",
    "InspectionOutcome",
    "InstallDevice",
    "InvalidCommand",
    "InvalidTransition",
    "IssueResidencePermit",
    "JoinNetwork",
    "LeaveNetwork",
    "MarkPhaseOverdue",
    "MaterialKind",
    "MediateOnSite",
    "Medium",
    "Meeting",
    "Meta",
    "MigrantWorker",
    "Month",
    "NotFound",
    "ObservationCategory",
    "OfferMigrantService",
    "OpenMigrantRightsCase",
    "OpenNetwork",
    "OpenSurveyWave",
    "OpenedText",
    "Outcome",
    "Outlet",
    "OutletReach",
    "PartyInput",
    "PartyRole",
    "Patrol",
    "PatrolTeam",
    "PerformanceOutcome",
    "Period",
    "PermitBasis",
    "PersonData",
    "PersonErased",
    "PersonInput",
    "PhaseId",
    "PlanCampaign",
    "PlanPatrol",
    "PlanPhase",
    "PoliceStatistic",
    "Population",
    "PopulationBasis",
    "PreventionAsset",
    "Principal",
    "ProjectPhase",
    "PubliciseBravery",
    "PublishBroadcast",
    "PublishBroadcastOn",
    "RaiseAlert",
    "RaiseProblem",
    "ReachAgreement",
    "Read",
    "ReceiveQuestion",
    "RecordAlertDelivery",
    "RecordAlertFailure",
    "RecordDeliverable",
    "RecordMigrantDeparture",
    "RecordMigrantMove",
    "RecordParticipants",
    "RecordPatrolObservation",
    "RecordPerformance",
    "RecordPopulation",
    "RecordSurveyResponse",
    "RecordSuspectCaught",
    "ReferLegalAid",
    "RefuseDispute",
    "RegisterMigrantWorker",
    "RegistrationSource",
    "RepairAsset",
    "Report",
    "ReportAlertAction",
    "ReportAssetFault",
    "ReportDispute",
    "ReportDisputeToPolice",
    "ReportPoliceStatistic",
    "ResolveAlert",
    "ReviewKind",
    "ReviseTarget",
    "RightsKind",
    "Role",
    "Route",
    "RuleViolation",
    "Rulebook",
    "Safecomm",
    "SafecommError",
    "Satisfaction",
    "SealedText",
    "Security",
    "SendAlert",
    "SetContactChannel",
    "SetTarget",
    "Settled",
    "StartPatrol",
    "StartPhase",
    "StoreError",
    "Survey",
    "SuspendResidencePermit",
    "Target",
    "TargetIndicator",
    "TerminateMediation",
    "UnitKind",
    "UnknownCommandType",
    "UnknownFigure",
    "UpdateAlert",
    "VisitCheckpoint",
    "Wave",
    "WithdrawBroadcast",
    "command_to_json",
    "local_date",
    "monthly_report",
    "open_store",
    "parse_command",
    "self_assessment",
    "watchlist",
]
