# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's incremental refresh (plugins/inventory/devices.py): the fleet of the last refresh, kept in the
user's state directory; what the next refresh asks (the changes since then, or a full listing); the merge of the
changed devices into that fleet; and the cheap check of the result."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import heapq
import json
import math
import os

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    UNMONITORED_STATUSES, as_listed, id_key, matches)
from ansible_collections.opswat.it_access.plugins.module_utils.session import digest
from ansible_collections.opswat.it_access.plugins.module_utils.state import (
    read_private_file, replace_private_file, state_directory)
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import MAX_CHANGE_AGE_SECONDS
from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory import cached_devices
from ansible_collections.opswat.it_access.plugins.plugin_utils.remediation import parse_timestamp

# Bump when the shape of the file changes: a file of another version is ignored (a full listing).
BASE_FORMAT = 1
# Seconds added to each change window, so that a change the service records a little after a refresh asked for
# the changes (clocks, the time a request takes) still falls in the next window.
CHANGE_WINDOW_OVERLAP_SECONDS = 120
# A base larger than this is not read (a full listing instead): about 250,000 devices.
MAX_BASE_BYTES = 512 * 1024 * 1024
DEFAULT_FULL_REFRESH_INTERVAL = MAX_CHANGE_AGE_SECONDS
# Fields of Device Details that a listing never has (docs/dev/api-notes.md, Device Details); left out of a merged
# device when no listed device shows which fields a listing has.
DETAIL_ONLY_FIELDS = ("agent_type",)


class RefreshBase(object):
    """The fleet a refresh produced: ``devices`` (listing shape, enrolment order), ``listed_at`` (epoch seconds
    when the full listing it derives from started) and ``checked_at`` (when the refresh that wrote it started)."""

    def __init__(self, devices, listed_at, checked_at):
        self.devices = devices
        self.listed_at = listed_at
        self.checked_at = checked_at


def base_path(cache_key):
    """The file of the base of one inventory cache entry, in the user's private state directory."""
    return os.path.join(state_directory(), "inventory-%s.json" % digest(cache_key)[:24])


def read_base(path):
    """The ``RefreshBase`` in ``path``; None when there is none, or not one this version wrote."""
    content = read_private_file(path, MAX_BASE_BYTES)
    if not content:
        return None
    try:
        entry = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("format") != BASE_FORMAT:
        return None
    listed_at, checked_at = entry.get("listed_at"), entry.get("checked_at")
    if not all(_is_time(value) for value in (listed_at, checked_at)) or listed_at > checked_at:
        return None
    devices = cached_devices(dict(format=BASE_FORMAT, devices=entry.get("devices")), BASE_FORMAT)
    if devices is None:
        return None
    return RefreshBase(devices, float(listed_at), float(checked_at))


def write_base(path, base):
    """Write ``base`` to ``path`` atomically (mode 0600); raises ``OSError``."""
    entry = dict(format=BASE_FORMAT, listed_at=base.listed_at, checked_at=base.checked_at, devices=base.devices)
    replace_private_file(path, json.dumps(entry, separators=(",", ":")).encode("utf-8"))


def change_window(base, now, full_refresh_interval):
    """``(age, None)``: ask for the changes of the last ``age`` seconds; ``(None, reason)``: list the fleet."""
    if base is None:
        return None, "no fleet of an earlier refresh on this machine"
    if not base.devices:
        # Nothing to merge into, and the listing of such a fleet is at most a page or two anyway.
        return None, "the fleet of the last refresh was empty"
    if now < base.checked_at:
        return None, "the clock is before the last refresh"
    if now - base.listed_at >= full_refresh_interval:
        return None, "the last full listing is older than full_refresh_interval (%d s)" % full_refresh_interval
    age = int(math.ceil(now - base.checked_at)) + CHANGE_WINDOW_OVERLAP_SECONDS
    if age > MAX_CHANGE_AGE_SECONDS:
        return None, "the last refresh is older than the %d s of changes the API keeps" % MAX_CHANGE_AGE_SECONDS
    return age, None


def merge_changes(devices, changed_ids, details, deleted_ids, active_filters):
    """The fleet ``devices`` with the changes applied, in the listing's shape and enrolment order.

    ``details`` are the Device Details of ``changed_ids`` (a changed device they lack is gone, as the deleted
    ones); each is given the listing's field names and only the fields listed devices have, then kept where it
    matches ``active_filters``. A device no change names is kept as it is.
    """
    fields = _listing_fields(devices)
    changed = set(id_key(device_id) for device_id in changed_ids)
    fresh = {}
    for detail in details:
        key = id_key(detail.get("device_id"))
        if key in changed:  # an answer's device nobody asked for is not one of the fleet's changes
            fresh[key] = _as_listing_record(detail, fields)
    gone = (set(id_key(device_id) for device_id in deleted_ids) | changed) - set(fresh)
    merged = []
    for device in devices:
        key = id_key(device.get("device_id"))
        if key in gone:
            continue
        if key in fresh:
            record = fresh.pop(key)
            if matches(record, active_filters):
                merged.append(_with_cached_fields(record, device))
            continue
        merged.append(device)
    # What is left is new to this inventory: enrolled since, or matching the filters since.
    added = [record for record in fresh.values() if matches(record, active_filters)]
    return _in_enrolment_order(merged, added)


def monitored_count(devices):
    """How many of ``devices`` Account Details counts in ``devices_used``: those with an agent and a license."""
    return sum(1 for device in devices if device.get("status") not in UNMONITORED_STATUSES)


def _listing_fields(devices):
    fields = set()
    for device in devices:
        fields.update(device)
    return fields


def _as_listing_record(detail, fields):
    record = as_listed(detail)
    if fields:
        return dict((name, value) for name, value in record.items() if name in fields)
    return dict((name, value) for name, value in record.items() if name not in DETAIL_ONLY_FIELDS)


def _with_cached_fields(record, cached):
    """``record`` in the cached device's field order, keeping the cached value of a field Device Details lacks."""
    merged = dict((name, record.get(name, value)) for name, value in cached.items())
    merged.update((name, value) for name, value in record.items() if name not in merged)
    return merged


def _enrolment_key(device):
    return parse_timestamp(device.get("enrolled_at"))


def _in_enrolment_order(devices, added):
    """``devices`` (in enrolment order) and ``added`` merged by enrolment time; ``added`` last when a time is
    missing, as a listing would put what was enrolled last."""
    if not added:
        return devices
    if any(_enrolment_key(device) is None for device in devices + added):
        return devices + added
    added.sort(key=_enrolment_key)
    # On a tie the device already in the inventory comes first (heapq.merge is stable across its inputs).
    return list(heapq.merge(devices, added, key=_enrolment_key))


def _is_time(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value >= 0
