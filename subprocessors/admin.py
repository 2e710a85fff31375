"""Django autodiscovers `<app>.admin`: this imports each sub-package's admin so it registers."""

from subprocessors.lists import admin as lists_admin
from subprocessors.notices import admin as notices_admin
from subprocessors.objections import admin as objections_admin

__all__ = ["lists_admin", "notices_admin", "objections_admin"]
