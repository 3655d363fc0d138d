# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the tasks of a play share across their processes: the user's private state directory and its files.

Every task is its own process, so the pace of an account (ratelimit.py) and its access token (auth.py) live in
small files of a directory of the user's own under ``tempfile.gettempdir()`` (``opswat_it_access-<uid>``). Only
a directory that belongs to the user is trusted, no symlink in place of a file is followed, and files are created
mode 0600. The pace file is read and rewritten under an ``fcntl.flock`` lock; the token cache is replaced
atomically (a private temporary file, then a rename).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import getpass
import os
import re
import tempfile

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: nothing is shared between processes
    fcntl = None

STATE_DIRECTORY_NAME = "opswat_it_access"
READ_CHUNK_BYTES = 65536


def file_locks_available():
    """Whether files can be locked here (``fcntl``): without it, nothing is shared between processes."""
    return fcntl is not None


def _user_tag():
    """What tells this user's state directory from another user's: the uid, else the login name."""
    if hasattr(os, "getuid"):
        return str(os.getuid())
    try:
        name = getpass.getuser()
    except Exception:  # pylint: disable=broad-exception-caught  # no login name at all: still one directory
        name = "user"
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "user"


def state_directory():
    """``<temp dir>/opswat_it_access-<uid>``: the user's own directory for the pace and the token cache.

    Named after the user, so that a directory another user made first (the temp directory is shared) does not
    switch both off for everyone else; if one is there under this user's name anyway, both fall back, with a
    warning. The temp directory (``TMPDIR``) rather than the home directory: it is writable in containers and
    execution environments whose home is not, and it is cleared at boot, which the state does not outlive anyway.
    """
    return os.path.join(tempfile.gettempdir(), "%s-%s" % (STATE_DIRECTORY_NAME, _user_tag()))


def private_directory(directory):
    """Create ``directory`` (mode 0700) if needed; raise ``OSError`` unless it belongs to this user.

    In a shared temp directory, another user's directory (or a symlink planted there) could be used to stall this
    process or to feed it files: only a directory of our own is trusted.
    """
    if not os.path.isdir(directory):
        try:
            os.makedirs(directory, 0o700)
        except OSError:
            if not os.path.isdir(directory):  # another process may have created it meanwhile
                raise
    if hasattr(os, "getuid") and os.lstat(directory).st_uid != os.getuid():
        raise OSError(errno.EPERM, "the state directory belongs to another user", directory)


def describe_os_error(error):
    """A short reason for an ``OSError`` (it holds no secret: a path and the system's message)."""
    reason = getattr(error, "strerror", None) or error.__class__.__name__
    return "%s: %s" % (error.__class__.__name__, reason) if reason != error.__class__.__name__ else reason


def read_all(descriptor, limit):
    """The whole file behind ``descriptor``, or b"" when it holds more than ``limit`` bytes (too large to be ours)."""
    chunks = []
    size = 0
    while size <= limit:
        chunk = os.read(descriptor, READ_CHUNK_BYTES)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
    return b""


def write_all(descriptor, data):
    """Write all of ``data``: one ``os.write`` may write only part of it."""
    while data:
        data = data[os.write(descriptor, data):]


def update_locked_file(path, limit, update):
    """Rewrite the file at ``path`` under an exclusive lock: ``update(old bytes)`` returns ``(result, new bytes)``.

    The directory must be the user's own (``private_directory``); the file is created mode 0600 and a symlink in
    its place is not followed. Content larger than ``limit`` reads as b"". Returns ``result``; raises ``OSError``.
    """
    private_directory(os.path.dirname(path))
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(path, flags, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        result, content = update(read_all(descriptor, limit))
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.ftruncate(descriptor, 0)
        write_all(descriptor, content)
        return result
    finally:
        os.close(descriptor)  # also releases the lock


def read_private_file(path, limit):
    """The bytes of the file at ``path`` (b"" past ``limit``), or None when it cannot be read. No symlink followed."""
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except (OSError, IOError):
        return None
    try:
        return read_all(descriptor, limit)
    except (OSError, IOError):
        return None
    finally:
        os.close(descriptor)


def replace_private_file(path, content):
    """Write ``content`` to ``path`` atomically (a reader sees the old file or the new one, never half), mode 0600.

    The directory must be the user's own. Raises ``OSError``; no temporary file is left behind.
    """
    temporary = "%s.%d-%s.tmp" % (path, os.getpid(), os.urandom(4).hex())
    try:
        private_directory(os.path.dirname(path))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(temporary, flags, 0o600)
        try:
            write_all(descriptor, content)
        finally:
            os.close(descriptor)
        os.rename(temporary, path)
    except (OSError, IOError):
        try:
            os.unlink(temporary)
        except (OSError, IOError):
            pass
        raise


def remove_file(path):
    """Remove ``path`` if it is there; a failure is ignored (the next reader finds a stale file and checks it)."""
    try:
        os.unlink(path)
    except (OSError, IOError):
        pass
