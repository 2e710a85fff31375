"""Django autodiscovers `<app>.admin`: this imports each sub-package's admin so it registers."""

from cookies.banner import admin as banner_admin
from cookies.catalogue import admin as catalogue_admin

__all__ = ["banner_admin", "catalogue_admin"]
