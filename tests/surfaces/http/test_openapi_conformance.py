"""Schemathesis over the served OpenAPI spec, against the real app on a real socket: for every operation,
requests generated from the spec (valid ones and ones that break it) get an answer that the spec
describes — no 5xx, a documented status and content type, a body that matches its schema, invalid
input refused, missing or wrong API keys refused, and every error a body that says what went wrong.
Bounded and derandomized, so every run sends the same requests.

Where validity depends on more than the spec can say — whether a backend is enabled on this server, whether
a conversation holds a user turn — a request valid by the spec may still get a 422 with a reason; for
those two operations that one check (valid data accepted) is left out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from assistant.settings import Settings
from assistant.surfaces.server import create_app
from tests.conftest import seeded
from tests.fakes.live_server import serve

KEY = "conformance-key"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # With a key configured, as the spec's Bearer scheme says: requests without it or with another are
    # checked to get 401 too.
    config = seeded(tmp_path_factory.mktemp("openapi"), api_keys=[KEY])
    with serve(create_app(config)) as live:
        live.wait_loaded()
        yield live.url


# The spec as the app serves it (building the app loads nothing); each operation is one test.
schema = schemathesis.openapi.from_dict(create_app(Settings()).openapi())
SEMANTIC = {"POST /v1/diagnose", "POST /v1/chat/completions"}


@schemathesis.check
def errors_say_why(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case
) -> None:
    if response.status_code >= 400:
        error = response.json()["error"]
        assert error["type"] and error["message"], response.text


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,  # writes nothing into the repository
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_its_spec_says(case: schemathesis.Case, url: str) -> None:
    excluded = [positive_data_acceptance] if f"{case.method} {case.path}" in SEMANTIC else []
    case.call_and_validate(
        base_url=url,
        headers={"Authorization": f"Bearer {KEY}"},
        additional_checks=[errors_say_why],
        excluded_checks=excluded,
    )
