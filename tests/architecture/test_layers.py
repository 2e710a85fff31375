"""The layers in pyproject.toml hold, and breaking one makes `lint-imports` (in `make check`) fail."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "demo", "cookies", "subprocessors", "consent", "edge")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH first: the copy under test is found before the editable install of the checkout.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def checkout_copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_checkout_keeps_every_layer_contract(checkout_copy):
    result = lint_imports(checkout_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_core_importing_the_banner_app_breaks_the_layers(checkout_copy):
    module = checkout_copy / "consent" / "sites" / "selectors.py"
    module.write_text(module.read_text() + "\nfrom cookies.models import Cookie  # noqa\n")
    result = lint_imports(checkout_copy)
    assert result.returncode == 1
    assert "consent.sites.selectors -> cookies.models" in result.stdout


def test_a_selector_importing_a_service_breaks_the_read_write_split(checkout_copy):
    module = checkout_copy / "consent" / "policies" / "selectors.py"
    module.write_text(module.read_text() + "\nfrom consent.policies.services import policy_text_set\n")
    result = lint_imports(checkout_copy)
    assert result.returncode == 1
    assert "Selectors only read: they never import a service BROKEN" in result.stdout


def test_a_service_importing_its_task_module_breaks_the_no_cycle_rule(checkout_copy):
    module = checkout_copy / "consent" / "exports" / "services.py"
    module.write_text(module.read_text() + "\nfrom consent.tasks import consent_export_task  # noqa\n")
    result = lint_imports(checkout_copy)
    assert result.returncode == 1
    assert "consent.exports.services is not allowed to import consent.tasks" in result.stdout


def test_an_app_importing_the_project_settings_package_breaks_the_glue_rule(checkout_copy):
    module = checkout_copy / "edge" / "http.py"
    module.write_text(module.read_text() + "\nimport config.settings  # noqa\n")
    result = lint_imports(checkout_copy)
    assert result.returncode == 1
    assert "Nothing imports the project glue in config BROKEN" in result.stdout
