# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host building of the devices inventory plugin (plugins/inventory/devices.py): host names, ansible_host, host
variables, the cache's entries, and copies of the API's strings that can never render as templates."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import json
import re
from collections import Counter

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    DEVICE_BLOCK_FIELDS, DEVICE_VALUE_FIELDS, device_macs)
from ansible_collections.opswat.it_access.plugins.module_utils.session import as_list, digest, misshapen_field

EMPTY_VALUES = ("", "n/a")
HOSTNAME_SOURCES = ("device_name", "host_name", "nickname", "first_ipv4", "public_ip", "first_mac", "device_id")
ANSIBLE_HOST_SOURCES = ("first_ipv4", "public_ip", "host_name")
# Host names that mean something else to Ansible: never given to a device as they are.
RESERVED_HOSTNAMES = frozenset(("localhost", "127.0.0.1", "::1", "all", "ungrouped"))

_NOT_IDENTIFIER_RE = re.compile(r"[^A-Za-z0-9_]")


def untrusted_copy(value):
    """Plain copies of the strings in ``value`` (a JSON value), carrying no mark that would let them render.

    From ansible-core 2.19 on, the core renders only strings marked as trusted templates; strings a plugin sets are
    never marked, so the devices the client parsed need nothing. A cache plugin is another matter: it may hand
    back marked strings, and a JSON round trip drops every mark.
    """
    return json.loads(json.dumps(value))


def _text(value):
    """A stripped string from a string or a number; None when empty, ``N/A`` or of another type."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return None
    text = str(value).strip()
    if text.lower() in EMPTY_VALUES:
        return None
    return text


def usable_ip(value, versions=(4,)):
    """The address in ``value`` in its canonical form, or None when it is missing or cannot be connected to."""
    text = _text(value)
    if text is None:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version not in versions:
        return None
    if (address.is_unspecified or address.is_link_local or address.is_loopback or address.is_multicast
            or address.is_reserved):
        return None
    return str(address)


def ipv4_addresses(device):
    """The usable IPv4 addresses of the device's adapters, in adapter order, without repeats."""
    addresses = []
    for adapter in as_list(device.get("network_info")):
        if isinstance(adapter, dict):
            address = usable_ip(adapter.get("ipv4"))
            if address is not None and address not in addresses:
                addresses.append(address)
    return addresses


def os_type(device):
    for info in as_list(device.get("os_info")):
        if isinstance(info, dict) and _text(info.get("type")):
            return _text(info.get("type"))
    return None


def source_value(device, source):
    """The value of one O(hostnames) or O(ansible_host_sources) entry for a device; None when it gives nothing."""
    if source == "first_ipv4":
        addresses = ipv4_addresses(device)
        return addresses[0] if addresses else None
    if source == "public_ip":
        return usable_ip(device.get("public_ip"), versions=(4, 6))
    if source == "first_mac":
        macs = device_macs(device)
        return macs[0] if macs else None
    return _text(device.get(source))


def preferred_name(device, preferences):
    for source in preferences:
        name = source_value(device, source)
        if name is not None:
            return name
    return _text(device.get("device_id"))


def assign_hostnames(devices, preferences):
    """One distinct host name per device, in the order of ``devices``.

    A name only one device has is kept. A name several devices share, or a reserved one, gets ``_`` and the first 8
    characters of the device ID appended, then the whole ID if that is taken too, then ``_2``, ``_3``...; the
    result depends only on the devices and their order (enrolment order from the API). Returns the names and
    the number of devices whose name was changed.
    """
    bases = []
    for position, device in enumerate(devices):
        base = preferred_name(device, preferences)
        bases.append(base if base is not None else "opswat_device_%d" % (position + 1))
    counts = Counter(bases)
    taken = set(base for base in bases if counts[base] == 1 and base not in RESERVED_HOSTNAMES)
    names = []
    renamed = 0
    for device, base in zip(devices, bases):
        if base in taken and counts[base] == 1:
            names.append(base)
            continue
        renamed += 1
        device_id = _text(device.get("device_id")) or ""
        candidates = []
        if device_id:
            candidates = ["%s_%s" % (base, device_id[:8]), "%s_%s" % (base, device_id)]
        name = next((candidate for candidate in candidates if candidate not in taken), None)
        suffix = 2
        while name is None:
            candidate = "%s_%s_%d" % (base, device_id, suffix) if device_id else "%s_%d" % (base, suffix)
            if candidate not in taken:
                name = candidate
            suffix += 1
        taken.add(name)
        names.append(name)
    return names, renamed


def device_hostvars(device, prefix):
    """The host variables of a device; no name starting with ``ansible_``."""
    hostvars = {}
    for field, value in device.items():
        name = prefix + _NOT_IDENTIFIER_RE.sub("_", str(field))
        hostvars[name] = value
    hostvars[prefix + "ipv4_addresses"] = ipv4_addresses(device)
    hostvars[prefix + "macs"] = device_macs(device)
    hostvars[prefix + "os_type"] = os_type(device)
    return dict((name, value) for name, value in hostvars.items()
                if not name.lower().startswith("ansible_") and not name[:1].isdigit())


def ansible_host(device, sources):
    """The first usable address of ``sources``; None when no source gives one."""
    for source in sources:
        value = source_value(device, source)
        if value is not None:
            return value
    return None


def cache_digest(config, filters, max_devices):
    """What the cached devices depend on, hashed: the API URL, the client ID, the filters and max_devices; no secret."""
    identity = dict(
        api_url=config.api_url,
        client_id=config.client_id,
        filters=dict((name, sorted(values)) for name, values in filters.items()),
        max_devices=max_devices,
    )
    return digest(identity)[:16]


def cached_devices(entry, cache_format):
    """The devices of a cache entry as untrusted copies; None when it is not an entry of ``cache_format`` whose
    devices have the fields the client checks (an entry written before it checked them: listed again, such a
    device fails clearly)."""
    if (not isinstance(entry, dict) or entry.get("format") != cache_format or not isinstance(entry.get("devices"), list)
            or not all(isinstance(device, dict) for device in entry["devices"])
            or any(misshapen_field(device, DEVICE_VALUE_FIELDS, DEVICE_BLOCK_FIELDS) for device in entry["devices"])):
        return None
    return untrusted_copy(entry["devices"])
