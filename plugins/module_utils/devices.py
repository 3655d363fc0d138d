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

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError

DEVICE_STATUSES = ["compliant", "non_compliant", "exempted", "out_of_license_usage", "unknown",
                   "ignored", "installed", "pending", "quarantined"]
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

# The API's maximum for every list and batch: devices a page, ids a Device Details or Device Action request.
MAX_PAGE_SIZE = 50

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


def misshapen_field(record, fields, block_fields=()):
    """The first of ``fields`` (or of ``block_fields`` in each entry of a block) that holds a JSON array or object
    where one value belongs, as ``(path, "array" or "object")``, for example ``("os_info[0].type", "object")``;
    None when every one is a single value or absent."""
    for name in fields:
        kind = json_type(record.get(name))
        if kind in _CONTAINER_TYPES:
            return name, kind
    for block, name in block_fields:
        value = record.get(block)
        entries = [(block, value)] if isinstance(value, dict) else [
            ("%s[%d]" % (block, index), entry) for index, entry in enumerate(as_list(value))]
        for where, entry in entries:
            kind = json_type(entry.get(name)) if isinstance(entry, dict) else None
            if kind in _CONTAINER_TYPES:
                return "%s.%s" % (where, name), kind
    return None


_CONTAINER_TYPES = ("array", "object")


def json_type(value):
    """The JSON name of a parsed value's type (``string``, ``number``, ``boolean``, ``null``, ``array``, ``object``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null" if value is None else "string"


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


def as_list(value):
    """The API documents some blocks (``os_info``) as both an object and an array of objects: accept both."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


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


def list_matching(client, active_filters, page_size, max_devices=None):
    """The listed devices that match ``active_filters``, in enrolment order, at most ``max_devices``.

    The listing stops as soon as it has them. Without filters the client stops at ``max_devices`` itself
    (and asks a smaller last page).
    """
    devices = []
    listing = client.iter_devices(page_size=page_size, max_devices=None if active_filters else max_devices)
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
