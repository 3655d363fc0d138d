# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat.it_access.device_status: an ansible-rulebook event source that emits each device status change of IT Access
once, polled from the Status Change API (docs/event-driven.md)."""

import asyncio
import os
import sys
import time

DOCUMENTATION = r"""
---
module: device_status
short_description: Events of IT Access device status changes, polled from the Status Change API
version_added: 0.1.0
description:
  - >-
    An event source of ansible-rulebook and the EDA controller. Every O(interval) seconds it asks the Status Change
    API for the changes since the last poll (one request while fewer than 50 devices changed) and emits one event
    per device status change, C({"opswat": {"event": "device_status_changed", "device_id", "device_name", "status",
    "previous_status", "severity", "group_name", "observed_at"}}), statuses in Get Devices' spelling (V(non_compliant)).
  - >-
    With O(batch=true), one event per poll, C({"opswat": {"event": "device_status_batch", "devices": [...]}}); a poll
    with no change emits nothing.
  - Each change is emitted once, also across a restart, through the checkpoint file O(checkpoint_path). A device that
    changes and changes back within one interval is not seen; the API keeps 24 hours of changes.
  - It uses the modules' connection options, environment variables, pacing and token cache, so a rulebook and the
    playbooks it starts share one request budget on the machine.
  - A bad argument stops the source at once; a failed poll (429, 5xx, timeout) is logged and retried at the next
    interval; a rejected credential stops the source.
author:
  - opswat.it_access maintainers (@opswat-it-access)
requirements:
  - ansible-rulebook
  - requests
extends_documentation_fragment:
  - opswat.it_access.connection
options:
  interval:
    description: Seconds between polls, 1 to 86400.
    type: int
    default: 60
  batch:
    description: One C(device_status_batch) event per poll with every change of the poll, instead of one event a change.
    type: bool
    default: false
  statuses:
    description:
      - Emit only the changes into these statuses (the others are still recorded in the checkpoint).
    type: list
    elements: str
    choices: [compliant, non_compliant, exempted, out_of_license_usage, unknown, ignored, installed, pending, quarantined]
  checkpoint_path:
    description:
      - The checkpoint file, one per account, replaced atomically after each poll.
      - By default a file per account in the system temp directory, which does not survive a reboot or an EDA
        controller activation's new container; an empty string means that default.
    type: path
  overlap:
    description: Seconds each poll's window reaches back before the end of the previous one, 0 to 3600.
    type: int
    default: 60
  initial_age:
    description:
      - On a start with no checkpoint, also emit the changes of the last N seconds (at most 86400). With V(0), a first
        start emits only what changes from then on.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Quarantine devices that turn non-compliant
  hosts: localhost
  sources:
    - opswat.it_access.device_status:
        interval: 60
        batch: true
        statuses: [non_compliant]
        checkpoint_path: /var/lib/eda/opswat-device-status.json
  rules:
    - name: Quarantine the critical ones
      condition: event.opswat.devices is selectattr('severity', '==', 'critical')
      action:
        run_playbook:
          name: opswat.it_access.quarantine_from_events
"""


def _use_installed_collection():
    """Make ``ansible_collections.opswat.it_access`` importable from the collection this file is part of.

    ansible-rulebook loads a source with runpy, outside Ansible's collection loader: the directory that holds
    this file's ``ansible_collections/`` goes first on ``sys.path``. Every source of the collection starts with
    this same function (a unit test keeps them equal).
    """
    collections = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 6))
    root = os.path.dirname(collections)
    if os.path.basename(collections) == "ansible_collections" and root not in sys.path:
        sys.path.insert(0, root)


_use_installed_collection()

# pylint: disable=wrong-import-position  # after the bootstrap above, which makes them importable
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (  # noqa: E402
    AuthenticationError, InputError, OpswatError)
from ansible_collections.opswat.it_access.plugins.module_utils.state import describe_os_error  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import (  # noqa: E402
    MAX_CHANGE_AGE_SECONDS)
from ansible_collections.opswat.it_access.plugins.plugin_utils import event_source  # noqa: E402
from ansible_collections.opswat.it_access.plugins.plugin_utils import status_events  # noqa: E402

SOURCE_NAME = "opswat.it_access.device_status"
ARGUMENTS = ("interval", "batch", "statuses", "checkpoint_path", "overlap", "initial_age")
LOGGER = event_source.source_logger(SOURCE_NAME)


class Settings(object):
    """The checked arguments of one source."""

    def __init__(self, args):
        event_source.check_known_arguments(args, ARGUMENTS + tuple(event_source.CONNECTION_OPTIONS))
        self.interval = event_source.integer_argument(args, "interval", 60, 1, MAX_CHANGE_AGE_SECONDS)
        self.batch = event_source.boolean_argument(args, "batch", False)
        self.statuses = event_source.statuses_argument(args)
        self.overlap = event_source.integer_argument(args, "overlap", 60, 0, 3600)
        self.initial_age = event_source.integer_argument(args, "initial_age", 0, 0, MAX_CHANGE_AGE_SECONDS)
        self.config = event_source.connection_config(args)
        self.account = event_source.account_identity(self.config)
        self.checkpoint_path = (event_source.path_argument(args, "checkpoint_path")
                                or status_events.default_checkpoint_path(self.account))


class Poller(object):
    """One running source: the client, the checkpoint, and the loop of polls."""

    def __init__(self, settings, queue, clock=time.time, sleep=asyncio.sleep, new_client=None):
        self.settings = settings
        self.new_client = new_client or event_source.new_client
        self.queue = queue
        self.clock = clock
        self.sleep = sleep
        self.stopper = event_source.Stopper()
        self.checkpoint = None
        self.slack = 0.0  # how long the last poll took: the next window reaches that much further back
        self._lock = None

    def open(self):
        """Lock and read the checkpoint, and prove it can be written: a bad path stops the source at once."""
        path = self.settings.checkpoint_path
        self._lock = status_events.lock_checkpoint(path)
        try:
            self.checkpoint = status_events.load_checkpoint(path, self.settings.account)
            self._save()
        except InputError:
            self._unlock()
            raise

    def _unlock(self):
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _save(self):
        try:
            status_events.save_checkpoint(self.settings.checkpoint_path, self.checkpoint)
        except OSError as error:
            raise InputError("checkpoint_path", "cannot write %s (%s)" % (
                self.settings.checkpoint_path, describe_os_error(error))) from None

    async def run(self):
        client = self.new_client(self.settings.config, self.stopper, LOGGER)
        for warning in self.settings.config.warnings:
            LOGGER.warning("%s: %s", SOURCE_NAME, warning)
        try:
            while True:
                await self.poll_once(client)
                await self.sleep(self.settings.interval)
        finally:
            # Cancelled (or failed): end the thread's waits, then close the client in the thread's wake.
            self.stopper.stop()
            client.close()
            self._unlock()

    async def poll_once(self, client):
        """One poll; a failure other than a rejected credential is logged and left to the next interval."""
        checkpoint = self.checkpoint
        started = self.clock()
        first = checkpoint.covered_until is None
        if first:
            age, clipped = (self.settings.initial_age or max(1, self.settings.overlap)), False
        else:
            age, clipped = status_events.poll_age(checkpoint.covered_until, started, self.settings.overlap,
                                                  self.slack)
        if clipped:
            LOGGER.warning("%s: the last poll was more than 24 hours ago: changes older than the API keeps may have"
                           " been missed", SOURCE_NAME)
        try:
            answer = await event_source.in_thread(client.status_changes.within, age)
        except AuthenticationError as error:
            raise PermissionError("%s: the credentials were rejected: %s" % (SOURCE_NAME, error.message)) from None
        except OpswatError as error:
            LOGGER.error("%s: poll failed, retried in %d s: %s", SOURCE_NAME, self.settings.interval, error.message)
            return
        finished = self.clock()
        changes = status_events.new_changes(checkpoint, answer.devices, self.settings.statuses,
                                            event_source.utc_timestamp(finished), finished)
        # A first start without initial_age records where every device stands, and emits nothing.
        await self._emit(changes, emit=not first or bool(self.settings.initial_age))
        status_events.forget_deleted(checkpoint, answer.deleted_ids)
        checkpoint.forget_old(finished)
        if first and not self.settings.initial_age:
            # What this first poll read is where devices stood at the start. The next window must not reach back
            # before its own (the changes there came before the start): it starts from this poll's end.
            checkpoint.covered_until, self.slack = finished, 0.0
        elif status_events.window_covered(checkpoint.covered_until, finished, age):
            checkpoint.covered_until, self.slack = started, finished - started
        else:
            LOGGER.info("%s: the poll's requests went out late (%.1f s): the next window reaches further back",
                        SOURCE_NAME, finished - started)
            self.slack = finished - started
        self._save()
        LOGGER.debug("%s: poll of %d s: %d records, %d new", SOURCE_NAME, age, len(answer.devices), len(changes))

    async def _emit(self, changes, emit):
        """Put the events of ``changes`` on the queue (none when ``emit`` is false) and record each change as soon
        as its event is on it: a cancellation part-way saves exactly what went out, and the rest is read again."""
        devices = self.checkpoint.devices
        payloads = [change.payload for change in changes if change.payload is not None] if emit else []
        try:
            if self.settings.batch and payloads:
                await self.queue.put(status_events.batch_payload(payloads))
            for change in changes:
                if change.payload is not None and emit and not self.settings.batch:
                    await self.queue.put({"opswat": change.payload})
                devices[change.key] = change.entry
        except asyncio.CancelledError:
            self._save()
            raise


async def main(queue, args):
    """The ansible-rulebook entry point: poll until cancelled."""
    try:
        poller = Poller(Settings(args), queue)
        poller.open()
        await poller.run()
    except InputError as error:
        # A bad argument, or a checkpoint that can no longer be written (going on would emit changes again
        # after a restart): the source stops, naming the argument.
        raise ValueError("%s: %s" % (SOURCE_NAME, error.message)) from None
