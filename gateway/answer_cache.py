"""Level 3 of the cache: final masked answers, re-issued without running GraphQL.

ARCHITECTURE.md allows a level 3 "keyed by (acting role, caller unit where the
policy uses it, policy version, document hash, variables), filled by the same
masking code". Here the key is an HMAC (pseudonym key, its own label) of

    the caller's roles in token order, unit and ID number (all of them, so
    the acting role and a data subject's "self" come out the same), the
    policy and rule-set versions, today's date (the default as-of date) and
    the request in a canonical form: its document parsed and printed (so
    spaces, commas and comments do not count), its variables and the rest of
    the body as sorted JSON

— never the caller's own name (`sub`): two HR officers of one unit share an
entry, and nothing in a kept answer says who asked (`accessHistory`, the only
field that would, reads the access log and is therefore never kept).

What is kept: an answer the GraphQL endpoint made — masked there, by the
policy — that had no errors, was a query, and rested on cached data only
(`schema.basis.AnswerBasis`: no platform asked, no access log, registry,
probe or scan read). It lives until the first of its entries stops being
usable (time to live, record end, freshness limit) and carries their eviction
tags, in this process's memory only (never Redis: it holds rendered personal
data), in a store of its own (`[cache] max_answers`, LRU) that every eviction
of the process's tier reaches, so a change feed, an objection or another
replica's eviction drops it with the records it was made of. A put is refused
when one of those tags was evicted after the request began. The store is
bounded by bytes too (`max_answer_bytes`, `KeptAnswer.size`), and an answer
above `max_answer_entry_bytes` is not kept at all.

Two spellings of one request share an entry; the bytes kept are still those
the endpoint sends for either, since the answer is made from the parsed
document (field order and aliases included), never from its text.

A kept answer is never served as it is: every hit is a new answer, with its
own request id, new report ids (its report rows are stored anew under them,
with this caller as actor), the generation time and cache ages of now, and its
own access-log entry, durable before the bytes leave — no log, no answer.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from graphql import GraphQLError, OperationType, get_operation_ast, parse, print_ast
from starlette.types import ASGIApp, Receive, Scope, Send

from auth.access_log import AccessLog
from auth.access_log_entry import ReportRow
from auth.policy import Policy
from auth.principal import Principal
from connectors.cache import Stored
from connectors.cache_backends import MemoryCache
from connectors.cache_rules import CacheKeys
from schema.basis import AnswerBasis, Slot, SlotKind
from schema.disclosure import Disclosure
from schema.vet import new_report_id

from .graphql_http import GraphQLRequest
from .recording import fields_returned, record_access, unrecorded_answer
from .refusals import encode_answer, request_id

__all__ = [
    "AnswerCache",
    "KeptAnswer",
    "Question",
    "answer_size",
    "serve_kept_answers",
    "single_query",
]

REPORT_ROW_BYTES = 512  # a kept report row's Python objects, roughly
SLOT_BYTES = 128  # a slot's
PRINTED_DOCUMENTS = 1_024  # documents remembered parsed and printed, when no longer than:
PRINTED_DOCUMENT_CHARS = 16_384  # (characters) bigger ones are printed each time
_Template = tuple[tuple[bytes, ...], tuple[Slot, ...]]  # segments, and the slots between


@dataclass(frozen=True, slots=True)
class KeptAnswer:
    """An answer as level 3 keeps it, with what its access-log entry needs.

    The answer is kept as its JSON bytes cut at every value made anew per answer
    (`fills[i]` goes between `segments[i]` and `segments[i + 1]`), so re-issuing
    it is a join, not a parse and a re-encoding."""

    segments: tuple[bytes, ...]
    fills: tuple[Slot, ...]
    fields: tuple[str, ...]  # `fields_returned` of its data
    subjects: frozenset[str]
    purposes: frozenset[str]
    roles: frozenset[str]
    reports: tuple[ReportRow, ...]
    rule_set_version: str | None

    @property
    def size(self) -> int:
        """What it holds, in bytes: its JSON, plus an allowance per report row and slot."""
        return (
            sum(len(segment) for segment in self.segments)
            + REPORT_ROW_BYTES * len(self.reports)
            + SLOT_BYTES * len(self.fills)
        )


@dataclass(frozen=True, slots=True)
class Question:
    """A POSTed request and the key of its answer (its body's bytes are hashed)."""

    key: str
    asked: GraphQLRequest


class AnswerCache:
    """The answers kept in this process's memory; see the module docstring."""

    def __init__(
        self,
        memory: MemoryCache,
        keys: CacheKeys,
        *,
        policy: Policy,
        rule_set_version: str,
        clock: Callable[[], dt.datetime],
        max_entry_bytes: int = 2**20,
    ) -> None:
        self._memory = memory
        self._keys = keys
        self._policy = policy
        self._rule_set_version = rule_set_version
        self._clock = clock
        self._max_entry_bytes = max_entry_bytes
        self._printed = functools.lru_cache(maxsize=PRINTED_DOCUMENTS)(_printed)
        self.hits = 0
        self.stored = 0
        self.too_large = 0

    def question(self, principal: Principal | None, asked: GraphQLRequest) -> Question:
        """The key for `asked` by `principal` (see the module docstring)."""
        caller = (
            ("-",)
            if principal is None
            else (",".join(principal.roles), principal.unit or "", principal.id_number or "")
        )
        asker = "\x00".join(
            (
                *caller,
                self._policy.version,
                self._rule_set_version,
                self._clock().date().isoformat(),
            )
        )
        return Question(self._keys.answer(asker, self._canonical(asked)), asked)

    def _canonical(self, asked: GraphQLRequest) -> bytes:
        """The request in a form its spellings share: the document parsed and
        printed, the rest as sorted compact JSON."""
        query = asked.query
        printed = self._printed(query) if len(query) <= PRINTED_DOCUMENT_CHARS else _printed(query)
        canonical = {
            "query": printed,
            "operationName": asked.operation_name,
            "variables": asked.variables,
            "extensions": asked.extensions,
        }
        return json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()

    def counters(self) -> dict[str, int]:
        """For `/readyz`: answers re-issued, kept, held now (and their bytes), and
        answers too large to keep."""
        return {
            "answer_hits": self.hits,
            "answers_kept": self.stored,
            "answers": len(self._memory),
            "answer_bytes": self._memory.bytes,
            "answers_too_large": self.too_large,
        }

    async def lookup(self, question: Question) -> KeptAnswer | None:
        (stored,) = await self._memory.get_many([question.key], self._clock())
        if stored is None or not isinstance(stored.value, KeptAnswer):
            return None
        self.hits += 1
        return stored.value

    async def keep(
        self,
        question: Question,
        answer: dict[str, Any],
        disclosure: Disclosure,
        basis: AnswerBasis,
        *,
        asked_at: dt.datetime,
    ) -> None:
        """Keep `answer` (as it left, logged) when it may be: see the module docstring."""
        until = basis.usable_until
        if until is None or basis.live or answer.get("errors") or disclosure.events:
            return
        if not single_query(question.asked):
            return
        segments, fills = _cut(answer, basis.slots)
        kept = KeptAnswer(
            segments=segments,
            fills=fills,
            fields=tuple(sorted(set(fields_returned(answer["data"])))),
            subjects=frozenset(disclosure.subjects),
            purposes=frozenset(disclosure.purposes),
            roles=frozenset(disclosure.roles),
            reports=tuple(disclosure.reports),
            rule_set_version=disclosure.rule_set_version,
        )
        if kept.size > self._max_entry_bytes:
            self.too_large += 1
            return
        stored = Stored(
            key=question.key,
            value=kept,
            fetched_at=asked_at,
            fresh_until=until,
            expires_at=until,
            tags=tuple(sorted(basis.tags)),
        )
        await self._memory.put_many([stored], self._clock(), asked_at)
        self.stored += 1

    def reissue(
        self, kept: KeptAnswer, principal: Principal | None, request_id: str
    ) -> tuple[bytes, Disclosure]:
        """A new answer from a kept one, and the disclosure its log entry records."""
        now = self._clock()
        report_ids = {row.report_id: new_report_id() for row in kept.reports}
        values = [_value(fill, now, report_ids, request_id) for fill in kept.fills]
        body = b"".join(part for pair in zip(kept.segments, values, strict=False) for part in pair)
        disclosure = Disclosure(
            principal=principal,
            policy=self._policy,
            subjects=set(kept.subjects),
            purposes=set(kept.purposes),
            roles=set(kept.roles),
            rule_set_version=kept.rule_set_version,
        )
        disclosure.reports = [
            replace(row, report_id=report_ids[row.report_id], actor=disclosure.actor)
            for row in kept.reports
        ]
        return body + kept.segments[-1], disclosure


def answer_size(value: object) -> int:
    """The bytes a kept answer holds (the answer store's weight); 0 for anything else."""
    return value.size if isinstance(value, KeptAnswer) else 0


def _printed(query: str) -> str:
    """The document parsed and printed; a document that does not parse, as it is
    (the endpoint refuses it, and such an answer is never kept)."""
    try:
        return print_ast(parse(query, no_location=True))
    except GraphQLError:
        return query


def single_query(asked: GraphQLRequest) -> bool:
    """Whether the request runs ONE query operation (a mutation: never kept)."""
    try:
        operation = get_operation_ast(parse(asked.query, no_location=True), asked.operation_name)
    except GraphQLError:
        return False
    return operation is not None and operation.operation is OperationType.QUERY


def _cut(
    answer: dict[str, Any], slots: Sequence[Slot]
) -> tuple[tuple[bytes, ...], tuple[Slot, ...]]:
    """The answer's JSON cut at its slots and at its request id (see `KeptAnswer`).

    Each value to cut at is replaced by a marker no answer can contain (random),
    the copy encoded as the endpoint encodes, and the text split at the markers."""
    marker = secrets.token_hex(16)
    copy = json.loads(json.dumps(answer))
    slotted: list[Slot] = []
    for slot in slots:
        *parents, last = slot.path
        holder = copy["data"]
        for step in parents:
            holder = holder[step]
        if holder[last] is not None:  # a null (masked) value stays null
            holder[last] = f"{marker}:{len(slotted)}"
            slotted.append(slot)
    copy["extensions"]["requestId"] = f"{marker}:{len(slotted)}"
    slotted.append(Slot((), SlotKind.REQUEST_ID))
    parts = re.split(f'"{marker}:([0-9]+)"', encode_answer(copy))
    segments = tuple(part.encode() for part in parts[0::2])
    fills = tuple(slotted[int(index)] for index in parts[1::2])
    return segments, fills


def _value(slot: Slot, now: dt.datetime, report_ids: dict[str, str], request_id: str) -> bytes:
    """The JSON of a slot's value in a new answer made `now`. Ids are hex and times
    ISO 8601 (nothing to escape); an age is a float, written as `json` writes one."""
    if slot.kind is SlotKind.REPORT_ID:
        return b'"%s"' % report_ids[slot.report_id].encode()
    if slot.kind is SlotKind.NOW:
        return b'"%s"' % (now - dt.timedelta(seconds=slot.offset_s)).isoformat().encode()
    if slot.kind is SlotKind.REQUEST_ID:
        return b'"%s"' % request_id.encode()
    return repr(max((now - (slot.since or now)).total_seconds(), 0.0)).encode()


def serve_kept_answers(
    app: ASGIApp, answers: AnswerCache, access_log: Callable[[], AccessLog | None]
) -> ASGIApp:
    """ASGI wrapper in front of the GraphQL endpoint: a kept answer is re-issued
    and logged here; anything else goes on to the endpoint, with the request's
    `Question` in `scope["state"]["question"]` so the endpoint can keep its answer.
    """

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        state = scope["state"]
        principal: Principal | None = state.get("principal")
        question = answers.question(principal, state["graphql"])
        kept = await answers.lookup(question)
        log = access_log()
        if kept is None or log is None:
            state["question"] = question
            await app(scope, receive, send)
            return
        rid = request_id(scope)
        answer, disclosure = answers.reissue(kept, principal, rid)
        if not await record_access(
            log, disclosure, request_id=rid, fields=kept.fields, error_codes=()
        ):
            answer = encode_answer(unrecorded_answer(rid)).encode()
        # The media type the request asked for, as the endpoint would answer.
        headers = [
            (b"content-type", str(state["media_type"]).encode()),
            (b"content-length", str(len(answer)).encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return endpoint
