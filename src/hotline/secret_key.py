"""The key that signs page-session cookies: given, or made once and kept in the var directory.

There is no default key: a key in the source code is a key everyone has, and with it anyone
can forge a signed cookie.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from hotline.settings import SECRET_KEY_MIN_LENGTH, Settings

KEY_FILE_NAME = "secret_key"


class SecretKeyError(ValueError):
    """The key file cannot be trusted or read; the message says what to fix."""


def session_secret(settings: Settings) -> str:
    """HOTLINE_SECRET_KEY (or _FILE) if given, else var_dir/secret_key, made on first use."""
    if settings.secret_key:
        return settings.secret_key
    return load_or_create(settings.var_dir / KEY_FILE_NAME)


def load_or_create(path: Path) -> str:
    """Read the key file, or create it atomically (mode 0600) if there is none.

    Several processes starting at once (uvicorn --workers) all end up with the first key
    written: the file appears complete under its name or not at all (a hard link of a
    finished temporary file), and a process that loses the race reads the winner's.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = secrets.token_urlsafe(48)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        try:
            with os.fdopen(fd, "w") as f:
                f.write(key + "\n")
                f.flush()
                os.fsync(f.fileno())
            # Another process made it first: theirs is kept, and read below.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    return _read(path)


def _read(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise SecretKeyError(f"cannot read the secret key file {path}: {exc}") from None
    with os.fdopen(fd) as f:
        mode = os.fstat(f.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SecretKeyError(f"the secret key file {path} is not a regular file")
        if mode & 0o077:
            raise SecretKeyError(
                f"the secret key file {path} can be read by other users "
                f"(mode {stat.S_IMODE(mode):04o}): chmod 600 it, or delete it to make a new one"
            )
        key = f.read().strip()
    if len(key) < SECRET_KEY_MIN_LENGTH:
        raise SecretKeyError(
            f"the secret key file {path} holds fewer than {SECRET_KEY_MIN_LENGTH} characters: "
            "delete it to make a new one, or set HOTLINE_SECRET_KEY"
        )
    return key
