"""Schemathesis against a real service process: every answer is the document's.

Schemathesis runs in a process of its own, through its command line: loaded
into this interpreter it patches Hypothesis for the whole session (the
failing examples of every other property test print blank), so it stays out.
Its run is bounded: 30 examples per operation, deterministic generation, one
worker; it writes a HAR file of every exchange, which the tests below read.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.http import request
from tests.support.service_process import ServiceProcess

from .conftest import sign_in_as_demo

RUN_TIMEOUT = 50.0

# Responses are never fed back into generation, and there is no stateful
# phase: either would learn the demo subject from GET /api/profile and
# revoke every token of it, the admin token of this run included.
CONFIG = """
workers = 1
cache.enabled = false
continue-on-failure = true
request-timeout = 5
headers = { Authorization = "Bearer ${ADMIN_TOKEN}" }

[generation]
max-examples = 30
deterministic = true
database = "none"

[checks]
enabled = false
not_a_server_error.enabled = true
status_code_conformance.enabled = true
content_type_conformance.enabled = true
response_headers_conformance.enabled = true
response_schema_conformance.enabled = true
positive_data_acceptance.enabled = true
ignored_auth.enabled = true
unsupported_method.enabled = true
# 413 is a rejection too: escaped non-ASCII text can pass MAX_BODY_BYTES
# before it passes a field's maxLength.
negative_data_rejection.enabled = true
negative_data_rejection.expected-statuses = [
    "400", "401", "403", "404", "405", "413", "429",
]

[phases.examples]
enabled = false

[phases.coverage]
extra-data-sources.responses = false

[phases.fuzzing]
extra-data-sources.responses = false

[phases.stateful]
enabled = false

# Logging out revokes the token it presents: give it one of its own.
[[operations]]
include-path = "/auth/logout"
headers = { Authorization = "Bearer ${LOGOUT_TOKEN}" }

# No schema can say "a token this service signed": a well-formed but
# foreign token is valid input that the handler rightly refuses with 400.
# A token of 4096 escaped non-ASCII characters passes MAX_BODY_BYTES: 413.
[[operations]]
include-name = "POST /admin/revocations"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "413"]
"""

# Schemathesis does not fuzz the operation that serves the schema itself.
NOT_FUZZED = {("GET", "/openapi.json")}


@dataclass(frozen=True, repr=False)
class Run:
    """One schemathesis run: its exit code, its output and every exchange."""

    returncode: int
    output: str
    exchanges: list[dict[str, Any]]
    document: dict[str, Any]


@pytest.fixture(scope="module")
def admin_token(service: ServiceProcess) -> str:
    return sign_in_as_demo(service)


@pytest.fixture(scope="module")
def run(
    service: ServiceProcess,
    admin_token: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    directory = tmp_path_factory.mktemp("schemathesis-run")
    config = directory / "schemathesis.toml"
    config.write_text(CONFIG)

    env = {
        **os.environ,
        "ADMIN_TOKEN": admin_token,
        "LOGOUT_TOKEN": sign_in_as_demo(service),
    }
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "schemathesis.cli", "--no-color"),
            *("--config-file", str(config), "run", f"{service.url}/openapi.json"),
            *("--report", "har", "--report-har-path", str(directory / "run.har")),
        ],
        env=env,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )

    har_path = directory / "run.har"
    assert har_path.exists(), completed.stdout + completed.stderr
    har = json.loads(har_path.read_text())
    document = request("GET", f"{service.url}/openapi.json").json()
    return Run(
        completed.returncode,
        completed.stdout + completed.stderr,
        har["log"]["entries"],
        document,
    )


def failures_of(output: str) -> str:
    """Return the failures section of schemathesis' report, or its tail."""
    start = output.find("FAILURES")
    return output[start:] if start >= 0 else output[-4000:]


def operation_of(document: dict[str, Any], exchange: dict[str, Any]) -> tuple[str, str]:
    """Return the (method, path template) an exchange was sent to."""
    method = exchange["request"]["method"]
    path = urlsplit(exchange["request"]["url"]).path
    for template in document["paths"]:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, path):
            return method, template
    return method, path


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "head", "post", "put", "patch", "delete"}
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in methods
    }


def protected_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method, path)
        for method, path in documented_operations(document)
        if document["paths"][path][method.lower()]["security"]
    }


def statuses_by_operation(run: Run) -> dict[tuple[str, str], set[int]]:
    found: dict[tuple[str, str], set[int]] = {}
    for exchange in run.exchanges:
        operation = operation_of(run.document, exchange)
        found.setdefault(operation, set()).add(exchange["response"]["status"])
    return found


def test_schemathesis_finds_no_failure(run: Run) -> None:
    assert run.returncode == 0, failures_of(run.output)


def test_no_answer_is_a_server_error(run: Run) -> None:
    errors = [
        f"{exchange['request']['method']} {exchange['request']['url']}"
        for exchange in run.exchanges
        if exchange["response"]["status"] >= 500
    ]
    assert not errors


def test_every_documented_operation_is_exercised(run: Run) -> None:
    exercised = set(statuses_by_operation(run))
    missing = documented_operations(run.document) - exercised - NOT_FUZZED
    assert not missing
    assert len(run.exchanges) > 200


def test_protected_operations_succeed_with_the_admin_token(run: Run) -> None:
    statuses = statuses_by_operation(run)
    never_succeeded = {
        operation
        for operation in protected_operations(run.document)
        if not any(200 <= status < 300 for status in statuses.get(operation, ()))
    }
    assert not never_succeeded


def test_the_admin_token_survives_the_run(
    run: Run, service: ServiceProcess, admin_token: str
) -> None:
    response = request(
        "GET",
        f"{service.url}/api/profile",
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status == 200, response.text()
