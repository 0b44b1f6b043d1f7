"""Import every domain's models so that the metadata (Alembic, tests) knows every table."""

from server.accounts.models import AccessToken, Person, Team, team_members, team_villages  # noqa: F401
from server.audit.models import AuditEvent  # noqa: F401
from server.campaigns.models import Campaign  # noqa: F401
from server.cases.models import Case, CaseEvent, Notice, NoticeCounter, SupportPlan  # noqa: F401
from server.db import Base  # noqa: F401
from server.devices.models import Device, EnrollmentCode  # noqa: F401
from server.forms.models import CampaignForm, FormVersion  # noqa: F401
from server.imports.models import (  # noqa: F401
    Import,
    ImportFile,
    ImportProblem,
    RecordChange,
    RegisterStudent,
    RosterEntry,
    SuspectedDropout,
)
from server.jobs.models import OutboxJob  # noqa: F401
from server.maps.models import Task  # noqa: F401
from server.openrosa.models import OpenRosaInstance  # noqa: F401
from server.people.models import Child, Household  # noqa: F401
from server.places.models import Town, Village  # noqa: F401
from server.reports.models import ReportExport  # noqa: F401
from server.schools.models import School  # noqa: F401
from server.sync.models import (  # noqa: F401
    Attachment,
    ChangeLogEntry,
    Conflict,
    DuplicateCandidate,
    FieldStates,
    RecordVersion,
    Submission,
    Tombstone,
)
from server.visits.models import Visit  # noqa: F401
