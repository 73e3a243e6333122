"""Running the installed `mitool` entry point in a real subprocess (shared by the tests)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def mitool_cmd() -> list[str]:
    """The venv's `mitool` script, or `python -m mitool` where it is not installed."""
    exe = shutil.which("mitool", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "mitool"]


def env() -> dict[str, str]:
    """A plain, wide, colourless environment without MITOOL_DEBUG."""
    e = dict(os.environ, NO_COLOR="1", TERMINAL_WIDTH="120")
    e.pop("MITOOL_DEBUG", None)
    return e
