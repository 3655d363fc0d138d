# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client-side pacing: requests of one account start at least ``min_interval`` seconds apart, with no bursts.

Even spacing is the only schedule that is safe whether the service counts a fixed or a sliding window.
Every task of a play is its own process, so the pace of an account is shared through a small state file
(one per API URL and client, named by a hash, never by a secret) under ``tempfile.gettempdir()``, locked
with ``fcntl.flock``. Each process reserves the start time of its next request in that file; where the
file or ``fcntl`` is unavailable, pacing falls back to this process alone.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import math
import os
import tempfile
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: pacing stays within the process
    fcntl = None

STATE_DIRECTORY_NAME = "opswat_it_access"

# A reservation further ahead than this is not believed: the wall clock was set back, or the file is
# garbage. It still allows a long queue of processes (for example 50 forks at 1 request a minute).
MAX_RESERVATION_AHEAD_SECONDS = 3600.0


def pace_key(api_url, client_id=None, access_token=None):
    """A name for the account's pace: a sha256 of the API URL and the client id (or of a hash of the token).

    The token is hashed twice over so that neither it nor a plain hash of it is ever written anywhere.
    """
    if client_id:
        identity = "client_id:" + client_id
    else:
        identity = "token:" + hashlib.sha256((access_token or "").encode("utf-8")).hexdigest()
    return hashlib.sha256(("%s\n%s" % (api_url, identity)).encode("utf-8")).hexdigest()


def state_directory():
    return os.path.join(tempfile.gettempdir(), STATE_DIRECTORY_NAME)


class Pacer(object):
    """Paces the requests of this process only."""

    def __init__(self, min_interval, clock=None, sleep=None):
        self.min_interval = float(min_interval)
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._last_start = None

    def wait_turn(self):
        """Block until the next request may start, and record that it starts now. Returns the seconds slept."""
        now = self._clock()
        start = self._reserve(now, self._earliest_start(now))
        self._last_start = start
        delay = start - now
        if delay > 0:
            self._sleep(delay)
            return delay
        return 0.0

    def close(self):
        """Nothing to release: the state file is opened only while a request is being reserved."""

    def _earliest_start(self, now):
        if self._last_start is None:
            return now
        return max(now, self._last_start + self.min_interval)

    def _reserve(self, now, earliest):  # pylint: disable=unused-argument
        return earliest


class SharedPacer(Pacer):
    """Paces the requests of every process of the same account on this machine, through a locked file."""

    def __init__(self, min_interval, key, clock=None, sleep=None, directory=None, on_fallback=None):
        super(SharedPacer, self).__init__(min_interval, clock=clock, sleep=sleep)
        self.path = os.path.join(directory or state_directory(), "pace-%s" % key)
        self._on_fallback = on_fallback
        self._shared = fcntl is not None

    @property
    def shared(self):
        """Whether the pace is still shared with other processes (false after a fallback)."""
        return self._shared

    def _reserve(self, now, earliest):
        if not self._shared:
            return earliest
        try:
            return self._reserve_in_file(now, earliest)
        except (OSError, IOError) as error:
            # A file another user owns, a read-only temp directory...: pace this process alone from now on.
            self._shared = False
            if self._on_fallback is not None:
                self._on_fallback("pacing is limited to this process: the pace file %s is unusable (%s)"
                                  % (self.path, error.__class__.__name__))
            return earliest

    def _reserve_in_file(self, now, earliest):
        directory = os.path.dirname(self.path)
        if not os.path.isdir(directory):
            try:
                os.makedirs(directory, 0o700)
            except OSError:
                if not os.path.isdir(directory):  # another process may have created it meanwhile
                    raise
        # In a shared temp directory, another user's directory (or a symlink planted there) could be used to
        # stall this process: only a directory of our own is trusted.
        if hasattr(os, "getuid") and os.lstat(directory).st_uid != os.getuid():
            raise OSError(errno.EPERM, "the pace directory belongs to another user", directory)
        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(self.path, flags, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            previous = _parse_time(os.read(descriptor, 64))
            if previous is not None and previous > now + MAX_RESERVATION_AHEAD_SECONDS:
                previous = None
            start = earliest if previous is None else max(earliest, previous + self.min_interval)
            os.lseek(descriptor, 0, os.SEEK_SET)
            os.ftruncate(descriptor, 0)
            os.write(descriptor, repr(start).encode("ascii"))
            return start
        finally:
            os.close(descriptor)  # also releases the lock


def _parse_time(raw):
    try:
        value = float(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def default_pacer(config, clock=None, sleep=None, on_fallback=None):
    """The pacer a client uses unless told otherwise: shared by every process of the same account.

    ``clock`` must be wall-clock time (``time.time``): the state file is read by other processes.
    """
    key = pace_key(config.api_url, client_id=config.client_id, access_token=config.access_token)
    return SharedPacer(config.pace_interval, key, clock=clock or time.time, sleep=sleep, on_fallback=on_fallback)
