"""How a request to the credit platform is signed (UPSTREAMS.md §1, "Authentication").

Every request carries four headers:

    X-App-Key     the app key
    X-Timestamp   unix milliseconds, from the caller's clock
    X-Nonce       16-64 characters, never reused (the platform refuses a replay)
    X-Signature   lowercase hex HMAC-SHA256 under the app secret of
                  METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n sha256hex(BODY)

PATH is the URL path as sent, without the query string; BODY is the exact bytes
sent (empty for GET). A retry is a new request: it is signed afresh, with a new
timestamp and a new nonce, so the platform never sees a nonce twice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable

import httpx

__all__ = ["NONCE_BYTES", "new_nonce", "sign", "signed_headers", "signed_path"]

# 16 random bytes: 32 hex characters, inside the platform's 16-64 and unguessable.
NONCE_BYTES = 16


def new_nonce() -> str:
    """A fresh nonce from the operating system's CSPRNG."""
    return secrets.token_hex(NONCE_BYTES)


def signed_path(url: httpx.URL) -> str:
    """The path as it goes on the wire (still percent-encoded), without the query."""
    return url.raw_path.split(b"?", 1)[0].decode("ascii")


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The lowercase hex X-Signature of one request."""
    text = "\n".join((method.upper(), path, timestamp, nonce, hashlib.sha256(body).hexdigest()))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def signed_headers(
    *,
    app_key: str,
    app_secret: str,
    method: str,
    url: httpx.URL,
    body: bytes,
    clock: Callable[[], float],
) -> dict[str, str]:
    """The four signing headers for one attempt, stamped now with a fresh nonce."""
    timestamp = str(int(clock() * 1000))
    nonce = new_nonce()
    signature = sign(app_secret, method, signed_path(url), timestamp, nonce, body)
    return {
        "X-App-Key": app_key,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": signature,
    }
