"""``/openapi.json`` as this configuration behaves: bounds that follow settings (question length) are
written into the schema, and the API-key scheme is declared only when ``COALITION_API_KEY`` is set (without
it no call needs a key, and a schema that says otherwise is wrong). ``tests/web/test_schema.py`` holds it
to that with schemathesis.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from assistant.retrieval.retrieve import FILTER_KEYS
from core.settings import Settings
from ingest.models import DOC_TYPES
from ingest.transforms import geo

NOT_BLANK = r"\S"  # a question of only spaces is refused (400) like an empty one


def install(app: FastAPI, settings: Settings) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            app.openapi_schema = adjust(schema, settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# fixed vocabularies, refused with 400 otherwise ("" is no filter); values that depend on the index (a
# country, a doc_id) cannot be listed here, and an unknown one is a 400 that names the known ones
ENUMS = {("/search", "doc_type"): DOC_TYPES, ("/practices", "region"): tuple(geo.REGIONS),
         ("/practices", "kind"): ("project", "country", "regional_group")}


def adjust(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    question = {"minLength": 1, "maxLength": settings.max_question_chars, "pattern": NOT_BLANK}
    components = schema.setdefault("components", {})
    ask = components.get("schemas", {}).get("AskRequest", {}).get("properties", {})
    if "question" in ask:
        ask["question"].update(question)
    if "history" in ask:
        ask["history"]["maxItems"] = settings.max_history_turns
    if "filters" in ask:  # an unknown filter is a 400
        ask["filters"]["anyOf"][0].update({"properties": {k: {"type": "string"} for k in FILTER_KEYS},
                                           "additionalProperties": False})
    for path, methods in schema.get("paths", {}).items():
        for operation in methods.values():
            if not settings.keys_configured:
                operation.pop("security", None)
            for parameter in operation.get("parameters", []):
                if path == "/search" and parameter["name"] == "q":
                    parameter["schema"].update(question)
                if (path, parameter["name"]) in ENUMS:
                    values = ["", *ENUMS[path, parameter["name"]]]
                    parameter["schema"] = {"anyOf": [{"type": "string", "enum": values}, {"type": "null"}]}
    if not settings.keys_configured:
        components.pop("securitySchemes", None)
    return schema
