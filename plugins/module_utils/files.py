# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reports written to disk: the checks of a destination before any request, and one atomic write that changes a
file only when its content differs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import re
import tempfile

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError

# A file saved for a device's command is named after both ids; anything else than these characters becomes "-".
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
DEFAULT_MODE = 0o600  # agent logs and reports describe the fleet: readable by their owner only, unless asked


def check_directory(path, option="dest"):
    """``path`` made absolute; an InputError unless it is an existing directory this process can write into."""
    path = os.path.abspath(os.path.expanduser(path))
    if not os.path.isdir(path):
        raise InputError(option, "must be an existing directory, and %s is not one" % path)
    if not os.access(path, os.W_OK | os.X_OK):
        raise InputError(option, "must be a directory this task can write into, and %s is not writable" % path)
    return path


def check_file_destination(path, option="dest"):
    """``path`` made absolute; an InputError unless its directory exists and is writable and it is not a directory."""
    path = os.path.abspath(os.path.expanduser(path))
    if os.path.isdir(path):
        raise InputError(option, "must be a file path, and %s is a directory" % path)
    check_directory(os.path.dirname(path), option)
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise InputError(option, "%s exists and is not writable" % path)
    return path


def command_file_name(device_id, command_id, extension):
    """``<device id>_<command id>.<extension>``, each id reduced to file-name-safe characters."""
    return "%s_%s.%s" % (_UNSAFE.sub("-", str(device_id)).strip(".") or "device",
                         _UNSAFE.sub("-", str(command_id)).strip(".") or "command", extension)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def write_file(path, content, mode=None, check_mode=False):
    """Write ``content`` (bytes) to ``path`` atomically (a temporary file beside it, then a rename), only when the
    file's content differs, and give it ``mode`` (an int; DEFAULT_MODE for a new file when None).

    Returns ``{path, size, sha256, changed}``; in check mode nothing is written and ``changed`` says whether it
    would be.
    """
    return _settle(path, len(content), hashlib.sha256(content).hexdigest(), mode, check_mode,
                   lambda final_mode: _replace(path, content, final_mode))


def _settle(path, size, sha256, mode, check_mode, replace):
    """Whether ``path`` must change to hold content of ``size`` and ``sha256`` with ``mode``; outside check mode,
    ``replace(final mode)`` puts the content there, or only the mode is set when the content is the same."""
    exists = os.path.isfile(path)
    same = exists and os.path.getsize(path) == size and sha256_of(path) == sha256
    wanted_mode = mode if mode is not None else (None if exists else DEFAULT_MODE)
    mode_differs = wanted_mode is not None and (not exists or (os.stat(path).st_mode & 0o7777) != wanted_mode)
    changed = not same or mode_differs
    if changed and not check_mode:
        if same:
            os.chmod(path, wanted_mode)
        else:
            replace(wanted_mode if wanted_mode is not None else os.stat(path).st_mode & 0o7777)
    return dict(path=path, size=size, sha256=sha256, changed=changed)


def _replace(path, content, mode):
    directory = os.path.dirname(path)
    handle, temporary = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class StreamTarget(object):
    """A temporary file in ``directory`` that an answer is streamed into (``file``), then ``commit``ted to its path
    atomically, only when its content differs; whatever is not committed is removed on ``close``. A context manager."""

    def __init__(self, directory):
        handle, self._temporary = tempfile.mkstemp(prefix=".opswat-report.", suffix=".tmp", dir=directory)
        self.file = os.fdopen(handle, "w+b")

    def commit(self, path, mode=None, check_mode=False):
        """Like ``write_file`` for what was streamed: ``{path, size, sha256, changed}``."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()

        def replace(final_mode):
            os.chmod(self._temporary, final_mode)
            os.replace(self._temporary, path)

        return _settle(path, os.path.getsize(self._temporary), sha256_of(self._temporary), mode, check_mode, replace)

    def close(self):
        if not self.file.closed:
            self.file.close()
        if os.path.exists(self._temporary):
            os.unlink(self._temporary)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
