"""The four connectors of one gateway process, built from the configuration."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from .archive import ArchiveConnector
from .base import Platform
from .court import CourtConnector
from .credit import CreditConnector
from .procurement import ProcurementConnector
from .settings import PlatformsSettings

__all__ = ["Connectors", "build_connectors"]


@dataclass(frozen=True)
class Connectors:
    credit: CreditConnector
    procurement: ProcurementConnector
    court: CourtConnector
    archive: ArchiveConnector

    def platforms(self) -> dict[str, Platform]:
        """Each platform's shared machinery (breaker state, request counts), by name."""
        return {
            connector.platform.name: connector.platform
            for connector in (self.credit, self.procurement, self.court, self.archive)
        }

    async def close(self) -> None:
        await self.archive.close()


def build_connectors(platforms: PlatformsSettings, client: httpx.AsyncClient) -> Connectors:
    """Connectors sharing one HTTP client (its connection pool) and nothing else."""
    return Connectors(
        credit=CreditConnector(platforms.credit, client),
        procurement=ProcurementConnector(platforms.procurement, client),
        court=CourtConnector(platforms.court, client),
        archive=ArchiveConnector(platforms.archive),
    )
