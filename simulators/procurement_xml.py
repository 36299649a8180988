"""SOAP 1.1 envelopes of the procurement stand-in: reading requests, writing answers.

Requests are parsed only with defusedxml, with DTDs, entities and external
references all forbidden: such a request is refused as INVALID_REQUEST, never
expanded. Answers are written by a tiny serializer over `Node` trees, every
element qualified in the service namespace (elementFormDefault="qualified").

Errors: `SoapFault` is the one exception here; it carries the fault side
(`Client` or `Server`) and the `<p:code>` of the fault's detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

__all__ = [
    "MAX_REQUEST_BYTES",
    "P_NS",
    "SOAP_ACTION_PREFIX",
    "SOAP_NS",
    "WSSE_NS",
    "Envelope",
    "Node",
    "SoapFault",
    "UsernameToken",
    "attribute",
    "invalid_request",
    "leaf",
    "parse_envelope",
    "render_answer",
    "render_fault",
    "soap_action",
    "split_tag",
]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
P_NS = "urn:gov:procurement:credit:2019"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP_ACTION_PREFIX = f"{P_NS}/"
MAX_REQUEST_BYTES = 1024 * 1024

_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n'


class SoapFault(Exception):
    """A request answered with a SOAP Fault: `side` is Client or Server, `code` the detail."""

    def __init__(self, side: str, code: str, message: str) -> None:
        super().__init__(message)
        self.side = side
        self.code = code
        self.message = message


def invalid_request(message: str) -> SoapFault:
    """The fault for anything malformed about a request (INVALID_REQUEST)."""
    return SoapFault("Client", "INVALID_REQUEST", message)


@dataclass(frozen=True)
class Node:
    """An element in the service namespace holding either text or child elements."""

    name: str
    children: tuple[Node, ...] = ()
    text: str | None = None


def leaf(name: str, value: object | None) -> Node:
    """An element holding `value` as text; None becomes an empty element."""
    return Node(name, text=None if value is None else str(value))


def _render(node: Node, out: list[str]) -> None:
    tag = f"p:{node.name}"
    if node.children:
        out.append(f"<{tag}>")
        for child in node.children:
            _render(child, out)
        out.append(f"</{tag}>")
    elif node.text:
        out.append(f"<{tag}>{escape(node.text)}</{tag}>")
    else:
        out.append(f"<{tag}/>")


def render_answer(node: Node) -> bytes:
    """A whole SOAP envelope whose Body holds `node`."""
    out = [
        _DECLARATION,
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:p="{P_NS}"><soap:Body>',
    ]
    _render(node, out)
    out.append("</soap:Body></soap:Envelope>")
    return "".join(out).encode()


def render_fault(fault: SoapFault) -> bytes:
    """A SOAP 1.1 Fault envelope; faultcode and faultstring are unqualified, as 1.1 has it."""
    return (
        f"{_DECLARATION}"
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:p="{P_NS}"><soap:Body><soap:Fault>'
        f"<faultcode>soap:{fault.side}</faultcode>"
        f"<faultstring>{escape(fault.message)}</faultstring>"
        f"<detail><p:code>{escape(fault.code)}</p:code></detail>"
        "</soap:Fault></soap:Body></soap:Envelope>"
    ).encode()


def attribute(value: str) -> str:
    """`value` quoted for an XML attribute."""
    return quoteattr(value)


@dataclass(frozen=True)
class UsernameToken:
    """The WS-Security UsernameToken of a request, as sent."""

    username: str
    password: str
    password_type: str | None


@dataclass(frozen=True)
class Envelope:
    """A parsed request: its token (None when absent) and the one element in its Body."""

    token: UsernameToken | None
    operation: Element


def parse_envelope(body: bytes) -> Envelope:
    """Parse a SOAP 1.1 request safely; `SoapFault` INVALID_REQUEST when it is not one."""
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise invalid_request("DTDs, entities and external references are refused") from None
    except ParseError:
        raise invalid_request("the request is not well-formed XML") from None
    if root.tag != f"{{{SOAP_NS}}}Envelope":
        raise invalid_request("the request is not a SOAP 1.1 Envelope")
    bodies = root.findall(f"{{{SOAP_NS}}}Body")
    if len(bodies) != 1 or len(bodies[0]) != 1:
        raise invalid_request("the SOAP Body must hold exactly one operation element")
    return Envelope(token=_token(root), operation=bodies[0][0])


def _token(root: Element) -> UsernameToken | None:
    path = f"{{{SOAP_NS}}}Header/{{{WSSE_NS}}}Security/{{{WSSE_NS}}}UsernameToken"
    token = root.find(path)
    if token is None:
        return None
    username = token.find(f"{{{WSSE_NS}}}Username")
    password = token.find(f"{{{WSSE_NS}}}Password")
    if username is None or password is None:
        return None
    return UsernameToken(
        username=(username.text or "").strip(),
        password=password.text or "",
        password_type=password.get("Type"),
    )


def split_tag(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag; the namespace is "" when unqualified."""
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


def soap_action(header: str | None) -> str | None:
    """The SOAPAction header without its surrounding quotes; None when absent."""
    if header is None:
        return None
    value = header.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    return value
