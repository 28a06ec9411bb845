"""The OpenAPI document is true: schemathesis generates requests from it, valid and invalid ones, against
the real app on a real uvicorn, and checks every response against it (status documented, body matching
its schema, no 5xx, invalid data refused, valid data accepted). Bounded: ``EXAMPLES`` per operation and
mode, well under a minute.

A filter value that depends on the index (a country, a doc_id, a funder) cannot be listed in a schema,
and an unknown one is a 400 naming the known ones; so the valid cases draw those values from the index.
"""

from __future__ import annotations

import zlib
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from pydantic import SecretStr
from schemathesis import GenerationMode

from assistant.pipeline import Assistant
from assistant.web import create_app
from core.settings import Settings
from ingest.transforms import themes
from tests.servers import serving

pytestmark = [pytest.mark.slow, pytest.mark.server]

EXAMPLES = 25


def known_values(assistant: Assistant) -> dict[str, list[str]]:
    values = {key: sorted(v) for key, v in assistant.retriever.values.items()}
    values["theme"] = [t.slug for t in themes.THEMES]
    values["funder"] = sorted({r.funder for r in assistant.practices.records if r.funder})
    return values


def _pick(options: list[str], seed: object) -> str:
    return options[zlib.crc32(repr(seed).encode()) % len(options)] if options else ""


def with_known_values(case: schemathesis.Case, known: dict[str, list[str]]) -> None:
    """A valid case's index-dependent filter values replaced by ones the index has."""
    query: dict[str, Any] = case.query or {}
    for key in ("country", "doc_id", "theme", "funder", "kind"):
        if query.get(key) and not (key == "kind" and case.path == "/practices"):
            query[key] = _pick(known.get(key, []), query[key])
    if query.get("year_from") and query.get("year_to") and query["year_from"] > query["year_to"]:
        query["year_from"], query["year_to"] = query["year_to"], query["year_from"]
    body = case.body if isinstance(case.body, dict) else {}
    for key, value in (body.get("filters") or {}).items():
        body["filters"][key] = _pick(known.get(key, []), value)


def run_schemathesis(url: str, known: dict[str, list[str]], examples: int = EXAMPLES) -> list[str]:
    """Every operation, valid and invalid cases; the failures, one entry each (empty: all passed)."""
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _check(operation, mode, known, examples)()
            except Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to make invalid: no parameters, no body
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 (collected: every operation is tried)
                failures.append(f"{operation.label} [{mode.value}]: {str(exc).strip()[:3000]}")
    return failures


def _check(operation: Any, mode: GenerationMode, known: dict[str, list[str]], examples: int) -> Any:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def check(case: schemathesis.Case) -> None:
        if mode is GenerationMode.POSITIVE:
            with_known_values(case, known)
        case.call_and_validate()

    return check


def test_the_api_behaves_as_its_schema_says(base_url: str, assistant: Assistant) -> None:
    failures = run_schemathesis(base_url, known_values(assistant))
    assert not failures, "\n\n".join(failures)


def test_with_an_api_key_the_schema_says_so(web_settings: Settings, assistant: Assistant) -> None:
    settings = web_settings.model_copy(update={"api_key": SecretStr("s3cret-key")})
    with serving(create_app(settings, assistant)) as url:
        spec = httpx.get(url + "/openapi.json").json()
        assert spec["components"]["securitySchemes"]["APIKeyHeader"]["name"] == "X-API-Key"
        assert spec["paths"]["/ask"]["post"]["security"] == [{"APIKeyHeader": []}]
        failures = run_schemathesis(url, known_values(assistant), examples=5)
    assert not failures, "\n\n".join(failures)


def test_without_a_key_no_scheme_is_declared(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert "securitySchemes" not in spec.get("components", {})
    assert all("security" not in op for methods in spec["paths"].values() for op in methods.values())
