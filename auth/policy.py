"""The masking policy: which mask a role gets for a field, read from a versioned file.

The policy is data (`auth/policy.toml`, the DOMAIN.md masking table), read once at
start by `load_policy`, which refuses — with `PolicyError` naming the entry — a
file with an unknown role, field class, purpose, kind or mask, a missing
role × class cell, a mask that cannot apply to the class's values, a bad
`version`, or a cell that would hand a raw ID number to a role not allowed one.

The loaded `Policy` is frozen and answers from a table precomputed for every
(role, field class, purpose, kind), so `mask_for` is one dictionary lookup and
`apply` one mask function: both run for every field of every response.

Errors:
    PolicyError        the policy file is malformed (at load time)
    PolicyLookupError  `mask_for` was asked something the policy has no answer to
    masks.MaskError    `apply` was given a value that is not what its kind says
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import overload

from .masks import KINDS, MASKS_FOR_KIND, Kind, Mask, Pseudonymiser, apply_mask

__all__ = [
    "FIELD_CLASSES",
    "PURPOSES",
    "ROLES",
    "Policy",
    "PolicyError",
    "PolicyLookupError",
    "load_policy",
    "parse_policy",
]

ROLES = ("hr_officer", "procurement_officer", "auditor", "credit_admin", "data_subject")
PURPOSES = ("CADRE_SELECTION", "HONOURS", "PROCUREMENT_ELIGIBILITY", "AUDIT", "SELF_CHECK")
FIELD_CLASSES = (
    "person_id_number",
    "person_name",
    "birth_date",
    "legal_rep_name",
    "legal_rep_id",
    "civil_servant",
    "investigations",
    "free_text",
    "organisation",
)

_VERSION = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.[1-9][0-9]*")
_TOP_LEVEL = frozenset({"version", "raw_id_numbers", "restricted_details", "fields"})
_CELL_KEYS = frozenset({"mask", "purposes", "otherwise"})

_Key = tuple[str, str, str, str | None]


class PolicyError(ValueError):
    """The policy file is malformed; `entry` names the offending entry (dotted path)."""

    def __init__(self, source: str, entry: str, reason: str) -> None:
        super().__init__(f"{source}: {entry}: {reason}" if entry else f"{source}: {reason}")
        self.source = source
        self.entry = entry
        self.reason = reason


class PolicyLookupError(LookupError):
    """The policy knows no answer: unknown role, class, purpose or kind, or a kind is needed."""


@dataclass(frozen=True)
class Policy:
    """A loaded, validated masking policy; build it with `load_policy` or `parse_policy`."""

    version: str
    restricted_details: frozenset[str]
    pseudonymiser: Pseudonymiser = field(repr=False)
    _masks: Mapping[_Key, Mask] = field(repr=False)
    _kinds: Mapping[str, frozenset[str]] = field(repr=False)

    def mask_for(
        self,
        role: str,
        field_class: str,
        purpose: str,
        kind: Kind | None = None,
        *,
        restricted: bool = False,
    ) -> Mask:
        """The mask `role`, acting for `purpose`, gets for a `field_class` value.

        `kind` picks the values of that kind inside the class's rows (a person's ID
        number inside a civil-servant record follows the ID-number row); without
        it the answer is the class's one mask, and asking a class whose masks
        differ by kind for this role raises `PolicyLookupError` rather than guess.
        `restricted=True` is for a detail field of a RESTRICTED record: HIDDEN
        unless the role sees such details (`shows_restricted_details`).
        """
        try:
            mask = self._masks[(role, field_class, purpose, kind)]
        except KeyError:
            raise self._why_not(role, field_class, purpose, kind) from None
        if restricted and role not in self.restricted_details:
            return Mask.HIDDEN
        return mask

    def hides(self, role: str, field_class: str, purpose: str) -> bool:
        """Whether every value of `field_class` is HIDDEN from `role` for `purpose`.

        Lets a resolver skip fetching what it could never show.
        """
        kinds = self._kinds.get(field_class, frozenset())
        masks = [self._masks.get((role, field_class, purpose, kind)) for kind in kinds]
        if not masks or None in masks:
            raise self._why_not(role, field_class, purpose, None)
        return all(mask is Mask.HIDDEN for mask in masks)

    def shows_restricted_details(self, role: str) -> bool:
        """Whether `role` sees the details of a RESTRICTED record (else it only decides)."""
        if role not in ROLES:
            raise PolicyLookupError(f"unknown role {role!r}")
        return role in self.restricted_details

    @overload
    def apply(
        self, mask: Mask, value: str | None, kind: Kind, subject: str | None = None
    ) -> str | None: ...

    @overload
    def apply(
        self, mask: Mask, value: dt.date | str | None, kind: Kind, subject: str | None = None
    ) -> dt.date | str | None: ...

    def apply(
        self, mask: Mask, value: dt.date | str | None, kind: Kind, subject: str | None = None
    ) -> dt.date | str | None:
        """`value` as `mask` shows it (see `masks.apply_mask`); None for HIDDEN.

        `subject` is the holder's ID number when a name is pseudonymised, so the
        name's token is that person's token.
        """
        return apply_mask(mask, value, kind, self.pseudonymiser, subject)

    def _why_not(
        self, role: str, field_class: str, purpose: str, kind: str | None
    ) -> PolicyLookupError:
        if role not in ROLES:
            return PolicyLookupError(f"unknown role {role!r}")
        if field_class not in self._kinds:
            return PolicyLookupError(f"unknown field class {field_class!r}")
        if purpose not in PURPOSES:
            return PolicyLookupError(f"unknown purpose {purpose!r}")
        kinds = ", ".join(sorted(self._kinds[field_class]))
        if kind is None:
            return PolicyLookupError(
                f"{field_class} for {role} is masked by kind: ask with one of {kinds}"
            )
        return PolicyLookupError(f"{field_class} carries no {kind!r} values (only {kinds})")


def load_policy(pseudonym_key: bytes, path: str | Path | None = None) -> Policy:
    """Read and validate the policy file: `path`, or the one shipped in this package."""
    if path is None:
        source = "auth/policy.toml"
        text = resources.files("auth").joinpath("policy.toml").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PolicyError(source, "", f"cannot be read ({exc.__class__.__name__})") from None
    return parse_policy(text, pseudonym_key, source=source)


def parse_policy(text: str, pseudonym_key: bytes, *, source: str = "policy") -> Policy:
    """Validate a policy document given as TOML text; `source` prefixes every error."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, "", f"not valid TOML ({exc})") from None
    return _Reader(source).policy(document, Pseudonymiser(pseudonym_key))


@dataclass(frozen=True)
class _Cell:
    """One role × class entry of the file."""

    mask: Mask
    by_kind: Mapping[str, Mask]
    purposes: frozenset[str] | None
    otherwise: Mask

    def resolve(self, purpose: str, kind: str | None) -> Mask:
        if self.purposes is not None and purpose not in self.purposes:
            return self.otherwise
        return self.mask if kind is None else self.by_kind.get(kind, self.mask)


@dataclass(frozen=True)
class _Reader:
    """Walks the TOML document, naming every entry it refuses."""

    source: str

    def fail(self, entry: str, reason: str) -> PolicyError:
        return PolicyError(self.source, entry, reason)

    def policy(self, document: Mapping[str, object], pseudonymiser: Pseudonymiser) -> Policy:
        for key in sorted(document.keys() - _TOP_LEVEL):
            raise self.fail(key, "unknown entry")
        for key in sorted(_TOP_LEVEL - document.keys()):
            raise self.fail(key, "missing")
        version = self.version(document["version"])
        raw_id_roles = self.roles(document["raw_id_numbers"], "raw_id_numbers")
        restricted = self.roles(document["restricted_details"], "restricted_details")
        classes = self.table(document["fields"], "fields")
        for name in sorted(classes.keys() - set(FIELD_CLASSES)):
            raise self.fail(f"fields.{name}", "unknown field class")
        masks: dict[_Key, Mask] = {}
        kinds_of: dict[str, frozenset[str]] = {}
        for name in FIELD_CLASSES:
            if name not in classes:
                raise self.fail(f"fields.{name}", "missing field class")
            kinds_of[name] = self.field_class(name, classes[name], raw_id_roles, masks)
        return Policy(
            version=version,
            restricted_details=restricted,
            pseudonymiser=pseudonymiser,
            _masks=MappingProxyType(masks),
            _kinds=MappingProxyType(kinds_of),
        )

    def field_class(
        self, name: str, raw: object, raw_id_roles: frozenset[str], masks: dict[_Key, Mask]
    ) -> frozenset[str]:
        spec = self.table(raw, f"fields.{name}")
        kinds = self.kinds(spec.get("kinds"), f"fields.{name}.kinds")
        for key in sorted(spec.keys() - set(ROLES) - {"kinds"}):
            raise self.fail(f"fields.{name}.{key}", "unknown role")
        for role in ROLES:
            entry = f"fields.{name}.{role}"
            if role not in spec:
                raise self.fail(entry, "missing cell")
            cell = self.cell(spec[role], entry, kinds)
            for purpose in PURPOSES:
                by_kind = {kind: cell.resolve(purpose, kind) for kind in kinds}
                if by_kind.get("id_number") is Mask.FULL and role not in raw_id_roles:
                    raise self.fail(entry, f"would give {role} raw ID numbers (see raw_id_numbers)")
                for kind, mask in by_kind.items():
                    masks[(role, name, purpose, kind)] = mask
                # Without a kind there is one answer only when every kind shares it.
                if len(uniform := set(by_kind.values())) == 1:
                    masks[(role, name, purpose, None)] = uniform.pop()
        return kinds

    def cell(self, raw: object, entry: str, kinds: frozenset[str]) -> _Cell:
        if isinstance(raw, str):
            mask = self.mask(raw, entry, kinds)
            return _Cell(mask=mask, by_kind={}, purposes=None, otherwise=Mask.HIDDEN)
        spec = self.table(raw, entry, "a mask name or a table")
        for key in sorted(spec.keys() - _CELL_KEYS - KINDS):
            raise self.fail(f"{entry}.{key}", "unknown key")
        for key in sorted((spec.keys() & KINDS) - kinds):
            raise self.fail(f"{entry}.{key}", f"this field class carries no {key} values")
        if "mask" not in spec:
            raise self.fail(f"{entry}.mask", "missing")
        by_kind = {
            kind: self.mask(spec[kind], f"{entry}.{kind}", frozenset({kind}))
            for kind in spec.keys() & kinds
        }
        mask = self.mask(spec["mask"], f"{entry}.mask", kinds - by_kind.keys())
        purposes: frozenset[str] | None = None
        otherwise = Mask.HIDDEN
        if "purposes" in spec:
            purposes = self.purposes(spec["purposes"], f"{entry}.purposes")
            if "otherwise" in spec:
                otherwise = self.mask(spec["otherwise"], f"{entry}.otherwise", kinds)
        elif "otherwise" in spec:
            raise self.fail(f"{entry}.otherwise", "only meaningful with purposes")
        return _Cell(mask=mask, by_kind=by_kind, purposes=purposes, otherwise=otherwise)

    def mask(self, raw: object, entry: str, kinds: frozenset[str]) -> Mask:
        if not isinstance(raw, str) or raw not in Mask.__members__:
            names = ", ".join(Mask.__members__)
            raise self.fail(entry, f"unknown mask {raw!r} (one of {names})")
        mask = Mask[raw]
        for kind in sorted(kinds):
            if mask not in MASKS_FOR_KIND[kind]:
                raise self.fail(entry, f"{mask} cannot mask {kind} values")
        return mask

    def version(self, raw: object) -> str:
        match = _VERSION.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            raise self.fail("version", f"expected 'YYYY-MM-DD.N', got {raw!r}")
        try:
            dt.date.fromisoformat(match.group(1))
        except ValueError:
            raise self.fail("version", f"{raw!r} does not start with a calendar date") from None
        return match.group(0)

    def roles(self, raw: object, entry: str) -> frozenset[str]:
        return self.names(raw, entry, ROLES, "role", allow_empty=True)

    def purposes(self, raw: object, entry: str) -> frozenset[str]:
        return self.names(raw, entry, PURPOSES, "purpose", allow_empty=False)

    def kinds(self, raw: object, entry: str) -> frozenset[str]:
        if raw is None:
            raise self.fail(entry, "missing")
        return self.names(raw, entry, tuple(sorted(KINDS)), "kind", allow_empty=False)

    def names(
        self, raw: object, entry: str, known: tuple[str, ...], what: str, *, allow_empty: bool
    ) -> frozenset[str]:
        if not isinstance(raw, list) or not (raw or allow_empty):
            raise self.fail(entry, f"expected a{'' if allow_empty else ' non-empty'} list")
        for item in raw:
            if item not in known:
                raise self.fail(entry, f"unknown {what} {item!r} (one of {', '.join(known)})")
        if len(set(raw)) != len(raw):
            raise self.fail(entry, "lists an entry twice")
        return frozenset(raw)

    def table(self, raw: object, entry: str, expected: str = "a table") -> dict[str, object]:
        if not isinstance(raw, dict):
            raise self.fail(entry, f"expected {expected}")
        return raw
