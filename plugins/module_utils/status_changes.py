# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Status Change (v3): the devices whose status changed, and those deleted, within an age; on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    DEVICE_STATUSES, DEVICE_VALUE_FIELDS, id_key, listing_status)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.session import json_type

STATUS_CHANGES_PATH = "/o/api/v3/devices/status_changed"

# The API keeps 24 hours of changes; 0 is allowed by the API but asks for nothing.
MAX_CHANGE_AGE_SECONDS = 86400

# The fields of a change record that a listing of Get Devices holds under the same name and in the same shape
# (status once normalised). The record's issue counts are spelled differently (total_issues...): not among them.
CHANGE_RECORD_FIELDS = ("device_id", "status", "severity", "group_name", "device_name")


def check_change_age(option, value):
    """``value`` when it is an integer of 1..86400 seconds; InputError naming ``option`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CHANGE_AGE_SECONDS:
        raise InputError(option, "must be an integer number of seconds from 1 to %d (the API keeps 24 hours of"
                                 " changes), got %r" % (MAX_CHANGE_AGE_SECONDS, value))
    return value


class StatusChanges(object):
    """What Status Change answered: ``devices``, one change record per device (its status in Get Devices'
    spelling), in the order the API gave them, and ``deleted_ids``, the ids of the devices deleted."""

    def __init__(self, devices, deleted_ids):
        self.devices = devices
        self.deleted_ids = deleted_ids


class StatusChangesClient(object):
    def __init__(self, session):
        self._session = session

    def within(self, age):
        """The devices whose status changed, and those deleted, within ``age`` seconds: a ``StatusChanges``.

        Pages of 50; the paging ends on 413, a page with no record or a page with fewer than 50 records, and
        fails when a page repeats an earlier one. A device deleted is not among the changed ones.
        """
        check_change_age("age", age)
        listing = _Listing()
        body = {"age": age, "verbose": 1}
        for response, (monitored, deleted) in self._session.numbered_pages(STATUS_CHANGES_PATH, body, "status changes",
                                                                           self._page):
            for index, record in enumerate(monitored):
                listing.add_change(self._change(response, index, record))
            for index, entry in enumerate(deleted):
                listing.add_deleted(self._deleted_id(response, index, entry))
        deleted = set(id_key(device_id) for device_id in listing.deleted)
        changed = [record for record in listing.changed if id_key(record["device_id"]) not in deleted]
        return StatusChanges(changed, listing.deleted)

    def _page(self, response, data):
        """``((monitored records, deleted entries), records)`` of one answer, its shape checked."""
        monitored, deleted = self._envelope(response, data)
        # Whether limit counts both lists or each is not documented: the sum never ends the paging too early.
        return (monitored, deleted), len(monitored) + len(deleted)

    def _envelope(self, response, data):
        """``(monitored records, deleted entries)`` of a bare list or of the object form, either key missing."""
        session = self._session
        if isinstance(data, list):
            monitored, deleted = data, []
        elif isinstance(data, dict):
            monitored, deleted = data.get("monitored_devices", []), data.get("deleted_devices", [])
        else:
            raise self._unexpected(response, "expected a JSON list, or an object with monitored_devices and"
                                             " deleted_devices lists")
        for name, value in (("monitored_devices", monitored), ("deleted_devices", deleted)):
            if not isinstance(value, list):
                raise self._unexpected(response, "%s is a JSON %s, expected a list" % (name, json_type(value)))
        for index, record in enumerate(monitored):
            if not isinstance(record, dict):
                raise self._unexpected(response, "monitored_devices[%d] is a JSON %s, expected an object"
                                       % (index, json_type(record)))
        session.check_fields("POST", STATUS_CHANGES_PATH, response, monitored, "monitored_devices",
                             DEVICE_VALUE_FIELDS)
        return monitored, deleted

    def _change(self, response, index, record):
        """The record with its status in Get Devices' spelling; an error naming the record and the field."""
        problem = _device_id_problem(record.get("device_id"))
        if problem is not None:
            raise self._unexpected(response, "monitored_devices[%d].device_id %s" % (index, problem))
        status = listing_status(record.get("status"))
        if status is None:
            raise self._unexpected(response, "monitored_devices[%d].status is %s, not a status this collection"
                                             " knows (%s)" % (index, _shown(record.get("status")),
                                                              ", ".join(DEVICE_STATUSES)))
        return dict(record, status=status)

    def _deleted_id(self, response, index, entry):
        """The id of a deleted device, given as a bare string or as an object with ``device_id``."""
        if isinstance(entry, dict):
            device_id, where = entry.get("device_id"), "deleted_devices[%d].device_id" % index
        else:
            device_id, where = entry, "deleted_devices[%d]" % index
        problem = _device_id_problem(device_id)
        if problem is not None:
            raise self._unexpected(response, "%s %s (a deleted device is an id or an object with a device_id)"
                                   % (where, problem))
        return device_id

    def _unexpected(self, response, what):
        return self._session.unexpected("POST", STATUS_CHANGES_PATH, response, what)


class _Listing(object):
    """What the pages brought so far: each device's change once, the deleted ids once."""

    def __init__(self):
        self.changed = []
        self.deleted = []
        self._changed_index = {}  # id_key -> position in changed
        self._deleted_keys = set()

    def add_change(self, record):
        # A device changed twice (or moved to a later page while paging) is reported once: its last record.
        key = id_key(record["device_id"])
        if key in self._changed_index:
            self.changed[self._changed_index[key]] = record
        else:
            self._changed_index[key] = len(self.changed)
            self.changed.append(record)

    def add_deleted(self, device_id):
        key = id_key(device_id)
        if key not in self._deleted_keys:
            self._deleted_keys.add(key)
            self.deleted.append(device_id)


def _device_id_problem(value):
    """What is wrong with a device id of an answer, None when it is a non-empty string."""
    if value is None:
        return "is missing"
    if not isinstance(value, str):
        return "is a JSON %s, expected a string" % json_type(value)
    return "is empty" if value == "" else None


def _shown(value):
    """A status as an error names it: its JSON type when it is no string."""
    return repr(value) if isinstance(value, str) else "a JSON %s" % json_type(value)
