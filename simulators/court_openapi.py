"""The OpenAPI 3.1 description of the court enforcement interface.

Served by the stand-in at `GET /openapi.json` so a generic OpenAPI client or
fuzzer can drive it: the token endpoint with its form body, the two query
endpoints, the change feed, and the oauth2 clientCredentials scheme they use.
The stand-in's `/_sim/*` admin endpoints are left out on purpose: they are no
part of the platform's interface, and a fuzzer calling `/_sim/down` would take
the server it is testing off the air.
"""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

Schema = dict[str, Any]

# Format only: the check character (GB 11643 / GB 32100) cannot be expressed in a
# pattern, so a matching string may still be refused with 400 invalid_request.
_ID_CODE_PATTERN = "^([0-9]{17}[0-9Xx]|[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18})$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(kind: str, **extra: Any) -> Schema:
    return {"type": [kind, "null"], **extra}


def _object(properties: Schema, required: list[str], closed: bool = False) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _json(schema: Schema, description: str, headers: Schema | None = None) -> Schema:
    response: Schema = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _schemas(max_page_size: int) -> Schema:
    date = _nullable("string", format="date")
    text = _nullable("string")
    entry = {
        "entryId": {"type": "string"},
        "caseCode": text,
        "court": text,
        "province": text,
        "partyType": {"type": "string", "enum": ["PERSON", "ORG"]},
        "partyName": text,
        "idCode": {"type": "string"},
        "legalRepName": text,
        "basisDocNo": text,
        "basisIssuer": text,
        "obligation": text,
        "performance": {"type": ["string", "null"], "enum": ["NONE", "PARTIAL", None]},
        "unperformedAmount": _nullable("string", pattern="^-?[0-9]+(\\.[0-9]+)?$"),
        "behaviour": _nullable("integer", minimum=1, maximum=6),
        "filingDate": date,
        "publishDate": date,
        "listingEnd": date,
        "status": {"type": "string", "enum": ["LISTED", "REMOVED"]},
        "removedDate": date,
        "removalReason": text,
    }
    restriction = {
        "orderId": {"type": "string"},
        "caseCode": text,
        "court": text,
        "idCode": {"type": "string"},
        "partyName": text,
        "issuedDate": date,
        "status": {"type": "string", "enum": ["ACTIVE", "LIFTED"]},
    }
    page_fields = {
        "total": {"type": "integer", "minimum": 0},
        "pageNo": {"type": "integer", "minimum": 1},
        "pageSize": {"type": "integer", "minimum": 1, "maximum": max_page_size},
    }
    return {
        "Party": _object(
            {
                "idCode": {
                    "type": "string",
                    "pattern": _ID_CODE_PATTERN,
                    "description": "Resident ID number or unified social credit code, "
                    "with a valid check character.",
                },
                "name": {"type": ["string", "null"], "description": "Ignored for matching."},
            },
            ["idCode"],
            closed=True,
        ),
        "QueryRequest": _object(
            {
                "parties": {
                    "type": "array",
                    "items": _ref("Party"),
                    "minItems": 1,
                    "maxItems": 200,
                    "description": "Matched by idCode only; duplicates are answered once.",
                },
                "pageNo": {"type": "integer", "minimum": 1, "default": 1},
                "pageSize": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 100,
                    "description": f"Capped at {max_page_size}; the answer reports the size used.",
                },
            },
            ["parties"],
            closed=True,
        ),
        "Entry": _object(entry, list(entry)),
        "Restriction": _object(restriction, list(restriction)),
        "EntryPage": _object(
            {**page_fields, "items": {"type": "array", "items": _ref("Entry")}},
            [*page_fields, "items"],
        ),
        "RestrictionPage": _object(
            {**page_fields, "items": {"type": "array", "items": _ref("Restriction")}},
            [*page_fields, "items"],
        ),
        "Change": _object(
            {
                "seq": {"type": "integer", "minimum": 1},
                "idCode": {"type": "string"},
                "entryId": {"type": "string"},
                "op": {"type": "string", "enum": ["LISTED", "REMOVED", "UPDATED"]},
                "at": {"type": "string", "format": "date-time"},
            },
            ["seq", "idCode", "entryId", "op", "at"],
        ),
        "ChangePage": _object(
            {
                "items": {"type": "array", "items": _ref("Change")},
                "cursor": {"type": "string", "description": "Opaque; pass it back as `cursor`."},
            },
            ["items", "cursor"],
        ),
        "TokenRequest": _object(
            {
                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                "client_id": {"type": "string"},
                "client_secret": {"type": "string"},
            },
            ["grant_type", "client_id", "client_secret"],
        ),
        "Token": _object(
            {
                "access_token": {"type": "string"},
                "token_type": {"type": "string", "enum": ["Bearer"]},
                "expires_in": {"type": "integer", "minimum": 1},
            },
            ["access_token", "token_type", "expires_in"],
        ),
        "Error": _object(
            {
                "error": {
                    "type": "string",
                    "enum": [
                        "invalid_request",
                        "invalid_client",
                        "unsupported_grant_type",
                        "invalid_token",
                        "rate_limited",
                        "temporarily_unavailable",
                        "not_found",
                        "method_not_allowed",
                    ],
                },
                "error_description": {"type": "string"},
            },
            ["error"],
        ),
    }


def _errors(*statuses: int) -> Schema:
    """The error answers an operation may give, by status code."""
    meaning = {
        "400": "Malformed request (invalid_request, unsupported_grant_type).",
        "401": "invalid_client on the token endpoint; invalid_token elsewhere.",
        "429": "More than the client's calls per second (rate_limited).",
        "503": "Temporarily unavailable.",
    }
    retry_after = {
        "Retry-After": {
            "description": "Seconds to wait before calling again.",
            "schema": {"type": "integer", "minimum": 1},
        }
    }
    return {
        str(status): _json(
            _ref("Error"), meaning[str(status)], retry_after if status == 429 else None
        )
        for status in statuses
    }


def _query(summary: str, page: str) -> Schema:
    return {
        "post": {
            "summary": summary,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("QueryRequest")}},
            },
            "responses": {
                "200": _json(_ref(page), "One page of the parties' items, all parties together."),
                **_errors(400, 401, 429, 503),
            },
        }
    }


def openapi_document(max_page_size: int) -> Schema:
    """The OpenAPI 3.1 document of the court interface, as served by the stand-in."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Court enforcement information interface",
            "version": "1.0.0",
            "description": "Dishonest judgment debtors (失信被执行人) and consumption "
            "restrictions (限制消费令) by party, with a change feed of the debtor list.",
        },
        "security": [{"oauth2": []}],
        "paths": {
            "/oauth/token": {
                "post": {
                    "summary": "Issue an access token (OAuth 2.0 client credentials).",
                    "security": [],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/x-www-form-urlencoded": {"schema": _ref("TokenRequest")}
                        },
                    },
                    "responses": {
                        "200": _json(_ref("Token"), "A Bearer token."),
                        **_errors(400, 401, 503),
                    },
                }
            },
            "/v1/dishonest-debtors/query": _query(
                "List entries of dishonest judgment debtors for up to 200 parties.", "EntryPage"
            ),
            "/v1/consumption-restrictions/query": _query(
                "List consumption restriction orders for up to 200 parties.", "RestrictionPage"
            ),
            "/v1/changes": {
                "get": {
                    "summary": "Changes to the debtor list after a cursor; empty when up to date.",
                    "parameters": [
                        {
                            "name": "cursor",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                            "description": "From a previous answer; absent = from the start.",
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "default": 100},
                            "description": "At most 1000 changes are returned.",
                        },
                    ],
                    "responses": {
                        "200": _json(_ref("ChangePage"), "Changes in seq order."),
                        **_errors(400, 401, 429, 503),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(503),
                    },
                }
            },
        },
        "components": {
            "schemas": _schemas(max_page_size),
            "securitySchemes": {
                "oauth2": {
                    "type": "oauth2",
                    "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}}},
                }
            },
        },
    }
