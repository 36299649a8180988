"""Hostile answers the procurement stand-in can be told to give, to test XML clients.

`POST /_sim/hostile {"kind": K, "count": N}` makes the next N answers to
`POST /ws/SupplierCreditService` hostile, whatever the request (they are still
counted as requests):

- `xxe`: a DOCTYPE declaring an external entity (file:///etc/passwd) used in a Name;
- `billion_laughs`: nested entity definitions that would expand to gigabytes;
- `malformed`: the normal answer cut off halfway;
- `oversize`: a well-formed answer of several MiB, streamed without Content-Length;
- `wrong_count`: the normal answer with its last repeated item left out;
- `none`: back to normal answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from simulators.procurement_xml import P_NS, SOAP_NS

__all__ = [
    "HOSTILE_KINDS",
    "OVERSIZE_BYTES",
    "HostilePlan",
    "billion_laughs_answer",
    "oversize_answer",
    "truncated",
    "xxe_answer",
]

HOSTILE_KINDS = ("xxe", "billion_laughs", "malformed", "oversize", "wrong_count", "none")
OVERSIZE_BYTES = 6 * 1024 * 1024


@dataclass
class HostilePlan:
    """How many of the coming answers are hostile, and how."""

    kind: str = "none"
    remaining: int = 0

    def arm(self, kind: str, count: int) -> None:
        """Make the next `count` answers of `kind`; ValueError for an unknown kind or count."""
        if kind not in HOSTILE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(HOSTILE_KINDS)}")
        if count < 0:
            raise ValueError("count must not be negative")
        self.kind, self.remaining = (kind, count) if kind != "none" else ("none", 0)

    def take(self) -> str | None:
        """The hostile kind for this answer (using one up), or None for a normal answer."""
        if self.remaining <= 0:
            return None
        self.remaining -= 1
        return self.kind


def _with_doctype(operation: str, entities: str, reference: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!DOCTYPE soap:Envelope [\n{entities}]>\n"
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:p="{P_NS}"><soap:Body>'
        f"<p:{operation}Response><p:Supplier>"
        "<p:CreditCode>91110000000000001H</p:CreditCode>"
        f"<p:Name>{reference}</p:Name>"
        "<p:RegistrationStatus>ACTIVE</p:RegistrationStatus>"
        f"</p:Supplier></p:{operation}Response>"
        "</soap:Body></soap:Envelope>"
    ).encode()


def xxe_answer(operation: str) -> bytes:
    """An answer whose Name is an external entity pointing at a local file."""
    return _with_doctype(operation, '<!ENTITY xxe SYSTEM "file:///etc/passwd">\n', "&xxe;")


def billion_laughs_answer(operation: str) -> bytes:
    """An answer whose Name is ten levels of ten-fold entity expansion (10^10 'lol's)."""
    levels = ['<!ENTITY lol0 "lol">']
    levels += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 11)]
    return _with_doctype(operation, "\n".join(levels) + "\n", "&lol10;")


def truncated(answer: bytes) -> bytes:
    """The first half of an answer: XML that stops mid-document."""
    return answer[: max(len(answer) // 2, 1)]


def oversize_answer(operation: str) -> Iterator[bytes]:
    """A well-formed answer of OVERSIZE_BYTES, in 64 KiB chunks."""
    yield (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_NS}" xmlns:p="{P_NS}"><soap:Body>'
        f"<p:{operation}Response><p:Supplier><p:CreditCode>91110000000000001H</p:CreditCode>"
        "<p:Name>"
    ).encode()
    chunk = b"A" * (64 * 1024)
    for _ in range(OVERSIZE_BYTES // len(chunk)):
        yield chunk
    yield (f"</p:Name></p:Supplier></p:{operation}Response></soap:Body></soap:Envelope>").encode()
