"""Files cosim writes: atomic writes, folders marked as cosim's own, locked temporary folders, user paths.

cosim deletes or replaces only what it wrote itself. An output folder it wrote holds a marker file
(`MARKER`, JSON naming what kind of folder it is and the entries cosim put there); a temporary folder
holds the marker plus a lock file kept `flock`ed by the live process that owns it, and its name and
marker say which host, boot and PID namespace that process runs in, so a process on another machine or
in another container never takes a live folder for a dead one. Every file is written under a temporary
name beside its destination and renamed into place, with the mode the umask asks for (not mkstemp's 0600).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from cosim.errors import CosimError

MARKER = ".cosim-run"
"""Marker file in every folder cosim created (outputs and temporary folders)."""
TMP_PREFIX = ".cosim-run-"
"""Name prefix of temporary folders beside an output folder."""
LOCK = ".lock"
FOREIGN_STALE_S = 7 * 86_400.0
"""A temporary folder of another host or boot is removed only once its lock is free and it is this old."""
NAME_MAX_BYTES = 255


class OutputError(CosimError):
    """An output path cannot be used (not cosim's, not writable, not a plain name)."""


# -- modes --------------------------------------------------------------------------------------------
def umask() -> int:
    """The process umask (read without changing it where /proc allows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def file_mode() -> int:
    return 0o666 & ~umask()


def dir_mode() -> int:
    return 0o777 & ~umask()


# -- atomic writes ------------------------------------------------------------------------------------
def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Call `write(tmp)` for a temporary path beside `path`, fsync it, give it the umask's mode, rename
    it into place. A crash leaves the old file or the new one, never a partial one at `path`."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:200]}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        os.close(fd)
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# -- user paths ---------------------------------------------------------------------------------------
def check_user_path(text: str | os.PathLike, what: str) -> Path:
    """`text` as a Path, or OutputError for an empty path, a NUL byte or a component too long."""
    text = os.fspath(text)
    if not str(text).strip():
        raise OutputError(f"{what}: empty path (an unset shell variable?); give a folder name")
    if "\x00" in str(text):
        raise OutputError(f"{what}: the path contains a NUL byte")
    for part in Path(text).parts:
        if len(os.fsencode(part)) > NAME_MAX_BYTES:
            raise OutputError(f"{what}: path component {part[:40]!r}... is longer than {NAME_MAX_BYTES} bytes")
    return Path(text)


def probe_writable(out: Path, option: str) -> None:
    """OutputError unless a file can be written at `out` (its folder is created, a probe file written
    and removed): checked before long work, not after it."""
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=out.parent, prefix=".cosim-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"{option} {out}: cannot write there ({exc.strerror or exc})") from None


def check_plain_name(name: str, what: str) -> str:
    """`name` if it can be a single file name (no separators, not `.`/`..`, not hidden, not too long)."""
    problem = None
    if not name or not name.strip():
        problem = "is empty"
    elif "/" in name or "\\" in name or "\x00" in name:
        problem = "contains a path separator or NUL byte"
    elif name in (".", "..") or name.startswith("."):
        problem = "must not start with '.'"
    elif len(os.fsencode(name)) > NAME_MAX_BYTES:
        problem = f"is longer than {NAME_MAX_BYTES} bytes"
    elif any(ord(c) < 32 for c in name):
        problem = "contains a control character"
    if problem:
        raise OutputError(f"{what} {name[:60]!r} {problem}: it names the default output folder, "
                          "so it must be a plain file name")
    return name


# -- marked folders -----------------------------------------------------------------------------------
def read_marker(folder: Path) -> dict | None:
    """The marker of a folder cosim made, or None (no marker, or not one cosim wrote)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("cosim") is True else None


def written_entries(folder: Path) -> list[str]:
    """Every file below `folder` as a relative POSIX path (what a marker lists)."""
    folder = Path(folder)
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p.name != MARKER)


def write_marker(folder: Path, kind: str, entries: Iterable[str] = (), **facts) -> None:
    """Mark `folder` as cosim's, listing the files (relative paths) it wrote there."""
    data = {"cosim": True, "kind": kind, "entries": sorted(set(entries)), **facts}
    atomic_write_text(Path(folder) / MARKER, json.dumps(data, indent=1) + "\n")


def add_to_marker(folder: Path, kind: str, entries: Iterable[str]) -> None:
    """Record more files cosim wrote into its `kind` folder (e.g. a report written after publishing)."""
    marker = read_marker(folder) or {}
    facts = {k: v for k, v in marker.items() if k not in ("cosim", "kind", "entries")}
    write_marker(folder, kind, set(marker.get("entries", ())) | set(entries), **facts)


def foreign_entries(folder: Path, kind: str) -> list[str]:
    """Paths below `folder` cosim did not write (all of them if it has no `kind` marker): files not
    listed in the marker, and folders holding none of the listed files."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    marker = read_marker(folder)
    ours = set(marker.get("entries", ())) if marker and marker.get("kind") == kind else set()
    if not ours:
        return sorted(p.name for p in folder.iterdir() if not (marker and p.name == MARKER and
                                                               marker.get("kind") == kind))
    parents = {str(Path(e).parent.as_posix()) for e in ours}
    parents |= {p.as_posix() for e in ours for p in Path(e).parents}
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if rel == MARKER or rel in ours or (p.is_dir() and not p.is_symlink() and rel in parents) \
                or any(rel.startswith(f"{o}/") for o in ours):  # an entry that is a folder covers its content
            continue
        if not any(rel.startswith(f"{o}/") for o in out):
            out.append(rel)
    return out


def claim_output(folder: Path, kind: str, option: str, force: bool = False,
                 writes: Iterable[str] = ()) -> None:
    """Refuse an output folder cosim may not replace: one holding files it did not write (unless `force`,
    and even then a name cosim would write is never taken over), or a path that is not a folder."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{option} {folder}: exists and is not a folder")
    other = foreign_entries(folder, kind)
    if not other:
        return
    clash = sorted(o for o in other if o.split("/")[0] in set(writes))
    if clash or not force:
        shown = ", ".join(clash or other[:5]) + (" ..." if not clash and len(other) > 5 else "")
        hint = "move them away" if clash else "choose another folder, or pass --force-outdir to write beside them"
        raise OutputError(f"{option} {folder}: holds files cosim did not write ({shown}); {hint}")


# -- identity and locks of temporary folders ----------------------------------------------------------
def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return "unknown"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"


def identity() -> dict:
    """Who owns a temporary folder: host, boot, PID namespace and PID."""
    return {"host": socket.gethostname(), "boot_id": _boot_id(), "pid_ns": _pid_namespace(),
            "pid": os.getpid()}


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)[:40] or "host"


@dataclass
class WorkDir:
    """A temporary folder owned by this process while its lock is held."""

    path: Path
    lock_fd: int

    def release(self, remove: bool = True) -> None:
        if remove and self.path.exists():
            shutil.rmtree(self.path, ignore_errors=True)
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1


def make_workdir(parent: Path) -> WorkDir:
    """A new temporary folder in `parent`, marked and locked by this process."""
    me = identity()
    name = f"{TMP_PREFIX}{_safe(me['host'])}-{me['boot_id'][:8]}-{me['pid']}-{secrets.token_hex(4)}"
    path = Path(parent) / name
    path.mkdir(mode=0o700)
    fd = os.open(path / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    write_marker(path, "tmp", started=time.time(), **me)
    return WorkDir(path, fd)


def _owner_alive(marker: dict) -> bool | None:
    """True/False when the owner runs on this host, boot and PID namespace; None when elsewhere."""
    me = identity()
    if any(marker.get(k) != me[k] for k in ("host", "boot_id", "pid_ns")):
        return None
    try:
        os.kill(int(marker.get("pid", -1)), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError, OverflowError, TypeError):
        return True
    return True


def remove_stale_workdirs(parent: Path) -> list[Path]:
    """Remove temporary folders in `parent` whose owner is gone: marked by cosim, lock free, and the
    owner's process dead on this host (or, for another host or boot, untouched for FOREIGN_STALE_S)."""
    removed = []
    for path in Path(parent).glob(f"{TMP_PREFIX}*"):
        marker = read_marker(path) if path.is_dir() and not path.is_symlink() else None
        if marker is None or marker.get("kind") != "tmp":
            continue  # not a folder cosim made: leave it
        try:
            fd = os.open(path / LOCK, os.O_RDWR)
        except OSError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    continue  # held: its owner is alive
                raise
            alive = _owner_alive(marker)
            old = time.time() - float(marker.get("started", 0) or 0) > FOREIGN_STALE_S
            if alive is False or (alive is None and old):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        finally:
            os.close(fd)
    return removed


# -- swapping folders ---------------------------------------------------------------------------------
_RENAME_EXCHANGE = 2


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    rc = fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))
