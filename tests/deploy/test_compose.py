"""compose.yaml and the Dockerfile, checked as files: no Docker daemon is needed (CI has none).

Where Docker is installed, `docker compose config` validates compose.yaml too. What the image runs
is `bin/closeloop`, which the production smoke (tests/smoke) starts exactly as the image does.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate": ["migrate"], "web": ["web"], "worker": ["worker"], "beat": ["beat"]}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_postgres_redis_and_each_process_of_the_entry_point(compose):
    services = compose["services"]

    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    for name, command in APP_SERVICES.items():
        assert services[name]["command"] == command, name
        assert services[name]["build"] == "."
        assert services[name]["environment"]["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        assert services[name]["environment"]["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert services[name]["environment"]["DATABASE_URL"].endswith("@postgres:5432/closeloop")


def test_compose_keeps_data_in_volumes(compose):
    services = compose["services"]

    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["redis"]["volumes"] == ["redis-data:/data"]
    assert services["beat"]["volumes"] == ["beat-data:/app/var"]
    assert set(compose["volumes"]) == {"postgres-data", "redis-data", "beat-data"}


def test_every_long_running_service_has_a_health_check(compose):
    services = compose["services"]

    for name in ("postgres", "redis", "web", "worker", "beat"):
        assert services[name]["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])
    assert "closeloop:heartbeat:worker:" in " ".join(services["worker"]["healthcheck"]["test"])
    assert "closeloop:heartbeat:beat" in " ".join(services["beat"]["healthcheck"]["test"])
    assert "migrate" not in {k for k, v in services.items() if "healthcheck" in v}


def test_migrations_run_once_before_the_processes_start(compose):
    services = compose["services"]

    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_compose_refuses_to_start_without_its_secrets(compose):
    environment = compose["services"]["web"]["environment"]

    for name in ("DJANGO_SECRET_KEY", "SITE_URL", "DJANGO_ALLOWED_HOSTS"):
        assert re.fullmatch(r"\$\{" + name + r":\?.+\}", environment[name]), name
    assert "${POSTGRES_PASSWORD:?" in environment["DATABASE_URL"]


def _stages(dockerfile: str) -> list[str]:
    return re.split(r"^FROM ", dockerfile, flags=re.M)[1:]


def test_image_is_multi_stage_with_no_build_tools_and_a_user_in_the_final_stage():
    dockerfile = (ROOT / "Dockerfile").read_text()
    build, final = _stages(dockerfile)

    assert "build-essential" in build
    assert "collectstatic" in build
    assert "apt-get install" not in final
    assert "build-essential" not in final and "pip install" not in final
    assert "COPY --from=build /opt/venv /opt/venv" in final
    assert re.search(r"^USER closeloop$", final, flags=re.M)
    assert 'ENTRYPOINT ["bin/closeloop"]' in final
    assert 'CMD ["web"]' in final
    assert "COLLECTSTATIC=0" in final


def test_dockerignore_keeps_local_state_out_of_the_image():
    ignored = (ROOT / ".dockerignore").read_text().split()

    for entry in (".git", ".venv", "var", ".env", "node_modules"):
        assert entry in ignored


def _docker_compose() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True)
    return docker if probe.returncode == 0 else None


@pytest.mark.skipif(_docker_compose() is None, reason="docker compose is not installed here")
def test_docker_compose_config_validates(tmp_path):
    env = {
        "DJANGO_SECRET_KEY": "x" * 50,
        "SITE_URL": "https://closeloop.example",
        "DJANGO_ALLOWED_HOSTS": "closeloop.example",
        "POSTGRES_PASSWORD": "pw",
        "PATH": os.environ["PATH"],
    }
    result = subprocess.run(
        [_docker_compose(), "compose", "-f", str(ROOT / "compose.yaml"), "config", "--quiet"],
        env=env,
        capture_output=True,
    )
    assert result.returncode == 0, result.stderr.decode()
