"""The one progress bar: training epochs, sweep networks, anything counted towards a total.

On a terminal one line is redrawn in place, at most ten times a second and always at
the end; in logs and pipes a plain line is written at most once every ``log_every``
units (a tenth of the total by default) or ``log_seconds`` seconds, and at the end.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TextIO


def duration(seconds: float) -> str:
    """'4.2s', '3m07s', '1h05m'."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{seconds:02d}s"


class ProgressBar:
    """``desc [#####-----] done/total unit  <details>  <elapsed>`` on stderr (or ``stream``).

    ``update(done, details)`` records how many units are done and redraws when due;
    ``details`` is a short text (the loss, a rate and an ETA) shown after the count.
    """

    WIDTH = 24
    REDRAW_S = 0.1

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str,
        enabled: bool,
        stream: TextIO | None = None,
        *,
        log_seconds: float = math.inf,
    ) -> None:
        self.total = total
        self.desc = desc
        self.unit = unit
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.perf_counter()
        self.log_seconds = log_seconds
        self.last_draw = -math.inf
        self.next_logged = 0
        self.drawn = 0

    def elapsed(self, now: float | None = None) -> float:
        return (time.perf_counter() if now is None else now) - self.start

    def update(self, done: int, details: str = "") -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        finished = done >= self.total
        if self.interactive:
            if now - self.last_draw < self.REDRAW_S and not finished:
                return
            line = self.line(done, details, now)
            # Pad over what a longer previous line left on the terminal.
            self.stream.write("\r" + line.ljust(self.drawn) + ("\n" if finished else ""))
            self.drawn = len(line)
        else:
            due = done >= self.next_logged or now - self.last_draw >= self.log_seconds
            if not (due or finished):
                return
            self.next_logged = done + max(1, self.total // 10)
            self.stream.write(self.line(done, details, now) + "\n")
        self.last_draw = now
        self.stream.flush()

    def line(self, done: int, details: str = "", now: float | None = None) -> str:
        filled = int(self.WIDTH * done / max(self.total, 1))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        details = f"  {details}" if details else ""
        return (
            f"{self.desc} [{bar}] {done}/{self.total} {self.unit}{details}  "
            f"{duration(self.elapsed(now))}"
        )
