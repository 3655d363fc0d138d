# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Device vocabulary shared by the modules, the inventory plugin and the remediation role.

The choice lists are the documented values of Get Devices (docs/dev/api-notes.md, Get Devices). Filters are applied on
the controller side because Get Devices v3.5+ takes no filter: values inside one filter are OR'ed,
different filters are AND'ed, as the API documents for its older filtered versions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, OpswatError
from ansible_collections.opswat.it_access.plugins.module_utils.session import (
    ACTION_MAY_HAVE_BEEN_APPLIED, MAX_PAGE_SIZE, as_list, batches, digest, misshapen_field, outcome_unknown)

DEVICE_STATUSES = ["compliant", "non_compliant", "exempted", "out_of_license_usage", "unknown",
                   "ignored", "installed", "pending", "quarantined"]
# Statuses of devices that Account Details does not count as monitored (``devices_used``): no agent, or past
# the license (docs/dev/api-notes.md, Account Details).
UNMONITORED_STATUSES = ("unknown", "ignored", "out_of_license_usage")
SEVERITIES = ["critical", "warning", "no_issues"]
DEVICE_TYPES = ["desktop", "laptop", "phone", "tablet", "server", "vm"]
OS_TYPES = ["windows", "mac", "linux", "ios", "android"]

# The filter options of opswat_device_info and the inventory plugin: option -> documented choices (None: free text).
FILTER_CHOICES = {
    "status": DEVICE_STATUSES,
    "severity": SEVERITIES,
    "device_type": DEVICE_TYPES,
    "os_type": OS_TYPES,
    "group_name": None,
}

_MAC_SEPARATED = re.compile(r"^[0-9a-f]{2}([:-])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4}$")
_MAC_DOTTED = re.compile(r"^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$")
_MAC_BARE = re.compile(r"^[0-9a-f]{12}$")


def normalize_mac(value, option="macs"):
    """Return ``value`` as ``aa:bb:cc:dd:ee:ff``.

    Accepts ``aa:bb:cc:dd:ee:ff``, ``AA-BB-CC-DD-EE-FF``, ``aabb.ccdd.eeff`` and ``aabbccddeeff``, in any case.
    Raises ``InputError`` naming ``option`` otherwise.
    """
    text = str(value).strip().lower()
    if _MAC_SEPARATED.match(text) or _MAC_DOTTED.match(text) or _MAC_BARE.match(text):
        digits = re.sub(r"[^0-9a-f]", "", text)
        return ":".join(digits[index:index + 2] for index in range(0, 12, 2))
    raise InputError(option, "%r is not a MAC address (expected a form such as aa:bb:cc:dd:ee:ff,"
                             " AA-BB-CC-DD-EE-FF or aabb.ccdd.eeff)" % (value,))


def unique(values, key=None):
    """``values`` without duplicates (values whose ``key`` is the same, with ``key``), first occurrence kept."""
    seen = set()
    result = []
    for value in values:
        marker = value if key is None else key(value)
        if marker not in seen:
            seen.add(marker)
            result.append(value)
    return result


def id_key(device_id):
    """The form device ids are compared in: without regard to case (the API matches them so).

    A user's id and the API's spelling of it are matched through this; each keeps its own spelling.
    """
    return device_id.lower() if isinstance(device_id, str) else device_id


def unique_ids(device_ids):
    """``device_ids`` without repeats in any case, the first spelling kept."""
    return unique(device_ids, key=id_key)


def unique_strings(option, values):
    """``values`` (a list of non-empty strings) without repeats, in their order; else InputError naming ``option``."""
    if isinstance(values, (str, bytes, dict)) or not hasattr(values, "__iter__"):
        raise InputError(option, "must be a list of strings, got %s" % type(values).__name__)
    values = list(values)
    for value in values:
        if not isinstance(value, str) or not value:
            raise InputError(option, "must hold non-empty strings, got %r" % (value,))
    return unique(values)


def listing_status(status):
    """A status in Get Devices' spelling (``non-compliant`` -> ``non_compliant``); None when it is none we know.

    Status Change and Account Details spell with a hyphen what Get Devices spells with an underscore.
    """
    if not isinstance(status, str):
        return None
    spelled = status.strip().lower().replace("-", "_")
    return spelled if spelled in DEVICE_STATUSES else None


# Device Details' spellings of a listing's fields (docs/dev/api-notes.md, Device Details): the issue counts
# (one public client's model), and the nickname (that client's nick_name).
_DETAIL_ISSUE_KEYS = (("total_critical_issue", "total_critical"), ("total_warning_issue", "total_warning"))
_DETAIL_FIELD_NAMES = (("nick_name", "nickname"),)


def as_listed(device):
    """A device of Device Details with the field names and spellings of Get Devices' listing.

    Fields a listing does not have (``agent_type``) stay; a listing's own spelling, when present, wins.
    """
    listed = _renamed(device, _DETAIL_FIELD_NAMES)
    if isinstance(listed.get("issue"), dict):
        listed["issue"] = _renamed(listed["issue"], _DETAIL_ISSUE_KEYS)
    status = listing_status(listed.get("status"))
    if status is not None:
        listed["status"] = status
    return listed


def _renamed(record, names):
    """A copy of ``record`` with each ``(old, new)`` of ``names`` renamed; a value already under ``new`` wins."""
    renamed = dict(record)
    for old, new in names:
        if old in renamed:
            renamed.setdefault(new, renamed.pop(old))
    return renamed


def check_page_size(page_size):
    """A page of Get Devices holds 1 to MAX_PAGE_SIZE devices; InputError naming ``page_size`` otherwise."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InputError("page_size", "must be an integer between 1 and %d (the API's maximum), got %r"
                         % (MAX_PAGE_SIZE, page_size))


def check_listing_options(page_size, max_devices):
    """The options of a user's listing (opswat_device_info, the inventory plugin), checked before any request."""
    check_page_size(page_size)
    if max_devices is not None and (isinstance(max_devices, bool) or not isinstance(max_devices, int)
                                    or max_devices < 1):
        raise InputError("max_devices", "must be at least 1, got %r" % (max_devices,))


# The fields of a device that the collection compares, hashes or looks up (filters, matching answers to requests,
# the action table): each must be one JSON value, never an array or an object. BLOCK_FIELDS are those of each
# entry of os_info and network_info, which the API sends as an object or a list of objects.
DEVICE_VALUE_FIELDS = ("device_id", "status", "severity", "device_type", "group_name", "agent_type", "agent_version")
DEVICE_BLOCK_FIELDS = (("os_info", "type"), ("network_info", "mac"))


def normalize_macs(values, option="macs"):
    return unique(normalize_mac(value, option) for value in values)


def device_macs(device):
    """Normalised MAC addresses of a device's network adapters (invalid or missing ones skipped)."""
    macs = []
    for adapter in as_list(device.get("network_info")):
        if isinstance(adapter, dict) and adapter.get("mac"):
            try:
                macs.append(normalize_mac(adapter["mac"]))
            except InputError:
                continue
    return macs


def device_os_types(device):
    return set(info.get("type") for info in as_list(device.get("os_info")) if isinstance(info, dict))


def _device_values(device, name):
    if name == "os_type":
        return device_os_types(device)
    return set([device.get(name)])


def validate_filters(filters):
    """Check filter values against the documented choices; returns the filters that are set.

    The argument spec already checks choices for modules; the inventory plugin and the role call this too.
    """
    active = {}
    for name, choices in FILTER_CHOICES.items():
        values = filters.get(name)
        if not values:
            continue
        if isinstance(values, str):
            values = [values]
        if choices is not None:
            wrong = [value for value in values if value not in choices]
            if wrong:
                raise InputError(name, "unknown value(s) %s; choose from %s" % (", ".join(map(str, wrong)), ", ".join(choices)))
        active[name] = set(values)
    return active


# v3.7 is the current cursor version (v3.5 plus host_name from v3.6 and public_ip from v3.7).
DEVICES_PATH = "/o/api/v3.7/devices"
DEVICE_DETAILS_PATH = "/o/api/v3.8/devices/detail"
DEVICE_ACTION_PATH = "/o/api/v3.3/devices/action"

# The fields of one device's result of Device Action that are matched to the devices sent.
ACTION_RESULT_VALUE_FIELDS = ("id", "command_id")


class DevicesClient(object):
    """Get Devices (v3.7), Device Details (v3.8) and Device Action (v3.3), on a ``Session``.

    Every device returned has its ``DEVICE_VALUE_FIELDS`` and ``DEVICE_BLOCK_FIELDS`` as single JSON values.
    """

    def __init__(self, session):
        self._session = session

    def list(self, page_size=MAX_PAGE_SIZE, max_devices=None):
        """Every device (cursor paging), oldest enrolment first; at most ``max_devices``.

        The arguments are checked now; requests are sent as the iterator is consumed.
        """
        check_page_size(page_size)
        # 0 is allowed here (an empty listing, no request); users' options start at 1 (check_listing_options).
        if max_devices is not None and (isinstance(max_devices, bool) or not isinstance(max_devices, int)
                                        or max_devices < 0):
            raise InputError("max_devices", "must be an integer, 0 or more, got %r" % (max_devices,))
        return self._listing(page_size, max_devices)

    def details(self, ids):
        """Device Details of ``ids`` (device ids or MACs), 50 a request; unknown ids are left out."""
        session = self._session
        devices = []
        for batch in batches(unique_strings("ids", ids)):
            response, data = session.call("POST", DEVICE_DETAILS_PATH, json_body={"ids": batch, "opt": 0},
                                          accept_statuses=(404,))
            if response.status == 404:
                continue  # none of this batch is known
            batch_devices = session.list_of_objects("POST", DEVICE_DETAILS_PATH, response, data, "devices")
            session.check_fields("POST", DEVICE_DETAILS_PATH, response, batch_devices, "devices", DEVICE_VALUE_FIELDS,
                                 DEVICE_BLOCK_FIELDS)
            devices.extend(batch_devices)
        return devices

    def action(self, action, ids=None, macs=None, params=None):
        """Apply ``action`` to devices by id or MAC, 50 a request; one ``{id, status, command_id}`` per device.

        Never retried after a 5xx, a timeout or a dropped connection (the action may have been applied).
        An error raised here carries ``completed_results`` (the results of the batches already applied),
        ``failed_batch_ids`` (the batch whose outcome is unknown or failed), ``unsent_ids`` and
        ``may_have_been_applied`` (False when the answer proves the failed batch was not processed: a 401, 429s).
        """
        key, values = _action_targets(action, ids, macs, params)
        sent = batches(unique_strings(key, values))
        results = []
        for index, batch in enumerate(sent):
            body = {"types": action, key: batch}
            if params is not None:
                body["params"] = params
            try:
                response, data = self._session.call("POST", DEVICE_ACTION_PATH, json_body=body, idempotent=False)
                batch_results = self._action_results(response, data)
            except OpswatError as error:
                error.completed_results = list(results)
                error.failed_batch_ids = batch
                error.unsent_ids = [value for later in sent[index + 1:] for value in later]
                raise
            results.extend(batch_results)
        return results

    # ------------------------------------------------------------------ the cursor listing

    def _listing(self, page_size, max_devices):
        return self._session.cursor_pages(DEVICES_PATH, {}, ("device", "devices"), self._shape, _device_identity,
                                          page_size, max_devices)

    def _shape(self, response, data):
        """The devices of one page, every device an object with single-valued fields."""
        session = self._session
        if not isinstance(data, dict) or not isinstance(data.get("devices"), list):
            raise session.unexpected("POST", DEVICES_PATH, response, "expected a JSON object with a devices list")
        devices = data["devices"]
        for device in devices:
            if not isinstance(device, dict):
                raise session.unexpected("POST", DEVICES_PATH, response, "a device is not a JSON object")
        session.check_fields("POST", DEVICES_PATH, response, devices, "devices", DEVICE_VALUE_FIELDS,
                             DEVICE_BLOCK_FIELDS)
        return devices

    # ------------------------------------------------------------------ Device Action's answer

    def _action_results(self, response, data):
        """The v3.1+ list ``[{id, status, command_id}]`` or the v3.0 object ``{id: status}``, as the list form."""
        def unexpected(what):
            return outcome_unknown(self._session.unexpected("POST", DEVICE_ACTION_PATH, response,
                                                            "%s. %s" % (what, ACTION_MAY_HAVE_BEEN_APPLIED)))

        if isinstance(data, list):
            return [_listed_result(index, item, unexpected) for index, item in enumerate(data)]
        if isinstance(data, dict):
            return [_keyed_result(device_id, value, unexpected) for device_id, value in data.items()]
        raise unexpected("expected a list of results or an object of statuses")


def _action_targets(action, ids, macs, params):
    """``(key, values)`` of a device action's targets, ``ids`` or ``macs``; ``InputError`` for a bad argument."""
    if not isinstance(action, str) or not action:
        raise InputError("action", "must be a non-empty string, got %r" % (action,))
    if ids is not None and macs is not None:
        raise InputError("ids", "give ids or macs, not both")
    if ids is None and macs is None:
        raise InputError("ids", "give ids or macs")
    if params is not None and not isinstance(params, dict):
        raise InputError("params", "must be a dict, got %s" % type(params).__name__)
    return ("ids", ids) if ids is not None else ("macs", macs)


def _listed_result(index, item, unexpected):
    """One ``{id, status, command_id}`` of the v3.1+ list form."""
    if not isinstance(item, dict) or "id" not in item:
        raise unexpected("an item of the result list is not an object with an id")
    problem = misshapen_field(item, ACTION_RESULT_VALUE_FIELDS)
    if problem is not None:
        raise unexpected("results[%d].%s is a JSON %s, expected a string" % ((index,) + problem))
    status = _as_int(item.get("status"))
    if status is None:
        raise unexpected("the status of a device is not an integer")
    command_id = item.get("command_id")
    return dict(id=item["id"], status=status, command_id=None if command_id in (None, "") else str(command_id))


def _keyed_result(device_id, value, unexpected):
    """One result of the v3.0 object form ``{id: status}``."""
    status = _as_int(value)
    if status is None:
        raise unexpected("expected a list of results or an object of integer statuses")
    return dict(id=device_id, status=status, command_id=None)


def _device_identity(device):
    """What tells two listed devices apart: the device id, or the whole record when it has none."""
    device_id = device.get("device_id")
    if device_id is None or device_id == "":
        return ("record", digest(device))
    return ("id", device_id)


def _as_int(value):
    """An integer from an int, an integral float or a numeric string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def list_matching(client, active_filters, page_size, max_devices=None):
    """The listed devices that match ``active_filters``, in enrolment order, at most ``max_devices``.

    The listing stops as soon as it has them. Without filters the client stops at ``max_devices`` itself
    (and asks a smaller last page).
    """
    devices = []
    listing = client.devices.list(page_size=page_size, max_devices=None if active_filters else max_devices)
    try:
        for device in listing:
            if matches(device, active_filters):
                devices.append(device)
                if max_devices and len(devices) >= max_devices:
                    break
    finally:
        close = getattr(listing, "close", None)
        if close is not None:
            close()
    return devices


def matches(device, active_filters):
    """True when the device matches every active filter (AND), each with any of its values (OR)."""
    for name, wanted in active_filters.items():
        if not _device_values(device, name) & wanted:
            return False
    return True


def one_device(device_id, mac):
    """What a request about one device sends as its ``id``: ``device_id`` as given, or ``mac`` normalised.

    Exactly one of them; InputError naming the option otherwise.
    """
    if device_id is not None and mac is not None:
        raise InputError("device_id", "give device_id or mac, not both")
    if device_id is None and mac is None:
        raise InputError("device_id", "give device_id or mac")
    if mac is not None:
        return normalize_mac(mac, "mac")
    if not isinstance(device_id, str) or not device_id.strip():
        raise InputError("device_id", "must be a non-empty string, got %r" % (device_id,))
    return device_id.strip()
