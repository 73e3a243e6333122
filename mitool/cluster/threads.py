"""Choosing torch's CPU thread count by timing real training steps, and backing off under load.

On an idle 2-core machine two threads are up to 2x faster at 16-32 px; when another process
keeps one core busy, two threads can be several times slower than one (each step waits for
the descheduled thread). No fixed default is right on both, so the training loop times a few
of its own steps at each candidate count, keeps the fastest, and times again when steps get
markedly slower than expected or every few minutes. Pure logic: the loop does the timing.
"""

from __future__ import annotations

from dataclasses import dataclass, field


def candidate_threads(cores: int) -> tuple[int, ...]:
    """Thread counts worth timing: 1, 2, half and all of the cores (at most 4 probes)."""
    return tuple(sorted({c for c in (1, 2, cores // 2, cores) if 1 <= c <= cores}))


@dataclass
class ThreadGovernor:
    """Keeps the thread count whose timed steps were fastest; asks for a new probe when the
    steps run ``slowdown`` times slower than the probe measured, or ``reprobe_seconds`` after
    the last probe (a busy neighbour may have finished)."""

    candidates: tuple[int, ...]
    slowdown: float = 1.5
    reprobe_seconds: float = 180.0
    more_threads_gain: float = 0.9  # more threads only when at least 10 % faster
    current: int = 0
    expected: float = 0.0  # seconds per step measured for ``current``
    last_probe: float = 0.0
    history: list[tuple[int, dict[int, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.candidates:
            raise ValueError("need at least one candidate thread count")
        self.candidates = tuple(sorted(set(self.candidates)))
        self.current = self.current or self.candidates[0]

    @property
    def active(self) -> bool:
        return len(self.candidates) > 1

    def choose(self, timings: dict[int, float], step: int = 0, now: float = 0.0) -> int:
        """Record one probe (threads -> seconds per step) and return the count to use.

        When a re-probe keeps the same count, the next scheduled one waits twice as long
        (each probe spends a few steps at counts that may be slow).
        """
        best = min(timings)
        for threads in sorted(timings):
            if timings[threads] < timings[best] * self.more_threads_gain:
                best = threads
        if self.history and best == self.current:
            self.reprobe_seconds *= 2
        self.current, self.expected, self.last_probe = best, timings[best], now
        self.history.append((step, dict(timings)))
        return best

    def others(self) -> tuple[int, ...]:
        """The candidates a re-probe has to time (the current count was timed by the round)."""
        return tuple(c for c in self.candidates if c != self.current)

    def due(self, seconds_per_step: float, now: float) -> bool:
        """True when the recent steps call for timing the candidates again."""
        if not self.active or self.expected <= 0:
            return False
        return (seconds_per_step > self.expected * self.slowdown
                or now - self.last_probe >= self.reprobe_seconds)
