"""Where something the gateway owes the credit platform stands (the outbox's states)."""

from __future__ import annotations

import enum

import strawberry

from auth.outbox_item import ItemState

from .types import describe_values

__all__ = ["DeliveryState"]


@strawberry.enum(description="Where something owed to the credit platform stands.")
class DeliveryState(enum.Enum):
    QUEUED = "QUEUED"
    DELIVERED = "DELIVERED"
    REFUSED = "REFUSED"

    @classmethod
    def of(cls, state: ItemState) -> DeliveryState:
        return cls(state.value)


describe_values(
    DeliveryState,
    {
        "QUEUED": "Kept by the gateway, to be sent until the platform acknowledges it.",
        "DELIVERED": "Acknowledged by the credit platform.",
        "REFUSED": "Refused by the platform as it is (E4000); never sent again.",
    },
)
