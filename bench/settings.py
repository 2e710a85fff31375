"""Settings for benchmark runs: the project's settings plus the bench app and its URLs.

The bench app (a raw-insert table and baseline views) exists only under these settings, so
`makemigrations --check` with config.settings never sees it.
"""

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS as _PROJECT_APPS

INSTALLED_APPS = [*_PROJECT_APPS, "bench"]
ROOT_URLCONF = "bench.urls"
