# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure logic of the ``device_status`` event source: its checkpoint file, each poll's window, and which
Status Change records become events (once each, also across a restart)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import math
import os

from ansible_collections.opswat.it_access.plugins.module_utils.devices import id_key, listing_status
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.session import digest
from ansible_collections.opswat.it_access.plugins.module_utils.state import (
    describe_os_error, private_directory, read_private_file, replace_private_file, state_directory)
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import MAX_CHANGE_AGE_SECONDS
from ansible_collections.opswat.it_access.plugins.plugin_utils.event_source import device_payload

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock against a second source on the same file
    fcntl = None

CHECKPOINT_FORMAT = 1
CHECKPOINT_LIMIT_BYTES = 64 * 1024 * 1024
CHANGED_EVENT = "device_status_changed"
BATCH_EVENT = "device_status_batch"
# A device's entry is kept while the API could still report the change it records (24 hours), with an hour for
# the two clocks; after that the API cannot send that change again, so forgetting it cannot emit it twice.
FORGET_AFTER_SECONDS = MAX_CHANGE_AGE_SECONDS + 3600


def default_checkpoint_path(account):
    """The checkpoint of ``account`` in the user's state directory (the system temp directory: not kept across a
    reboot or in a new container; ``checkpoint_path`` is the option for that)."""
    return os.path.join(state_directory(), "eda-device_status-%s.json" % digest(account)[:16])


class Checkpoint(object):
    """Where the source is: ``covered_until`` (epoch seconds up to which every change was read; None before the
    first poll) and ``devices`` (id_key -> ``{status, changed_at, seen}``: the last change emitted, or recorded
    without an event, for each device)."""

    def __init__(self, account, covered_until=None, devices=None):
        self.account = account
        self.covered_until = covered_until
        self.devices = devices if devices is not None else {}

    def to_bytes(self):
        return json.dumps({"format": CHECKPOINT_FORMAT, "account": self.account, "covered_until": self.covered_until,
                           "devices": self.devices}, sort_keys=True).encode("utf-8")

    def forget_old(self, now):
        """Drop the devices whose recorded change the API can no longer report."""
        for key in [key for key, entry in self.devices.items() if entry.get("seen", now) < now - FORGET_AFTER_SECONDS]:
            del self.devices[key]


def load_checkpoint(path, account):
    """The checkpoint at ``path`` for ``account``; a new one when there is no file. InputError naming
    ``checkpoint_path`` when the file cannot be read, is not a checkpoint, or belongs to another account."""
    content = read_private_file(path, CHECKPOINT_LIMIT_BYTES)
    if content is None:
        if os.path.lexists(path):
            raise InputError("checkpoint_path", "%s cannot be read (or is a symlink, which is not followed)" % path)
        return Checkpoint(account)
    try:
        data = json.loads(content.decode("utf-8"))
    except ValueError:
        data = None
    problem = _checkpoint_problem(data)
    if problem:
        raise InputError("checkpoint_path", "%s is not a checkpoint of this source (%s); remove it to start afresh"
                         % (path, problem))
    if data["account"] != account:
        raise InputError("checkpoint_path", "%s is the checkpoint of another account (%s); give each source a file"
                         " of its own" % (path, ", ".join("%s %s" % item for item in sorted(data["account"].items()))))
    return Checkpoint(account, data["covered_until"], data["devices"])


def _checkpoint_problem(data):
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        return "not JSON of format %d" % CHECKPOINT_FORMAT
    if not isinstance(data.get("account"), dict):
        return "no account"
    covered = data.get("covered_until")
    if covered is not None and (isinstance(covered, bool) or not isinstance(covered, (int, float))):
        return "covered_until is not a time"
    devices = data.get("devices")
    if not isinstance(devices, dict) or not all(isinstance(entry, dict) for entry in devices.values()):
        return "devices is not an object of objects"
    return None


def save_checkpoint(path, checkpoint):
    """Replace the file atomically (a crash leaves the old checkpoint or the new one, never half); raises OSError."""
    replace_private_file(path, checkpoint.to_bytes())


def lock_checkpoint(path):
    """Hold an exclusive lock on ``<path>.lock`` for the source's life (returns its descriptor, None without
    fcntl): a second source on the same checkpoint would emit the same changes again. InputError if it is held."""
    if fcntl is None:  # pragma: no cover
        return None
    lock_path = path + ".lock"
    try:
        private_directory(os.path.dirname(path))
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as error:
        raise InputError("checkpoint_path", "cannot create %s (%s)" % (lock_path, describe_os_error(error))) from None
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        os.close(descriptor)
        if error.errno in (errno.EAGAIN, errno.EACCES):
            raise InputError("checkpoint_path", "%s is in use by another running source: give each source a"
                                                " checkpoint of its own" % path) from None
        raise InputError("checkpoint_path", "cannot lock %s (%s)" % (lock_path, describe_os_error(error))) from None
    return descriptor


def poll_age(covered_until, now, overlap, slack=0.0):
    """The ``age`` of the next poll: from ``overlap`` seconds before ``covered_until`` to now, plus ``slack`` (how
    late the previous poll's requests went out), in whole seconds, at most the API's 24 hours.
    Returns ``(age, clipped)``: ``clipped`` when changes older than the API keeps may have been missed."""
    wanted = int(math.ceil(max(0.0, now - covered_until) + overlap + slack))
    return max(1, min(wanted, MAX_CHANGE_AGE_SECONDS)), wanted > MAX_CHANGE_AGE_SECONDS


def window_covered(covered_until, finished, age):
    """Whether a poll of ``age`` seconds that ended at ``finished`` read every change
    since ``covered_until``: its last request may have gone out as late as ``finished`` (pacing, 429 waits,
    retries), and its window then began at ``finished - age``. If not, ``covered_until`` must stay where it was."""
    return covered_until is None or finished - age <= covered_until


class Change(object):
    """One record of a poll that is new to the checkpoint: its key, the entry to record and its payload (None when
    the ``statuses`` option leaves it out: recorded without an event)."""

    def __init__(self, key, entry, payload):
        self.key = key
        self.entry = entry
        self.payload = payload


def new_changes(checkpoint, records, statuses, observed_at, now):
    """The ``Change`` of every record whose status (and ``changed_at``, when the API gives one) differs from what
    the checkpoint holds for its device, in the API's order. ``statuses`` (None: all) keeps the payloads of the
    changes into those statuses. A record seen again in the overlap of two polls, or after a restart, is no change.
    """
    changes = []
    for record in records:
        key = id_key(record["device_id"])
        status = listing_status(record.get("status"))
        changed_at = record.get("changed_at") if isinstance(record.get("changed_at"), str) else None
        known = checkpoint.devices.get(key)
        if known is not None and known.get("status") == status and known.get("changed_at") == changed_at:
            continue
        previous = record.get("previous_status")
        if listing_status(previous) is None and known is not None:
            previous = known.get("status")
        payload = None
        if statuses is None or status in statuses:
            payload = device_payload(CHANGED_EVENT, record, observed_at, previous_status=previous)
        changes.append(Change(key, {"status": status, "changed_at": changed_at, "seen": now}, payload))
    return changes


def batch_payload(payloads):
    """The one event of a poll with ``batch: true``."""
    return {"opswat": {"event": BATCH_EVENT, "devices": payloads}}


def forget_deleted(checkpoint, deleted_ids):
    for device_id in deleted_ids:
        checkpoint.devices.pop(id_key(device_id), None)
