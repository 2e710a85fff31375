"""Django autodiscovers `<app>.admin`: this imports each sub-package's admin so it registers."""

from consent.exports import admin as exports_admin
from consent.ledger import admin as ledger_admin
from consent.policies import admin as policies_admin
from consent.requests import admin as requests_admin
from consent.sites import admin as sites_admin
from consent.sites import audit_admin
from consent.subjects import admin as subjects_admin
from consent.tokens import admin as tokens_admin
from consent.webhooks import admin as webhooks_admin

__all__ = [
    "audit_admin",
    "exports_admin",
    "ledger_admin",
    "policies_admin",
    "requests_admin",
    "sites_admin",
    "subjects_admin",
    "tokens_admin",
    "webhooks_admin",
]
