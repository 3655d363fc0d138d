#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_device_info
short_description: List and filter the devices managed by IT Access
version_added: 0.1.0
description:
  - Without O(device_ids) or O(macs), lists the fleet with Get Devices v3.7 (a cursor, 50 devices a request
    by default, the API's maximum) and filters it.
  - With O(device_ids) or O(macs), looks the devices up with Device Details v3.8, 50 a request, and never lists
    the fleet. Devices that are not known are simply absent from RV(devices).
  - With O(changed_within), returns the devices whose status changed within that many seconds, from the Status
    Change API, and never lists the fleet (see O(changed_within)).
  - Filters are applied to the devices the API returns. Values inside one filter are OR'ed, different filters
    are AND'ed, as the API documents for its filters.
  - At the service's 10 requests a minute, listing 10,000 devices takes 200 requests, about 20 minutes.
    Use O(device_ids), O(macs), O(max_devices) or O(changed_within) where you can.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.device_filters
  - opswat.it_access.attributes
  - opswat.it_access.attributes.INFO_MODULE
  - opswat.it_access.attributes.ACTION_GROUP
options:
  device_ids:
    description:
      - Look up these device IDs only. Mutually exclusive with O(macs).
    type: list
    elements: str
  macs:
    description:
      - Look up the devices with these MAC addresses only. Mutually exclusive with O(device_ids).
      - Accepted spellings include C(aa:bb:cc:dd:ee:ff), C(AA-BB-CC-DD-EE-FF) and C(aabb.ccdd.eeff).
    type: list
    elements: str
  group_name:
    description:
      - Keep devices in one of these groups. Names match exactly, case-sensitive.
      - Before listing the fleet, the module reads the groups (one request for most accounts) and warns about
        each name that no group has. When none of the names is a group, no device can match, so the module
        returns no device without listing the fleet.
      - With O(device_ids), O(macs) or O(changed_within) the names are not checked (no extra request).
    type: list
    elements: str
  max_devices:
    description:
      - Return at most this many devices, the first ones by enrolment time that match the filters.
      - The listing stops as soon as it has them, which saves requests.
    type: int
  fields:
    description:
      - Return only these fields of each device (C(device_id) is always returned), for example
        V(status), V(group_name) and V(last_seen). Filters still apply to every field.
      - A field a device does not have is left out of that device.
      - The requests are the same; what shrinks is the result. Listing thousands of devices, this saves most of
        the time and memory Ansible spends receiving, registering and templating the result (about a
        millisecond a device for the full fields). The remediation role uses it.
      - By default every field the API returns.
    type: list
    elements: str
  changed_within:
    description:
      - Return the devices whose status changed within this many seconds, from 1 to 86400 (the API keeps 24
        hours of changes), and the IDs of the devices deleted in that time (RV(deleted_device_ids)). The fleet is
        never listed.
      - The changes come from the Status Change API, 50 a request. Its records hold only some fields, so the
        module then reads the changed devices with Device Details (50 a request) and returns them in the record
        shape of a listing (Device Details' spellings of the issue counts are mapped to the listing's).
        When O(fields) names only V(device_id), V(status), V(severity), V(group_name) and V(device_name), and
        no O(status), O(device_type) or O(os_type) filter is given, the change records are enough and no Device
        Details request is sent. The status of a change record is then V(compliant), V(non_compliant),
        V(exempted) or V(unknown) (the API reports no finer one); a O(status) filter reads Device Details, whose
        status is a listing's.
      - The filters apply to these devices. A device deleted in that time is in RV(deleted_device_ids), not in
        RV(devices).
      - Cannot be combined with O(device_ids), O(macs) or O(max_devices).
      - For a job scheduled every few minutes, use a window at least twice the schedule, so that a missed run
        is caught up by the next.
    type: int
seealso:
  - module: opswat.it_access.opswat_device_action
  - module: opswat.it_access.opswat_group_info
"""

EXAMPLES = r"""
- name: List critical, non-compliant laptops
  opswat.it_access.opswat_device_info:
    status: [non_compliant]
    severity: [critical]
    device_type: [laptop]
  register: critical_laptops

- name: The devices whose status changed in the last 10 minutes, and those deleted
  opswat.it_access.opswat_device_info:
    changed_within: 600
    fields: [device_id, status, group_name]
  register: recent

- name: Look devices up by MAC address, without listing the fleet
  opswat.it_access.opswat_device_info:
    macs:
      - AA-BB-CC-DD-EE-01
      - aabb.ccdd.ee02
  register: by_mac

# In a CI/CD pipeline: connection from the environment (OPSWAT_API_URL, OPSWAT_CLIENT_ID, OPSWAT_CLIENT_SECRET)
- name: Fail the pipeline when a server is non-compliant
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Find non-compliant servers
      opswat.it_access.opswat_device_info:
        device_type: [server]
        status: [non_compliant]
      register: servers

    - name: Gate
      ansible.builtin.assert:
        that: servers.count == 0
        fail_msg: "{{ servers.devices | map(attribute='device_name') | join(', ') }} are non-compliant"

# In a remediation role, with the connection set once through the action group
- name: Remediate
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/opswat.it_access.it_access:
      client_id: "{{ vault_opswat_client_id }}"
      client_secret: "{{ vault_opswat_client_secret }}"
  tasks:
    - name: Find the first 100 Windows devices of the Finance group
      opswat.it_access.opswat_device_info:
        group_name: [Finance]
        os_type: [windows]
        max_devices: 100
      register: finance
"""

RETURN = r"""
devices:
  description:
    - The matching devices, as the API returns them (only O(fields) when given), in enrolment order for a
      listing, in the order of O(device_ids) or O(macs) for a look-up, and in the order of the Status Change
      API for O(changed_within) (in a listing's record shape).
  returned: success
  type: list
  elements: dict
  sample:
    - device_id: 839219d384a64dc6c93954a61fe74648
      device_name: WE10-D2739
      status: non_compliant
      severity: critical
      device_type: desktop
      group_name: Default
      enrolled_at: "2022-07-04T04:46:48Z"
      network_info: [{"mac": "8c:ec:4b:62:75:20", "ipv4": "10.40.50.42"}]
      os_info: {"family": "Windows", "name": "Microsoft Windows 10 Enterprise", "type": "windows"}
      issue: {"total_issue": 4, "total_critical": 2, "total_warning": 2}
deleted_device_ids:
  description: The IDs of the devices deleted within O(changed_within) seconds.
  returned: when O(changed_within) is given
  type: list
  elements: str
  sample: [a61fe74648839219d384a64dc6c93954]
count:
  description: Number of devices in RV(devices).
  returned: success
  type: int
  sample: 1
api_requests:
  description: The HTTP requests this task sent.
  returned: always
  type: dict
  contains:
    requests:
      description: Every HTTP request sent, token requests, retries and throttled ones included.
      type: int
      sample: 21
    throttled:
      description: Answers with HTTP 429.
      type: int
      sample: 0
    retries:
      description: >-
        Requests sent again: after a 429 answer or a rejected access token (HTTP 401), and, for reads only,
        after a 5xx answer, a transport error or an answer that is not valid JSON. A device action is never
        sent again once it may have reached the service.
      type: int
      sample: 0
    waited_seconds:
      description: Seconds spent waiting on 429 answers and retry back-off (not the pacing between requests).
      type: float
      sample: 0.0
"""

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    DEVICE_STATUSES, DEVICE_TYPES, OS_TYPES, SEVERITIES, as_listed, check_listing_options, device_macs, id_key,
    list_matching, matches, normalize_macs, unique, unique_ids, unique_strings, validate_filters)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import (
    CHANGE_RECORD_FIELDS, check_change_age)

MODULE_OPTIONS = dict(
    device_ids=dict(type="list", elements="str"),
    macs=dict(type="list", elements="str"),
    status=dict(type="list", elements="str", choices=DEVICE_STATUSES),
    severity=dict(type="list", elements="str", choices=SEVERITIES),
    device_type=dict(type="list", elements="str", choices=DEVICE_TYPES),
    os_type=dict(type="list", elements="str", choices=OS_TYPES),
    group_name=dict(type="list", elements="str"),
    max_devices=dict(type="int"),
    page_size=dict(type="int", default=50),
    fields=dict(type="list", elements="str"),
    changed_within=dict(type="int"),
)

# Filters a change record cannot answer, so they need the device's details: its status is one of three
# (compliant, non-compliant, exempted) where a listing tells nine apart (quarantined, pending...).
_DETAIL_FILTERS = ("status", "device_type", "os_type")


def lookup(client, device_ids, macs):
    """Devices by id or MAC through Device Details, in the order asked, unknown ones left out."""
    if device_ids is not None:
        wanted = unique_ids(device_ids)
        found = dict((id_key(device.get("device_id")), device) for device in client.devices.details(wanted))
        return [found[id_key(device_id)] for device_id in wanted if id_key(device_id) in found]
    wanted = normalize_macs(macs)
    by_mac = {}
    for device in client.devices.details(wanted):
        for mac in device_macs(device):
            by_mac.setdefault(mac, device)
    devices = []
    seen = set()
    for mac in wanted:
        device = by_mac.get(mac)
        if device is not None and device.get("device_id") not in seen:
            seen.add(device.get("device_id"))
            devices.append(device)
    return devices


def named_groups_exist(module, client, group_names):
    """Whether a listing filtered on ``group_names`` can match anything; warns about each name of no group.

    One Get Groups request (for most accounts) before a listing of many: a misspelt name is caught at once.
    """
    if not group_names:
        return True
    known = set(group.get("group_name") for group in client.groups.list())
    unknown = [name for name in unique(group_names) if name not in known]
    for name in unknown:
        module.warn("group_name: no group is named %r (names match exactly, case-sensitive); opswat_group_info"
                    " lists the groups" % name)
    return len(unknown) < len(unique(group_names))


def changed_devices(client, changed_within, fields, active_filters):
    """``(devices, deleted ids)`` of the devices whose status changed within ``changed_within`` seconds.

    Device Details is read for the changed devices (in the listing's spelling) unless the change records hold
    every field asked for and every filter's; a device Device Details no longer knows is left out.
    """
    changes = client.status_changes.within(changed_within)
    devices = changes.devices
    needs_details = (fields is None or not set(fields) <= set(CHANGE_RECORD_FIELDS)
                     or any(name in active_filters for name in _DETAIL_FILTERS))
    if needs_details and devices:
        devices = [as_listed(device) for device in lookup(client, [record["device_id"] for record in devices], None)]
    return [device for device in devices if matches(device, active_filters)], changes.deleted_ids


def check_options(params):
    """Every option checked before any request; returns ``(fields or None, active filters)``."""
    for option in ("device_ids", "macs"):
        if params[option] is not None and not params[option]:
            raise InputError(option, "must not be an empty list")
    check_listing_options(params["page_size"], params["max_devices"])
    if params["changed_within"] is not None:
        check_change_age("changed_within", params["changed_within"])
        for option in ("device_ids", "macs", "max_devices"):
            if params[option] is not None:
                raise InputError("changed_within", "cannot be combined with %s: it returns every device whose"
                                                   " status changed within that time" % option)
    fields = None
    if params["fields"] is not None:
        fields = unique(["device_id"] + unique_strings("fields", params["fields"]))
    active_filters = validate_filters(params)
    if params["macs"] is not None:
        normalize_macs(params["macs"])  # an invalid MAC fails before any request
    return fields, active_filters


def run(module, client):
    params = module.params
    fields, active_filters = check_options(params)
    result = dict(changed=False)
    max_devices = params["max_devices"]
    if params["changed_within"] is not None:
        devices, result["deleted_device_ids"] = changed_devices(client, params["changed_within"], fields,
                                                                active_filters)
    elif params["device_ids"] is not None or params["macs"] is not None:
        devices = [device for device in lookup(client, params["device_ids"], params["macs"])
                   if matches(device, active_filters)]
        devices = devices[:max_devices] if max_devices else devices
    elif not named_groups_exist(module, client, params["group_name"]):
        devices = []  # no device can be in a group that does not exist: the listing would find nothing
    else:
        devices = list_matching(client, active_filters, params["page_size"], max_devices)
    if fields is not None:
        devices = [dict((name, device[name]) for name in fields if name in device) for device in devices]
    result.update(devices=devices, count=len(devices))
    return result


def main():
    run_module(run, MODULE_OPTIONS, mutually_exclusive=[("device_ids", "macs")])


if __name__ == "__main__":
    main()
