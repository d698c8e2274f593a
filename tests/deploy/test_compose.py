"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked: the
same topology is run with processes in tests/scale/."""

from __future__ import annotations

import re

import yaml

from tests.conftest import PROJECT

COMPOSE = yaml.safe_load((PROJECT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]
NGINX = (PROJECT / "deploy" / "nginx" / "default.conf").read_text(encoding="utf-8")
ENV_EXAMPLE = (PROJECT / ".env.example").read_text(encoding="utf-8")


def test_every_long_running_service_has_a_health_check_and_a_restart_policy() -> None:
    for name, service in SERVICES.items():
        if "ops" in service.get("profiles", []):
            continue
        assert "healthcheck" in service, name
        assert service.get("restart") == "unless-stopped", name


def test_the_replicas_share_the_stores_and_are_all_behind_nginx() -> None:
    replicas = sorted(n for n in SERVICES if re.fullmatch(r"rasa-\d+", n))
    assert len(replicas) >= 2
    for name in replicas:
        env = SERVICES[name]["environment"]
        tracker_store = env["TRACKER_STORE_URL"]
        assert tracker_store.startswith("postgresql") and "@postgres:5432/" in tracker_store
        assert env["REDIS_URL"].startswith("redis://") and "@redis:6379/" in env["REDIS_URL"]
        assert env["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
        assert f"server {name}:5005" in NGINX
        assert SERVICES[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert SERVICES["actions"]["environment"]["ESCALATION_DB_URL"] == SERVICES[replicas[0]]["environment"][
        "ESCALATION_DB_URL"
    ]


def test_data_lives_in_named_volumes() -> None:
    for service, path in (("postgres", "/var/lib/postgresql/data"), ("redis", "/data")):
        [mount] = SERVICES[service]["volumes"]
        volume, target = mount.split(":")[:2]
        assert target == path and volume in COMPOSE["volumes"]


def test_every_variable_the_compose_file_reads_is_documented_in_env_example() -> None:
    text = (PROJECT / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_]+)", text))
    documented = set(re.findall(r"^([A-Z_]+)=", ENV_EXAMPLE, flags=re.MULTILINE))
    assert used <= documented, f"missing from .env.example: {sorted(used - documented)}"


def test_no_secret_has_a_value_in_the_compose_file() -> None:
    for name, service in SERVICES.items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "AUTH_TOKEN")):
                assert str(value).startswith("${"), f"{name}: {key} must come from .env"


def test_the_rasa_http_api_is_not_published() -> None:
    assert "location /socket.io/" in NGINX and "location /webhooks/" in NGINX
    assert "location /conversations" not in NGINX and "location /model" not in NGINX
    published = [n for n, s in SERVICES.items() if s.get("ports")]
    assert published == ["nginx"]
