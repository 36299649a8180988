"""The OpenAPI 3.1 document of the credit platform's /api/v2 interface.

It describes the paths, the request and answer schemas and the four signing
headers (as apiKey security schemes), so that a generic OpenAPI client or
fuzzer can call the stand-in. Schemas use JSON Schema 2020-12, as OpenAPI 3.1
does: a nullable field is `"type": [..., "null"]`. The stand-in's `/_sim/*`
admin endpoints are deliberately left out: a fuzzer must not find the switch
that takes the platform down.
"""

from __future__ import annotations

from typing import Any

from .credit_records import RECORD_KEYS, STATUSES
from .credit_requests import DEFAULT_CHANGES_LIMIT, MAX_CHANGES_LIMIT, MAX_SUBJECTS, OUTCOMES

__all__ = ["openapi_document"]

Schema = dict[str, Any]

# Both identifier kinds are 18 characters from the credit-code alphabet (an ID
# number uses only its digits and X); the check digit is verified by the server.
_CODE = {"type": "string", "pattern": "^[0-9A-HJ-NP-RTUW-Y]{18}$"}
_TEXT = {"type": "string", "minLength": 1}
_TIMESTAMP = {"type": "string", "format": "date-time"}
_DATE_OR_NULL = {"type": ["string", "null"], "format": "date"}
_SIGNING = """Every /api/v2 call is signed. Send X-App-Key, X-Timestamp (unix
milliseconds, within 300 s of the server clock), X-Nonce (16-64 characters, never
reused within 600 s) and X-Signature: the lowercase hex HMAC-SHA256 under the app
secret of METHOD + "\\n" + PATH + "\\n" + TIMESTAMP + "\\n" + NONCE + "\\n" +
sha256hex(BODY), where PATH is the URL path without the query string and BODY the
exact request bytes (empty for GET). Every answer is an envelope
{"code", "message", "data"}; code "0000" is success."""


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _closed(properties: dict[str, Schema], required: list[str] | None = None) -> Schema:
    """An object schema with exactly these properties (all required by default)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


def _envelope(data: Schema) -> Schema:
    return {
        "type": "object",
        "properties": {
            "code": {"const": "0000"},
            "message": {"type": "string"},
            "data": data,
        },
        "required": ["code", "message", "data"],
    }


def _record_schema() -> Schema:
    text_or_null = {"type": ["string", "null"]}
    properties: dict[str, Schema] = {key: text_or_null for key in RECORD_KEYS}
    properties.update(
        record_id=_TEXT,
        category={
            "type": ["string", "null"],
            "enum": [
                "ADMIN_PENALTY",
                "SERIOUS_DISHONESTY",
                "TAX_VIOLATION",
                "GOV_DISHONESTY",
                "BROKEN_COMMITMENT",
                "RED_LIST",
                None,
            ],
        },
        subject_type={"enum": ["PERSON", "ORG"]},
        subject_code=_CODE,
        penalty_types={"type": "array", "items": {"type": "string"}},
        fine_amount={"type": ["string", "null"], "pattern": "^-?[0-9]+(\\.[0-9]+)?$"},
        decision_date=_DATE_OR_NULL,
        publicity_end=_DATE_OR_NULL,
        share_scope={"type": "array", "items": {"type": "string"}},
        status={"enum": list(STATUSES)},
        updated_at=_TIMESTAMP,
    )
    return {"type": "object", "properties": properties, "required": list(RECORD_KEYS)}


def _schemas() -> dict[str, Schema]:
    return {
        "SubjectRef": _closed({"type": {"enum": ["PERSON", "ORG"]}, "code": _CODE}),
        "BatchQueryRequest": _closed(
            {
                "subjects": {"type": "array", "items": _ref("SubjectRef")},
                "includeInactive": {"type": "boolean", "default": False},
            },
            required=["subjects"],
        ),
        "Record": _record_schema(),
        "SubjectResult": _closed(
            {
                "type": {"enum": ["PERSON", "ORG"]},
                "code": _CODE,
                "name": {"type": ["string", "null"]},
                "records": {"type": "array", "items": _ref("Record")},
            }
        ),
        "BatchQueryAnswer": _envelope(
            _closed(
                {
                    "asOf": _TIMESTAMP,
                    "results": {"type": "array", "items": _ref("SubjectResult")},
                }
            )
        ),
        "Change": _closed(
            {
                "seq": {"type": "integer", "minimum": 1},
                "subject_code": _CODE,
                "record_id": _TEXT,
                "op": {"enum": ["UPSERT", "DELETE"]},
                "at": _TIMESTAMP,
            }
        ),
        "ChangesAnswer": _envelope(
            _closed(
                {
                    "changes": {"type": "array", "items": _ref("Change")},
                    "next": {"type": "string"},
                }
            )
        ),
        "UsageFeedbackRequest": _closed(
            {
                "query_ref": _TEXT,
                "subject_code": _CODE,
                "purpose": _TEXT,
                "outcome": {"enum": list(OUTCOMES)},
                "record_ids": {"type": "array", "items": _TEXT},
                "at": _TIMESTAMP,
                "reason": _TEXT,
                "measure": _TEXT,
            },
            required=["query_ref", "subject_code", "purpose", "outcome", "record_ids", "at"],
        ),
        "UsageFeedbackAnswer": _envelope(_closed({"feedback_id": {"type": "string"}})),
        "ObjectionRequest": _closed(
            {"record_id": _TEXT, "subject_code": _CODE, "reason": _TEXT, "filed_by": _TEXT}
        ),
        "ObjectionReceipt": _envelope(
            _closed({"objection_id": {"type": "string"}, "status": {"const": "RECEIVED"}})
        ),
        "ObjectionAnswer": _envelope(
            _closed(
                {
                    "objection_id": {"type": "string"},
                    "record_id": {"type": "string"},
                    "status": {"enum": ["RECEIVED", "UPHELD", "REJECTED"]},
                    "decided_at": {"type": ["string", "null"], "format": "date-time"},
                }
            )
        ),
        "Error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^E[0-9]{4}$"},
                "message": {"type": "string"},
                "data": {"type": "null"},
            },
            "required": ["code", "message", "data"],
        },
    }


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict[str, Any]:
    return {
        "Malformed": _error("E4000: malformed request, or an unknown record or objection id"),
        "Unauthorised": _error(
            "E4010 bad signature, key, headers or nonce; E4011 stale timestamp; "
            "E4012 replayed nonce"
        ),
        "TooLarge": _error(f"E4130: more than {MAX_SUBJECTS} subjects, or a body over 1 MiB"),
        "RateLimited": _error(
            "E4290: rate limit exceeded",
            {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}},
        ),
        "Unavailable": _error("E5030: service unavailable"),
    }


def _operation(
    operation_id: str,
    summary: str,
    answer: str,
    *,
    request: str | None = None,
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": parameters or [],
        "responses": {
            "200": {
                "description": "success (code 0000)",
                "content": {"application/json": {"schema": _ref(answer)}},
            },
            "400": {"$ref": "#/components/responses/Malformed"},
            "401": {"$ref": "#/components/responses/Unauthorised"},
            "413": {"$ref": "#/components/responses/TooLarge"},
            "429": {"$ref": "#/components/responses/RateLimited"},
            "503": {"$ref": "#/components/responses/Unavailable"},
        },
    }
    if request is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(request)}},
        }
    return operation


def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document, as a JSON-ready dict (a fresh one per call)."""
    limit = {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_CHANGES_LIMIT,
            "default": DEFAULT_CHANGES_LIMIT,
        },
    }
    since = {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "cursor from an earlier answer's `next`; absent = from the start",
        "schema": {"type": "string"},
    }
    idempotency_key = {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": "a repeat with the same key is answered as the first",
        "schema": {"type": "string", "minLength": 1},
    }
    objection_key = {**idempotency_key, "required": False}
    objection_id = {
        "name": "objection_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    header_scheme = {
        "AppKey": "X-App-Key",
        "Timestamp": "X-Timestamp",
        "Nonce": "X-Nonce",
        "Signature": "X-Signature",
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Provincial public credit information platform",
            "version": "2.0.0",
            "description": _SIGNING,
        },
        "servers": [{"url": "/"}],
        "security": [{scheme: [] for scheme in header_scheme}],
        "paths": {
            "/api/v2/subjects:batchQuery": {
                "post": _operation(
                    "batchQuery",
                    f"Records of up to {MAX_SUBJECTS} subjects, answered in request order",
                    "BatchQueryAnswer",
                    request="BatchQueryRequest",
                )
            },
            "/api/v2/changes": {
                "get": _operation(
                    "listChanges",
                    "Record changes after a cursor; an empty page means up to date",
                    "ChangesAnswer",
                    parameters=[since, limit],
                )
            },
            "/api/v2/usage-feedback": {
                "post": _operation(
                    "recordUsage",
                    "Report how a query result was used",
                    "UsageFeedbackAnswer",
                    request="UsageFeedbackRequest",
                    parameters=[idempotency_key],
                )
            },
            "/api/v2/objections": {
                "post": _operation(
                    "fileObjection",
                    "File an objection against a record",
                    "ObjectionReceipt",
                    request="ObjectionRequest",
                    parameters=[objection_key],
                )
            },
            "/api/v2/objections/{objection_id}": {
                "get": _operation(
                    "getObjection",
                    "An objection and its decision",
                    "ObjectionAnswer",
                    parameters=[objection_id],
                )
            },
        },
        "components": {
            "schemas": _schemas(),
            "responses": _responses(),
            "securitySchemes": {
                scheme: {
                    "type": "apiKey",
                    "in": "header",
                    "name": header,
                    "description": _SIGNING if scheme == "Signature" else f"the {header} header",
                }
                for scheme, header in header_scheme.items()
            },
        },
    }
