"""A small SOAP 1.1 client: WS-Security envelopes out, safely parsed answers in.

`call` posts one document/literal request and returns the `OPERATIONResponse`
element of the answer, or raises the matching `SourceError`:

    connect error, HTTP 502/503/504,     SourceUnavailable (retryable)
    soap:Server fault (UNAVAILABLE)
    HTTP 429                             SourceRateLimited (retryable)
    no answer within the attempt         SourceTimeout
    AUTH_FAILED fault, HTTP 401/403      SourceAuthError
    any other Client fault, a DTD or     SourceProtocolError
    entity, malformed or oversized XML,
    an unexpected response element

Answers are distrusted: they are read only up to `max_answer_bytes` (streamed,
so an endless answer is cut off rather than buffered), without content
encodings (a small compressed body can inflate without bound), and parsed only
by defusedxml with DTDs, entities and external references forbidden, so XXE and
billion-laughs answers are refused before anything is expanded. Elements are
matched by namespace URI, never by prefix.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from pydantic import SecretStr

from .errors import (
    SourceAuthError,
    SourceError,
    SourceProtocolError,
    SourceRateLimited,
    SourceTimeout,
    SourceUnavailable,
)
from .http_body import read_bounded, retry_after_s

__all__ = ["MAX_ANSWER_BYTES", "SOAP_NS", "WSSE_NS", "SoapEndpoint", "call", "envelope"]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PLAIN_TEXT_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)
MAX_ANSWER_BYTES = 4 * 1024 * 1024

# Fault codes the service documents; anything else is named "unknown" in messages,
# so text chosen by the server never reaches a caller.
_CLIENT_FAULTS = frozenset({"TOO_MANY_CODES", "INVALID_CODE", "INVALID_REQUEST"})


@dataclass(frozen=True)
class SoapEndpoint:
    """Where and as whom to call one SOAP service."""

    platform: str
    url: str
    namespace: str
    username: str
    password: SecretStr
    max_answer_bytes: int = MAX_ANSWER_BYTES


def envelope(endpoint: SoapEndpoint, operation: str, arguments: Sequence[tuple[str, str]]) -> bytes:
    """A SOAP 1.1 request: UsernameToken (PasswordText) header, `<p:OPERATION>` body."""
    inner = "".join(f"<p:{name}>{escape(value)}</p:{name}>" for name, value in arguments)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:p="{endpoint.namespace}">'
        f'<soap:Header><wsse:Security xmlns:wsse="{WSSE_NS}" soap:mustUnderstand="1">'
        f"<wsse:UsernameToken><wsse:Username>{escape(endpoint.username)}</wsse:Username>"
        f'<wsse:Password Type="{PLAIN_TEXT_TYPE}">'
        f"{escape(endpoint.password.get_secret_value())}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></soap:Header>"
        f"<soap:Body><p:{operation}>{inner}</p:{operation}></soap:Body></soap:Envelope>"
    ).encode()


async def call(
    client: httpx.AsyncClient,
    endpoint: SoapEndpoint,
    operation: str,
    arguments: Sequence[tuple[str, str]],
    timeout_s: float,
) -> Element:
    """Make one request and return its `<p:OPERATIONResponse>` element."""
    platform = endpoint.platform
    status, headers, raw = await _exchange(
        client, endpoint, operation, envelope(endpoint, operation, arguments), timeout_s
    )
    if status == 429:
        wait = retry_after_s(headers.get("retry-after"), time.time())
        raise SourceRateLimited(platform, "rate limited (HTTP 429)", wait)
    if status in (401, 403):
        raise SourceAuthError(platform, f"credentials refused (HTTP {status})")
    if status > 500:
        raise SourceUnavailable(platform, f"server error (HTTP {status})")
    body = _body(platform, raw, server_error=status == 500)
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    if fault is not None:
        raise _translate(platform, endpoint.namespace, fault)
    if status != 200:
        raise _unexpected_status(platform, status)
    if len(body) != 1 or body[0].tag != f"{{{endpoint.namespace}}}{operation}Response":
        raise SourceProtocolError(platform, f"the answer is not a {operation}Response")
    return body[0]


async def _exchange(
    client: httpx.AsyncClient,
    endpoint: SoapEndpoint,
    operation: str,
    request: bytes,
    timeout_s: float,
) -> tuple[int, httpx.Headers, bytes]:
    """POST `request`; (status, headers, body read up to the size limit)."""
    platform, limit = endpoint.platform, endpoint.max_answer_bytes
    headers = {
        "Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": f'"{endpoint.namespace}/{operation}"',
        "Accept-Encoding": "identity",
    }
    try:
        # httpx bounds each network operation; this bounds the exchange as a
        # whole, so a server trickling bytes cannot hold the attempt open.
        async with asyncio.timeout(timeout_s):
            stream = client.stream(
                "POST", endpoint.url, content=request, headers=headers, timeout=timeout_s
            )
            async with stream as response:
                encoding = response.headers.get("content-encoding", "identity").strip().lower()
                if encoding not in ("", "identity"):
                    raise SourceProtocolError(platform, "the answer is compressed; refused")
                raw = await read_bounded(platform, response, limit, raw=True)
                return response.status_code, response.headers, raw
    except TimeoutError:
        raise SourceTimeout(platform, f"no answer within {timeout_s:g} s") from None
    except httpx.ConnectTimeout:
        raise SourceUnavailable(platform, "could not connect in time") from None
    except httpx.TimeoutException:
        raise SourceTimeout(platform, f"no answer within {timeout_s:g} s") from None
    except httpx.TransportError as exc:
        # Connect errors and dropped connections; the type names no URL.
        raise SourceUnavailable(platform, f"unreachable ({type(exc).__name__})") from None


def _body(platform: str, raw: bytes, *, server_error: bool) -> Element:
    """The SOAP Body of a safely parsed answer.

    A `server_error` (HTTP 500) that is no SOAP envelope at all, such as a
    proxy's error page, is the server failing; hostile XML is refused as a
    protocol error whatever the status.
    """
    try:
        root = fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise SourceProtocolError(
            platform, "the answer declares a DTD or entities; refused unexpanded"
        ) from None
    except ParseError:
        root = None
    body = None if root is None else root.find(f"{{{SOAP_NS}}}Body")
    if root is None or root.tag != f"{{{SOAP_NS}}}Envelope" or body is None:
        if server_error:
            raise SourceUnavailable(platform, "server error without a SOAP fault")
        if root is None:
            raise SourceProtocolError(platform, "the answer is not well-formed XML")
        raise SourceProtocolError(platform, "the answer is not a SOAP 1.1 envelope")
    return body


def _translate(platform: str, namespace: str, fault: Element) -> SourceError:
    """The error for a SOAP Fault: by its detail code first, then by its side."""
    # SOAP 1.1 leaves faultcode unqualified; some servers qualify it all the same.
    faultcode = fault.findtext("faultcode") or fault.findtext(f"{{{SOAP_NS}}}faultcode") or ""
    # "soap:Client.Authentication" -> "Client"; the prefix itself means nothing.
    side = faultcode.strip().rpartition(":")[2].partition(".")[0]
    detail = fault.find("detail")
    if detail is None:
        detail = fault.find(f"{{{SOAP_NS}}}detail")
    code = "" if detail is None else (detail.findtext(f".//{{{namespace}}}code") or "").strip()
    if code == "AUTH_FAILED":
        return SourceAuthError(platform, "credentials refused (AUTH_FAILED)")
    if code in _CLIENT_FAULTS:
        return SourceProtocolError(platform, f"the request was refused ({code})")
    if code == "UNAVAILABLE":
        return SourceUnavailable(platform, "server fault (UNAVAILABLE)")
    if side == "Server":
        return SourceUnavailable(platform, "server fault")
    return SourceProtocolError(platform, "the request was refused (unknown fault)")


def _unexpected_status(platform: str, status: int) -> SourceError:
    if status >= 500:
        return SourceUnavailable(platform, f"server error (HTTP {status})")
    return SourceProtocolError(platform, f"unexpected HTTP {status}")
