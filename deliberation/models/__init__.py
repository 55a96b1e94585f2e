"""All models, importable from one place (Alembic and the app import this package), the
town's time zone the app shows times in, and ``utcnow``, the time every model stores."""

from deliberation.models._common import TOKYO, utcnow
from deliberation.models.agenda import AgendaAnswerSeen, Escalation, OfficialResponse
from deliberation.models.audit import AuditEntry
from deliberation.models.clustering_job import ClusteringJob
from deliberation.models.import_job import ImportJob
from deliberation.models.mail import MailSuppression, NotificationCursor, OutgoingMail
from deliberation.models.participation import Participant, Proposal, Report, Vote, VoteEvent
from deliberation.models.review import EscalationReview
from deliberation.models.round import Round
from deliberation.models.snapshot import (
    ClusterSnapshot,
    SnapshotGroup,
    SnapshotMembership,
    SnapshotProposalStat,
)
from deliberation.models.town import TownSetting
from deliberation.models.user import LoginFailure, User
from deliberation.models.verification import PostalCode, VerificationRecord
from deliberation.models.vote_tally import VoteTally
from deliberation.models.workshop import Workshop

__all__ = [
    "TOKYO",
    "AgendaAnswerSeen",
    "AuditEntry",
    "ClusterSnapshot",
    "ClusteringJob",
    "Escalation",
    "EscalationReview",
    "ImportJob",
    "LoginFailure",
    "MailSuppression",
    "NotificationCursor",
    "OfficialResponse",
    "OutgoingMail",
    "Participant",
    "PostalCode",
    "Proposal",
    "Report",
    "Round",
    "SnapshotGroup",
    "SnapshotMembership",
    "SnapshotProposalStat",
    "TownSetting",
    "User",
    "VerificationRecord",
    "Vote",
    "VoteEvent",
    "VoteTally",
    "Workshop",
    "utcnow",
]
