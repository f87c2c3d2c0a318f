"""Where an engine's socket lives: one per journal, in a directory only its owner can enter.

The directory is ``$XDG_RUNTIME_DIR/tradeterm`` (a per-user tmpfs that systemd creates 0700)
or else ``/tmp/tradeterm-<uid>``; the socket is named after a hash of the journal's path, so
every journal (the paper one, each replay's) has its own and the path stays far below the
108-byte limit of a Unix socket's address whatever the data directory is called. A directory
that exists but is not ours, or that others can enter, is refused: anyone who could create
the socket there could pose as the engine.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path


class SocketDirError(Exception):
    """The socket's directory is unsafe or cannot be made; the message says why."""


def socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "tradeterm"
    return Path("/tmp") / f"tradeterm-{os.getuid()}"


def socket_path(journal: Path) -> Path:
    """The socket of the engine that holds ``journal``."""
    digest = hashlib.sha256(str(journal.expanduser().resolve()).encode()).hexdigest()[:16]
    return socket_dir() / f"engine-{digest}.sock"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700, or check that an existing one is ours and closed to others."""
    try:
        path.mkdir(mode=0o700, parents=False, exist_ok=True)
        st = path.lstat()
    except OSError as exc:
        raise SocketDirError(f"{path}: cannot create the engine's socket directory: "
                             f"{exc.strerror or exc}") from None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise SocketDirError(f"{path}: not a directory owned by this user; refusing to put the "
                             "engine's socket there")
    if st.st_mode & 0o077:
        raise SocketDirError(f"{path}: others may enter it (mode {stat.S_IMODE(st.st_mode):o}); "
                             f"refusing to put the engine's socket there (chmod 700 {path})")
