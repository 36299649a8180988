"""`/readyz`: can this process serve, and how are the platforms?

Ready means this process can answer: it has started (access log and pseudonym
registry open) and its access log answers — no log, no answer. The cache never
makes it unready (a degraded cache is served around), and neither does a
platform: the gateway degrades gracefully, nulling that platform's fields, so
readiness stays 200 with the platform reported down.

Platform health comes from the last probes, kept `PROBE_TTL_S` seconds and
shared by everyone asking meanwhile (one probe round in flight at a time): a
hundred calls cost the court one OAuth grant, not a hundred.

Anyone gets the summary (ready, how many platforms are up); the detail (each
platform's error, the cache and its counters, the access log's problem, this
worker's upstream calls) needs a valid
bearer token, as it tells an outsider what the gateway stands on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from auth.access_log import AccessLog
from auth.access_log_entry import AccessLogError
from auth.tokens import TokenVerifier, Unauthenticated, bearer_token
from connectors.probe import Probe

__all__ = ["PROBE_TTL_S", "PlatformProbes", "Readiness"]

PROBE_TTL_S = 5.0


class PlatformProbes:
    """The last probe round, kept `ttl_s` seconds; concurrent askers share one round."""

    def __init__(
        self,
        probe: Callable[[], Awaitable[list[Probe]]],
        *,
        ttl_s: float = PROBE_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._probe = probe
        self._ttl_s = ttl_s
        self._clock = clock
        self._last: tuple[float, list[Probe]] | None = None
        self._round: asyncio.Task[list[Probe]] | None = None
        self.rounds = 0

    async def latest(self) -> list[Probe]:
        if self._last is not None and self._clock() - self._last[0] < self._ttl_s:
            return self._last[1]
        if self._round is None or self._round.done():
            self._round = asyncio.create_task(self._run(), name="readiness-probes")
        # Shielded: a caller that gives up does not cancel the round the others wait for.
        return await asyncio.shield(self._round)

    async def _run(self) -> list[Probe]:
        self.rounds += 1
        probes = await self._probe()
        self._last = (self._clock(), probes)
        return probes


class Readiness:
    """The `/readyz` endpoint (see the module docstring)."""

    def __init__(
        self,
        probes: PlatformProbes,
        access_log: Callable[[], AccessLog | None],
        registry_open: Callable[[], bool],
        own_detail: Callable[[], Awaitable[dict[str, Any]]],
        verifier: TokenVerifier | None,
    ) -> None:
        self._probes = probes
        self._access_log = access_log
        self._registry_open = registry_open
        self._own_detail = own_detail
        self._verifier = verifier

    async def answer(self, request: Request) -> JSONResponse:
        problem = await self._own_problem()
        probes = await self._probes.latest()
        up = sum(probe.ok for probe in probes)
        body: dict[str, Any] = {
            "ready": problem is None,
            "platformsUp": up,
            "platformsTotal": len(probes),
        }
        if await self._may_see_detail(request):
            body["problem"] = problem
            body["platforms"] = {
                p.platform: {"ok": p.ok, "error": p.error, "checkedAt": p.checked_at.isoformat()}
                for p in probes
            }
            body.update(await self._own_detail())  # the cache, this worker's upstream calls
        return JSONResponse(
            body,
            status_code=200 if problem is None else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def _own_problem(self) -> str | None:
        """Why this process cannot serve, or None."""
        log = self._access_log()
        if log is None or not self._registry_open():
            return "starting: the access log is not open yet"
        try:
            await log.check()
        except AccessLogError as error:
            return str(error)
        return None

    async def _may_see_detail(self, request: Request) -> bool:
        if self._verifier is None:  # access control off (development only)
            return True
        try:
            await self._verifier.verify(bearer_token(request.headers.get("authorization")))
        except Unauthenticated:
            return False
        return True
