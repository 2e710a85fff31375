"""The consent app's tables, one module per job; import them from here.

`sites` (the tenant, its origins, members and purposes), `audit` (who changed what),
`policies` (documents and their published versions), `ledger` (consent records, the Merkle
log, checkpoints), `exports`, `requests` (data-subject requests and their history), `tokens`,
`webhooks` (endpoints, the event outbox, deliveries);
`immutable` and `editions` are the bases the other apps use too.
"""

from consent.models.audit import AuditEntry
from consent.models.editions import Edition
from consent.models.exports import ConsentExport, ExportFormat, ExportStatus
from consent.models.immutable import ImmutableModel, ImmutableQuerySet, ImmutableRowError
from consent.models.ledger import (
    OPT_OUT_ACTIONS,
    Checkpoint,
    CollectionMethod,
    ConsentAction,
    ConsentRecord,
    Cosignature,
    IdempotencyClaim,
    MerkleNode,
    UiLayer,
)
from consent.models.policies import (
    SLUG_PATTERN,
    ChangeKind,
    DocumentKind,
    PolicyDocument,
    PolicyText,
    PolicyVersion,
)
from consent.models.preferences import AdminPreference
from consent.models.requests import (
    AGENT_DOCUMENT_DIRECTORY,
    AGENT_DOCUMENT_TYPES,
    FINAL_STATUSES,
    INTERNAL_ACTIONS,
    DataSubjectRequest,
    RequestAction,
    RequestEvent,
    RequestReminder,
    RequestStatus,
    RequestType,
)
from consent.models.sites import (
    NECESSARY_PURPOSE_KEY,
    PURPOSE_KEY_PATTERN,
    SITE_KEY_PATTERN,
    DataResidency,
    IpStorage,
    Purpose,
    PurposeTranslation,
    Role,
    Site,
    SiteMembership,
    SiteOrigin,
    jurisdiction_choices,
    origin_normalise,
    site_key_new,
    subject_secret_new,
)
from consent.models.subjects import SubjectLink
from consent.models.tokens import TOKEN_PREFIX, ApiIdempotencyKey, ApiToken, TokenScope
from consent.models.webhooks import (
    CONSENT_EVENT_TYPES,
    WebhookCursor,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookPending,
)

__all__ = [
    "AGENT_DOCUMENT_DIRECTORY",
    "AGENT_DOCUMENT_TYPES",
    "FINAL_STATUSES",
    "DataSubjectRequest",
    "INTERNAL_ACTIONS",
    "RequestAction",
    "RequestEvent",
    "RequestReminder",
    "RequestStatus",
    "RequestType",
    "AdminPreference",
    "ApiIdempotencyKey",
    "ApiToken",
    "TOKEN_PREFIX",
    "TokenScope",
    "AuditEntry",
    "Edition",
    "ExportFormat",
    "ExportStatus",
    "ConsentExport",
    "ImmutableRowError",
    "ImmutableQuerySet",
    "ImmutableModel",
    "ConsentAction",
    "OPT_OUT_ACTIONS",
    "CollectionMethod",
    "UiLayer",
    "SubjectLink",
    "subject_secret_new",
    "ConsentRecord",
    "IdempotencyClaim",
    "MerkleNode",
    "Checkpoint",
    "Cosignature",
    "DocumentKind",
    "ChangeKind",
    "SLUG_PATTERN",
    "PolicyDocument",
    "PolicyText",
    "PolicyVersion",
    "SITE_KEY_PATTERN",
    "PURPOSE_KEY_PATTERN",
    "NECESSARY_PURPOSE_KEY",
    "site_key_new",
    "jurisdiction_choices",
    "origin_normalise",
    "DataResidency",
    "IpStorage",
    "Site",
    "SiteOrigin",
    "Role",
    "SiteMembership",
    "Purpose",
    "PurposeTranslation",
    "CONSENT_EVENT_TYPES",
    "WebhookCursor",
    "WebhookDelivery",
    "WebhookDeliveryStatus",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookEventType",
    "WebhookPending",
]
