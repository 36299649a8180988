"""The credit platform's answer envelope: `{"code", "message", "data"}`.

Every JSON answer of the platform has this shape. Success is HTTP 200 with code
"0000"; a failure carries one of the platform's error codes and `data: null`:

    ApiError                    an answer that is not a success
      400 E4000  malformed request, unknown record or objection id
      401 E4010  bad signature, missing auth headers, unknown key, bad nonce length
      401 E4011  stale or non-numeric timestamp
      401 E4012  replayed nonce
      413 E4130  too many subjects, or a request body over the size limit
      429 E4290  rate limited (with Retry-After)
      503 E5030  unavailable

The stand-in adds 404 E4040 and 405 E4050 for paths and methods it does not
serve, so that even those answers are envelopes.
"""

from __future__ import annotations

from starlette.responses import JSONResponse, Response

__all__ = ["SUCCESS", "ApiError", "envelope", "malformed", "ok", "unavailable"]

SUCCESS = "0000"


class ApiError(Exception):
    """A request the platform answers with an error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        """The error envelope for this error."""
        return envelope(self.status, self.code, self.message, None, self.headers)


def malformed(message: str) -> ApiError:
    """400 E4000: the request is not one the platform accepts."""
    return ApiError(400, "E4000", message)


def envelope(
    status: int,
    code: str,
    message: str,
    data: object,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON envelope with the given HTTP status."""
    body = {"code": code, "message": message, "data": data}
    return JSONResponse(body, status_code=status, headers=headers)


def ok(data: object) -> Response:
    """HTTP 200, code "0000"."""
    return envelope(200, SUCCESS, "success", data)


def unavailable() -> Response:
    """503 E5030, the answer while the platform is down or failing."""
    return envelope(503, "E5030", "service unavailable", None)
