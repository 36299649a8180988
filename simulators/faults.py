"""What every HTTP stand-in shares: request counts and injected faults.

`SimulatorControls` is an ASGI middleware placed in front of a stand-in's own
app. It serves the `/_sim/*` admin endpoints (stats, reset, down/up,
`fail-next?count=N` for a burst of N unavailable answers), counts
every other request as "METHOD /path", and applies the fault knobs: a latency
of MEAN ms with uniform JITTER, an error rate, and the down switch. What an
"unavailable" answer looks like is the platform's own business (a JSON envelope,
an OAuth-style error, a SOAP fault), so each stand-in passes its own.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["FaultSettings", "SimulatorControls", "SimulatorState", "parse_latency"]


@dataclass(frozen=True)
class FaultSettings:
    """The fault knobs of one stand-in (`--latency-ms MEAN[:JITTER]`, `--error-rate P`)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    error_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.jitter_ms < 0:
            raise ValueError("latency and jitter must not be negative")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError("error rate must be between 0 and 1")


def parse_latency(text: str) -> tuple[float, float]:
    """`"50"` -> (50, 0); `"50:10"` -> (50, 10)."""
    mean, _, jitter = text.partition(":")
    try:
        return float(mean), float(jitter or 0)
    except ValueError:
        raise ValueError(f"latency must be MEAN or MEAN:JITTER in ms, got {text!r}") from None


@dataclass
class SimulatorState:
    """Mutable run-time state of one stand-in, changed through `/_sim/*`."""

    faults: FaultSettings = field(default_factory=FaultSettings)
    down: bool = False
    fail_next: int = 0  # the next N requests answer "unavailable" (a burst of errors)
    requests: Counter[str] = field(default_factory=Counter)

    def stats(self) -> dict[str, object]:
        return {"requests": dict(self.requests), "total": sum(self.requests.values())}


class SimulatorControls:
    """ASGI middleware: `/_sim/*` admin endpoints, request counts, injected faults."""

    def __init__(
        self,
        app: ASGIApp,
        state: SimulatorState,
        unavailable: Callable[[], Response],
        rng: random.Random | None = None,
    ) -> None:
        self.app = app
        self.state = state
        self.unavailable = unavailable
        # Fault draws need no cryptographic quality; a seeded Random keeps tests repeatable.
        self.rng = rng or random.Random()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_sim/"):
            # A stand-in may add admin endpoints of its own (the credit stand-in
            # decides objections); those pass through uncounted and unfaulted.
            admin = self._admin(Request(scope, receive))
            await (admin or self.app)(scope, receive, send)
            return
        self.state.requests[f"{scope['method']} {path}"] += 1
        faults = self.state.faults
        if faults.latency_ms or faults.jitter_ms:
            delay = faults.latency_ms + self.rng.uniform(-faults.jitter_ms, faults.jitter_ms)
            await asyncio.sleep(max(delay, 0.0) / 1000)
        if self.state.fail_next > 0:
            self.state.fail_next -= 1
            await self.unavailable()(scope, receive, send)
            return
        if self.state.down or (faults.error_rate and self.rng.random() < faults.error_rate):
            await self.unavailable()(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _admin(self, request: Request) -> Response | None:
        action = (request.method, request.url.path)
        if action == ("GET", "/_sim/stats"):
            return JSONResponse(self.state.stats())
        if action == ("POST", "/_sim/reset-stats"):
            self.state.requests.clear()
            return JSONResponse(self.state.stats())
        if action == ("POST", "/_sim/fail-next"):
            count = request.query_params.get("count", "1")
            self.state.fail_next = int(count) if count.isdigit() else 0
            return JSONResponse({"fail_next": self.state.fail_next})
        if action in {("POST", "/_sim/down"), ("POST", "/_sim/up")}:
            self.state.down = request.url.path.endswith("/down")
            return JSONResponse({"down": self.state.down})
        return None
