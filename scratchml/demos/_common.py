"""What every demo shares: its result record and argument checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._validation import check_choice

SIZES = ("default", "small")

# Where pictures go unless told otherwise: a scratch folder in the working directory,
# so a quick run never overwrites the committed pictures in demos/results/.
DEFAULT_OUT = "scratchml-demos"


@dataclass
class DemoResult:
    """What a demo produced: the files it wrote, numbers worth printing, the fitted model."""

    name: str
    files: list[Path]
    metrics: dict[str, float] = field(default_factory=dict)
    model: Any = None


def prepare(out: str | Path, size: str) -> Path:
    """Check ``size`` and make the output folder."""
    check_choice(size, "size", SIZES)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
