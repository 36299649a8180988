"""A small, explicit codec for cached values: tagged JSON over registered types only.

Values leave the process (to Redis) as bytes and must come back exactly as they
were: dates as `date`, money as `Decimal`, tuples as tuples, enums as members.
JSON alone cannot say which, so every value that is not plain JSON is written
as a one-key object naming its kind:

    None, bool, int, str, finite float   as JSON
    list                                 a JSON array
    tuple                                {"$t": [...]}
    frozenset                            {"$s": [...]}
    Decimal                              {"$d": "1234.50"}
    datetime                             {"$T": "2025-01-10T09:00:00+08:00"}, with "v": the
                                         offset's name when it has one; a tz database
                                         zone as wall time, key and fold: {"$Z":
                                         "2025-01-10T09:00:00", "v": ["Asia/Shanghai", 0]}
    date                                 {"$D": "2025-01-10"}
    a registered enum                    {"$e": "Verdict", "v": "CLEAR"}
    a registered frozen dataclass        {"$c": "CreditRecord", "v": [field values in order]}

Decoding builds only the types registered with the `Codec` — never pickle, never
an arbitrary class named by the data — so even bytes that were not ours could
at worst be refused. Anything else (a dict, an unregistered class, NaN) is
refused with `CodecError` on the way in, so an unserialisable value fails when
it is stored, not when another replica reads it.

`fingerprint` changes whenever a registered type gains, loses or reorders a
field or an enum member: it goes into the cache keys, so a replica running a
newer record model never reads entries written by an older one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
import json
import math
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from . import records

__all__ = ["RECORD_TYPES", "Codec", "CodecError"]

# Every type a level-1 entry can hold (the connectors' normalised records).
RECORD_TYPES: tuple[type, ...] = tuple(
    getattr(records, name)
    for name in records.__all__
    if dataclasses.is_dataclass(getattr(records, name))
    or isinstance(getattr(records, name), enum.EnumMeta)
)

_JSON = dict[str, Any] | list[Any] | str | int | float | bool | None


class CodecError(ValueError):
    """A value cannot be encoded, or bytes do not decode to registered types."""


class Codec:
    """Encodes registered dataclasses and enums (and the plain values inside them)."""

    def __init__(self, types: Iterable[type] = RECORD_TYPES) -> None:
        self._classes: dict[str, type] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        shape = hashlib.sha256()
        for cls in types:
            name = cls.__name__
            if name in self._classes and self._classes[name] is not cls:
                raise ValueError(f"two registered types are named {name}")
            self._classes[name] = cls
            if isinstance(cls, enum.EnumMeta):
                members = [str(member.value) for member in cls]  # type: ignore[var-annotated]
                shape.update(f"{name}={','.join(members)};".encode())
            elif dataclasses.is_dataclass(cls):
                fields = tuple(field.name for field in dataclasses.fields(cls) if field.init)
                self._fields[cls] = fields
                shape.update(f"{name}({','.join(fields)});".encode())
            else:
                raise ValueError(f"{name} is neither a dataclass nor an enum")
        self.fingerprint = shape.hexdigest()[:8]

    def encode(self, value: object) -> bytes:
        """The value as compact UTF-8 JSON; `CodecError` for anything unregistered."""
        return json.dumps(
            self._to_json(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode()

    def decode(self, data: bytes) -> Any:
        """The value `encode` was given; `CodecError` for anything else."""
        try:
            return self._from_json(json.loads(data))
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            if isinstance(exc, CodecError):
                raise
            raise CodecError(f"not a cached value ({type(exc).__name__})") from None

    def _to_json(self, value: object) -> _JSON:
        # bool before int (a bool is an int), datetime before date (likewise).
        if value is None or isinstance(value, bool | int | str):
            return value
        if isinstance(value, float):
            if not math.isfinite(value):
                raise CodecError("a float that is not finite cannot be cached")
            return value
        if isinstance(value, enum.Enum):
            self._registered(type(value))
            return {"$e": type(value).__name__, "v": value.value}
        if isinstance(value, tuple | list | frozenset):
            items = [self._to_json(item) for item in value]
            if isinstance(value, list):
                return items
            return {"$t": items} if isinstance(value, tuple) else {"$s": items}
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise CodecError("a Decimal that is not finite cannot be cached")
            return {"$d": str(value)}
        if isinstance(value, dt.datetime):
            return _timestamp(value)
        if isinstance(value, dt.date):
            return {"$D": value.isoformat()}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            cls = self._registered(type(value))
            return {
                "$c": cls.__name__,
                "v": [self._to_json(getattr(value, f)) for f in self._fields[cls]],
            }
        raise CodecError(f"values of type {type(value).__name__} cannot be cached")

    def _registered(self, cls: type) -> type:
        if self._classes.get(cls.__name__) is not cls:
            raise CodecError(f"{cls.__name__} is not a registered type")
        return cls

    def _from_json(self, data: object) -> Any:
        if data is None or isinstance(data, bool | int | float | str):
            return data
        if isinstance(data, list):
            return [self._from_json(item) for item in data]
        if not isinstance(data, dict):
            raise CodecError("not a cached value")
        if len(data) == 1:
            ((tag, body),) = data.items()
            return self._tagged(tag, body)
        if len(data) == 2 and "v" in data:
            if "$e" in data:
                return self._member(data["$e"], data["v"])
            if "$c" in data:
                return self._instance(data["$c"], data["v"])
            if "$T" in data or "$Z" in data:
                return _zoned(data)
        raise CodecError("an object without a known tag")

    def _tagged(self, tag: str, body: object) -> Any:
        if tag in ("$t", "$s") and isinstance(body, list):
            items = [self._from_json(item) for item in body]
            return tuple(items) if tag == "$t" else frozenset(items)
        if not isinstance(body, str):
            raise CodecError(f"tag {tag} holds no text")
        try:
            if tag == "$d":
                return Decimal(body)
            if tag == "$T":
                return dt.datetime.fromisoformat(body)
            if tag == "$D":
                return dt.date.fromisoformat(body)
        except (InvalidOperation, ValueError):
            raise CodecError(f"tag {tag} holds a malformed value") from None
        raise CodecError(f"unknown tag {tag}")

    def _member(self, name: object, value: object) -> enum.Enum:
        cls = self._classes.get(name) if isinstance(name, str) else None
        if not isinstance(cls, enum.EnumMeta):
            raise CodecError("an enum that is not registered")
        member: enum.Enum = cls(value)
        return member

    def _instance(self, name: object, values: object) -> object:
        cls = self._classes.get(name) if isinstance(name, str) else None
        if cls is None or cls not in self._fields:
            raise CodecError("a class that is not registered")
        if not isinstance(values, list) or len(values) != len(self._fields[cls]):
            raise CodecError(f"{name} with the wrong number of fields")
        return cls(*(self._from_json(value) for value in values))


def _timestamp(value: dt.datetime) -> _JSON:
    """A datetime with its time zone as it was: none, a fixed offset (named or
    not, like connectors.base.SHANGHAI) or a tz database zone."""
    text, zone = value.isoformat(), value.tzinfo
    if zone is None:
        return {"$T": text}
    if isinstance(zone, zoneinfo.ZoneInfo) and zone.key:
        # Wall time, zone and fold: exact even for a time a clock change skipped.
        return {"$Z": value.replace(tzinfo=None).isoformat(), "v": [zone.key, value.fold]}
    if isinstance(zone, dt.timezone):
        name = zone.tzname(None)
        if name == dt.timezone(zone.utcoffset(None)).tzname(None):
            return {"$T": text}
        return {"$T": text, "v": name}
    raise CodecError("a timestamp in a time zone the cache cannot name")


def _zoned(data: dict[str, Any]) -> dt.datetime:
    try:
        if "$T" in data:
            moment, name = dt.datetime.fromisoformat(data["$T"]), data["v"]
            offset = moment.utcoffset()
            if offset is None or not isinstance(name, str):
                raise CodecError("a named offset without an offset or a name")
            return moment.replace(tzinfo=dt.timezone(offset, name))
        wall, (key, fold) = dt.datetime.fromisoformat(data["$Z"]), data["v"]
        if wall.tzinfo is not None or fold not in (0, 1) or not isinstance(key, str):
            raise CodecError("a zoned timestamp that is not wall time, zone and fold")
        return wall.replace(tzinfo=zoneinfo.ZoneInfo(key), fold=fold)
    except (ValueError, TypeError, zoneinfo.ZoneInfoNotFoundError):
        raise CodecError("a malformed zoned timestamp") from None
