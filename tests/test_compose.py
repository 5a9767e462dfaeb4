"""The Docker setup hangs together: docker-compose.yml, the Dockerfile and .env.example.

No containers are started: the files are parsed and every command the app services run is
checked against the code it names (management commands, the Celery app, the WSGI app).
"""

import importlib
import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ["migrate", "web", "worker", "beat"]
# The configuration variables named in DESIGN.md §7.
DESIGN_VARIABLES = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "REDIS_URL",
    "EMAIL_URL",
    "DEFAULT_FROM_EMAIL",
    "SITE_URL",
    "CELERY_TASK_ALWAYS_EAGER",
]


@pytest.fixture(scope="module")
def services():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]


def commands(service):
    """The commands a service runs, each as an argv list; `sh -c "a && b"` gives a and b."""
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else command
    if argv[:2] == ["sh", "-c"]:
        return [shlex.split(part) for part in argv[2].split("&&")]
    return [argv]


def app_commands(services, program):
    """Every command of the app services that starts with `program`, e.g. ["celery"]."""
    found = [argv for name in APP_SERVICES for argv in commands(services[name]) if argv[: len(program)] == program]
    assert found, f"no app service runs {' '.join(program)}"
    return found


def test_all_services_are_defined(services):
    assert {"postgres", "redis", "mailpit", "web", "worker", "beat", "migrate"} <= set(services)


@pytest.mark.parametrize("key", ["build", "image", "environment", "env_file"])
def test_app_services_share_one_definition(services, key):
    first = services[APP_SERVICES[0]][key]
    assert all(services[name][key] == first for name in APP_SERVICES)


def test_long_running_app_services_wait_for_migrate(services):
    for name in ["web", "worker", "beat"]:
        assert services[name]["depends_on"].get("migrate") == {"condition": "service_completed_successfully"}, name


def test_healthy_dependencies_have_a_healthcheck(services):
    for service in services.values():
        for dependency, options in service.get("depends_on", {}).items():
            if options["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], dependency


def test_every_app_command_is_checked_below(services):
    known = [["python", "manage.py"], ["celery"], ["gunicorn"]]
    for name in APP_SERVICES:
        for argv in commands(services[name]):
            assert any(argv[: len(program)] == program for program in known), f"{name}: {argv}"


def test_management_commands_exist(services):
    for argv in app_commands(services, ["python", "manage.py"]):
        assert argv[2] in get_commands(), f"no management command {argv[2]!r}"


def test_celery_app_exists(services):
    for argv in app_commands(services, ["celery"]):
        assert argv[1:3] == ["-A", "partnership"]
    assert hasattr(importlib.import_module("partnership.celery"), "app")


def test_gunicorn_application_exists(services):
    for argv in app_commands(services, ["gunicorn"]):
        module, attribute = argv[1].split(":")
        assert hasattr(importlib.import_module(module), attribute)


def test_dockerfile_installs_requirements():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.txt" in dockerfile
    assert (ROOT / "requirements.txt").is_file()


def test_env_example_mentions_every_design_variable():
    # Lines look like `NAME=value` or, to keep the default, `# NAME=value`.
    names = re.findall(r"^#?\s*([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE)
    assert set(DESIGN_VARIABLES) <= set(names)
