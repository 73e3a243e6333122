"""How mitool writes a duration for people: one style everywhere ('45 s', '3 min 20 s',
'1 h 05 min'), in plans, progress lines and tables alike."""

from __future__ import annotations


def format_duration(seconds: float) -> str:
    """'45 s', '3 min 20 s', '1 h 05 min' (rounded to the second; never negative)."""
    s = max(0, int(round(seconds)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
