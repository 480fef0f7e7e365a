"""Imports every domain's tables so that Base.metadata is complete (Alembic, tests)."""

from hotline import events as events_models
from hotline.agents import models as agents_models
from hotline.attachments import models as attachments_models
from hotline.auth import models as auth_models
from hotline.calls import models as calls_models
from hotline.care import models as care_models
from hotline.cases import models as cases_models
from hotline.channels import models as channels_models
from hotline.contacts import models as contacts_models
from hotline.db import Base
from hotline.directory import models as directory_models
from hotline.jobs import models as jobs_models
from hotline.knowledge import models as knowledge_models
from hotline.phoneconfig import models as phoneconfig_models
from hotline.portal import models as portal_models
from hotline.recordings import models as recordings_models
from hotline.reports import models as reports_models
from hotline.staffing import models as staffing_models
from hotline.triage import models as triage_models

metadata = Base.metadata

__all__ = [
    "agents_models",
    "attachments_models",
    "auth_models",
    "calls_models",
    "care_models",
    "cases_models",
    "channels_models",
    "contacts_models",
    "directory_models",
    "events_models",
    "jobs_models",
    "knowledge_models",
    "metadata",
    "phoneconfig_models",
    "portal_models",
    "recordings_models",
    "reports_models",
    "staffing_models",
    "triage_models",
]
