"""The deterministic synthetic dataset generator (UPSTREAMS.md, "Dataset directory").

`generate(out, options)` writes the four platforms' data, the credit platform's
subject registry, the manifest and the golden cases. The same options give the
same bytes on any day and machine: every date is anchored at `options.as_of`,
every random draw comes from a generator seeded by the seed and the entity
(f"{seed}:person:{i}"), and rows are written in entity order. Entities are
regenerated from their index when another one refers to them, so memory stays
flat however many persons are generated.
"""

from __future__ import annotations

from .build import generate
from .world import GeneratorOptions

__all__ = ["GeneratorOptions", "generate"]
