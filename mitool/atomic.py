"""Output files: checked before any work starts, written atomically at the end.

``check_writable`` runs when a command starts, so a typo in ``--output`` costs a second, not a
training run. ``atomic_path`` writes to a temp file in the same folder and renames it, so an
interrupted run (Ctrl-C, crash) leaves the old file or nothing, never a partial one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mitool.errors import EstimationError, UsageError


def _folder(target: Path) -> Path:
    return target.parent if str(target.parent) else Path(".")


def check_writable(path: str | os.PathLike[str], option: str = "output") -> Path:
    """Raise UsageError (exit 2) unless a file can be created at ``path``; return it as a Path.

    Checks that the folder exists, that ``path`` is not a folder, and that a file can really
    be created there (a probe file is made and removed: permission bits alone do not tell,
    e.g. for root or on read-only mounts).
    """
    target = Path(path)
    folder = _folder(target)
    where = f"{option} '{target}'"
    if not folder.exists():
        raise UsageError(f"cannot write {where}: folder '{folder}' does not exist")
    if not folder.is_dir():
        raise UsageError(f"cannot write {where}: '{folder}' is not a folder")
    if target.is_dir():
        raise UsageError(f"cannot write {where}: it is a folder; give a file name")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        reason = "no write permission" if isinstance(exc, PermissionError) else (
            exc.strerror or type(exc).__name__)
        raise UsageError(f"cannot write {where}: {reason} in folder '{folder}'") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


def check_distinct(paths: dict[str, str | os.PathLike[str] | None]) -> None:
    """Two options writing the same file would overwrite each other: refuse (exit 2)."""
    seen: dict[Path, str] = {}
    for option, p in paths.items():
        if p is None:
            continue
        key = Path(p).resolve()
        if key in seen:
            raise UsageError(f"{seen[key]} and {option} name the same file '{p}'")
        seen[key] = option


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it over ``path`` only on success.

    ``suffix`` defaults to the target's own suffix, so libraries that pick a format from the
    file name (matplotlib, Pillow) still do the right thing. A failure to create or rename
    the file is an EstimationError that names ``path`` (never the temp name).
    """
    target = Path(path)
    folder = _folder(target)
    if not folder.is_dir():
        raise UsageError(f"cannot write '{target}': folder '{folder}' does not exist")
    try:
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix,
            dir=folder,
        )
    except OSError as exc:
        raise EstimationError(f"cannot write '{target}': {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise EstimationError(f"cannot write '{target}': {exc.strerror or exc}") from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
