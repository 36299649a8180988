"""The `Masked` field extension: a field's value as the masking policy shows it.

Which viewer applies is found from the field's root: `Disclosure.bind` stores
the viewer under the root field's response key, and every field below it —
however deeply nested, aliased or reached through fragments — uses that one.
The mask itself comes from the versioned policy file (auth/policy.toml); this
module decides nothing, it asks and applies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from strawberry.extensions import FieldExtension
from strawberry.types import Info

from auth.masks import Kind, Mask, MaskError

if TYPE_CHECKING:
    from .disclosure import Disclosure

__all__ = ["MaskRule", "Masked", "response_path", "root_key"]


@dataclass(frozen=True)
class MaskRule:
    """How one field is masked: its policy class and kind, the holder's ID number
    (so a pseudonymised name is its holder's token), or no masking at all."""

    field_class: str
    kind: Kind
    holder: str | None = None
    restricted: bool = False  # a detail of a RESTRICTED record (decide-only)


class Masked(FieldExtension):
    """Masks a field's value for the viewer of its root field, as the policy says.

    `rule` maps the parent object to its `MaskRule`, or None when the value is
    not personal (an organisation's name inside a `SubjectRef`, say). Object and
    list fields are either shown or HIDDEN; leaf values go through the mask.
    """

    def __init__(self, rule: Callable[[Any], MaskRule | None], *, leaf: bool = True) -> None:
        super().__init__()
        self.rule = rule
        self.leaf = leaf

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        return self._mask(next_(source, info, **kwargs), source, info)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info[Any, Any], **kwargs: Any
    ) -> Any:
        rule = self.rule(source)
        if not self.leaf and rule is not None and self._hidden(rule, info):
            return None  # never fetched: what could not be shown is not asked for
        return self._mask(await next_(source, info, **kwargs), source, info)

    def _hidden(self, rule: MaskRule, info: Info[Any, Any]) -> bool:
        if _mask_of(rule, info) is not Mask.HIDDEN:
            return False
        info.context.disclosure.note(info, Mask.HIDDEN.value)
        return True

    def _mask(self, value: Any, source: Any, info: Info[Any, Any]) -> Any:
        rule = self.rule(source)
        if value is None or rule is None:
            return value
        mask = _mask_of(rule, info)
        if mask is None:
            return value
        disclosure: Disclosure = info.context.disclosure
        if mask is Mask.FULL:
            return value
        if mask is Mask.HIDDEN or not self.leaf:
            disclosure.note(info, Mask.HIDDEN.value)
            return None
        shown = value.isoformat() if isinstance(value, dt.date) else value
        try:
            masked = disclosure.policy.apply(mask, shown, rule.kind, rule.holder)
        except MaskError:
            # A value the mask cannot handle is withheld, never shown as it is.
            disclosure.note(info, Mask.HIDDEN.value)
            return None
        disclosure.note(info, mask.value)
        if mask is Mask.PSEUDONYM and isinstance(masked, str):
            # Remembered so an auditor can reveal it for a named case (revealIdentity).
            behind = (rule.kind, shown) if rule.kind != "name" else ("id_number", rule.holder)
            if behind[1]:
                disclosure.pseudonyms.add((masked, behind[0], str(behind[1])))
        return masked


def _mask_of(rule: MaskRule, info: Info[Any, Any]) -> Mask | None:
    """The policy's mask for `rule` under the field's viewer; None when access control is off."""
    disclosure: Disclosure = info.context.disclosure
    viewer = disclosure.viewer(info)
    if viewer is None or viewer.role is None:
        return None
    return disclosure.policy.mask_for(
        viewer.role.value,
        rule.field_class,
        viewer.purpose.value,
        rule.kind,
        restricted=rule.restricted,
    )


def root_key(info: Info[Any, Any]) -> str:
    """The response key (alias or name) of the root field above `info`'s field."""
    path = info.path
    while path.prev is not None:
        path = path.prev
    return str(path.key)


def response_path(info: Info[Any, Any]) -> list[str | int]:
    return list(info.path.as_list())
