"""Files written atomically: model files of the estimators and the command line."""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path


def write_file(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path``; atomically when ``path`` is a regular file.

    A symbolic link is followed: its target is written and the link stays. A
    regular (or new) file is replaced atomically: the bytes go to a temporary
    file in the same folder, are flushed to disk and renamed over the target
    (``os.replace``), so an interrupted run never leaves a truncated file and
    an existing one stays intact until the new one is complete. The replaced
    file's permissions (and, where allowed, owner) are kept; a new file gets
    the usual permissions (0666 minus the umask). Anything else that exists
    at ``path`` (a device such as ``/dev/null``, a named pipe) is written in
    place, never replaced.

    Parameters
    ----------
    path : Path
        Destination.
    payload : bytes
        The file's content.
    """
    target = Path(os.path.realpath(path))
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode):
        if stat.S_ISDIR(status.st_mode):
            raise IsADirectoryError(f"{path} is a folder; give a file name.")
        with target.open("wb") as stream:
            stream.write(payload)
        return
    handle, temp = _create_temp(target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        if status is not None:
            _keep_permissions(temp, status)
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _create_temp(folder: Path) -> tuple[int, Path]:
    """Open a new file with a short unique name in ``folder`` (0666 minus umask)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    while True:
        temp = folder / f".gbrank-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(temp, flags, 0o666), temp
        except FileExistsError:  # pragma: no cover - a 48-bit name collision
            continue


def _keep_permissions(temp: Path, status: os.stat_result) -> None:
    """Give ``temp`` the mode (and, where allowed, the owner) of ``status``."""
    if hasattr(os, "geteuid") and (status.st_uid, status.st_gid) != (
        os.geteuid(),
        os.getegid(),
    ):
        with contextlib.suppress(PermissionError):  # only root may give files away
            os.chown(temp, status.st_uid, status.st_gid)
    os.chmod(temp, stat.S_IMODE(status.st_mode))
