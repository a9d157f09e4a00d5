"""How long a build stage has left, from the rate measured so far in it (items done / seconds
since the stage began), and that time said the way a person reads it: "about 1 min 40 s".

Shared by the CLI's progress bar (indexer/__main__.py) and the app's (ui/index_guard.py), so
both show the same figure. No estimate is given until the stage has run for a few seconds and
a few batches: the first batch includes warming up and says little about the rest.
"""
from __future__ import annotations

import math
import time
from typing import Callable

MIN_SECONDS = 3.0  # no estimate before the stage has run this long
MIN_UPDATES = 3  # nor before this many batches have been reported done

# (below this many seconds, round to this step): the coarser, the longer the wait
ROUNDING = ((60, 5), (600, 10), (3600, 60), (math.inf, 300))


class StageEta:
    """Seconds left of one stage, from progress(done, total) calls and a clock; `reset` when a
    new stage or run begins."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        self._start: float | None = None
        self._done0 = 0
        self._updates = 0
        self._last_done = -1

    def update(self, done: int, total: int) -> float | None:
        """Record progress; the estimated seconds left, or None while too little is known
        (or nothing is left)."""
        now = self._clock()
        if self._start is None or done < self._last_done:  # a new run of the stage
            self.reset()
            self._start, self._done0 = now, done
        elif done > self._last_done:
            self._updates += 1
        self._last_done = done
        elapsed, finished = now - self._start, done - self._done0
        if done >= total or finished <= 0 or elapsed < MIN_SECONDS or self._updates < MIN_UPDATES:
            return None
        return (total - done) * elapsed / finished


def rounded(seconds: float) -> int:
    """`seconds` rounded up to a step that fits its size: 5 s under a minute, 10 s under ten
    minutes, whole minutes under an hour, then 5 minutes."""
    for below, step in ROUNDING:
        if seconds < below:
            return max(step, int(math.ceil(seconds / step)) * step)
    raise AssertionError("unreachable: the last step has no upper bound")


def duration(seconds: float, units: tuple[str, str, str] = ("h", "min", "s")) -> str:
    """'1 min 40 s', '45 s', '2 h 5 min': `seconds` rounded (see rounded), in hours, minutes
    and seconds with the given unit words, leaving out the parts that are zero."""
    left = rounded(seconds)
    h, rest = divmod(left, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in zip((h, m, s), units) if n]
    return " ".join(parts)


def thousands(n: int, sep: str = ",") -> str:
    """'2,400' with `sep` between thousands."""
    return f"{n:,}".replace(",", sep)


def count_text(done: int, total: int, sep: str = ",") -> str:
    """'312/2,400' with `sep` between thousands."""
    return f"{thousands(done, sep)}/{thousands(total, sep)}"


def embed_text(done: int, total: int, seconds_left: float | None) -> str:
    """The CLI's line for the embed stage: '312/2,400 passages · about 1 min 40 s left', without
    the estimate while there is none."""
    text = f"{count_text(done, total)} passages"
    return text if seconds_left is None else f"{text} · about {duration(seconds_left)} left"
