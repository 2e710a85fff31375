"""The demo shop (fake trackers, a stand-in customer page) is served only when asked for."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Resolves the demo's URLs in a fresh process, with production settings plus `extra`.
SCRIPT = (
    "import django, json; django.setup();"
    "from django.test import Client;"
    "c = Client();"
    "print(json.dumps({path: c.get(path).status_code for path in"
    " ['/demo/tags/analytics.js', '/demo/embed/', '/healthz']}))"
)


def statuses(tmp_path: Path, **extra: str) -> dict[str, int]:
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DEBUG", "DEMO")},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "REDIS_URL": "",
        **extra,
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_do_not_route_the_demo(tmp_path):
    answer = statuses(tmp_path)
    assert answer == {"/demo/tags/analytics.js": 404, "/demo/embed/": 404, "/healthz": 200}


@pytest.mark.parametrize("switch", [{"DEMO": "true"}, {"DEBUG": "true"}])
def test_demo_or_debug_routes_the_demo(tmp_path, switch):
    answer = statuses(tmp_path, **switch)
    assert answer == {"/demo/tags/analytics.js": 200, "/demo/embed/": 200, "/healthz": 200}


def test_demo_false_keeps_it_off_even_in_debug(tmp_path):
    answer = statuses(tmp_path, DEBUG="true", DEMO="false")
    assert answer["/demo/tags/analytics.js"] == 404
