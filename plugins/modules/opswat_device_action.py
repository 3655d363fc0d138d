#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_device_action
short_description: Exempt, group, scan and otherwise act on IT Access devices, idempotently where the action allows
version_added: 0.1.0
description:
  - Applies one Device Action (v3.3) to a list of devices, 50 devices a request, never one request per device.
  - Reads the devices first (Device Details, 50 a request) and sends the action only to the devices that need it,
    so a second identical run reports no change and sends no write. In check mode the same reads are made and
    nothing is written; the per-device results are those the real run would give.
  - C(exempt) skips devices already exempted, C(unexempt) devices that are not, C(assign_to_group) devices already
    in the group, C(ignore) and C(unignore) devices already in that state, and C(delete) devices that no longer exist.
  - C(scan_threats), C(fetch_agent_log), C(dhcprenew) and C(re-identify) are commands, not states. They are sent on
    every run and always report a change.
  - Devices the documented table says an action does not apply to (for example exempting an unknown device, or
    C(dhcprenew) on a device without a persistent agent) are reported C(not_supported) and not sent.
  - The cost is the token request (with client credentials), the group look-up (C(assign_to_group) only),
    one read per 50 devices and one write per 50 devices that change.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows, for each device that changes, the state the action controls before and after.
  idempotent:
    support: partial
    details:
      - C(exempt), C(unexempt), C(assign_to_group), C(ignore), C(unignore) and C(delete) are idempotent.
      - C(scan_threats), C(fetch_agent_log), C(dhcprenew) and C(re-identify) are not; they run every time.
options:
  action:
    description: The action to apply.
    type: str
    required: true
    choices: [exempt, unexempt, assign_to_group, ignore, unignore, delete, dhcprenew, re-identify, fetch_agent_log, scan_threats]
  device_ids:
    description:
      - The devices, by device ID. Exactly one of O(device_ids) and O(macs) is required, as a non-empty list.
      - Duplicates are removed.
    type: list
    elements: str
  macs:
    description:
      - The devices, by MAC address, in any usual spelling (C(aa:bb:cc:dd:ee:ff), C(AA-BB-CC-DD-EE-FF),
        C(aabb.ccdd.eeff)). They are normalised to C(aa:bb:cc:dd:ee:ff) and duplicates are removed.
    type: list
    elements: str
  exempt_hours:
    description:
      - How long the exemption lasts, in hours, from 0 to 64999. V(0) exempts forever, the API's default.
      - Only with O(action=exempt).
      - The API does not show the current expiry, so a device already exempted is left as it is; use O(force=true)
        to restart its exemption with this duration.
    type: int
  group_name:
    description:
      - The group to assign the devices to, by exact name. Only with O(action=assign_to_group), which needs
        exactly one of O(group_name) and O(group_id).
      - An unknown group fails the task before any write.
    type: str
  group_id:
    description:
      - The group to assign the devices to, by id (V(default) is the default group).
        Only with O(action=assign_to_group). An unknown id fails the task before any write.
    type: str
  full_scan:
    description:
      - With O(action=scan_threats), V(true) runs a full scan. Otherwise give O(scan_types) for a custom scan.
    type: bool
  scan_types:
    description:
      - With O(action=scan_threats), the areas of a custom scan. V(specific_path) needs O(scan_path).
    type: list
    elements: str
    choices: [memory, system_volume, portable_volumes, additional_volumes, specific_path, boot_records]
  scan_path:
    description:
      - With O(action=scan_threats) and V(specific_path) in O(scan_types), the location to scan.
    type: str
  force:
    description:
      - Send the action even to devices already in the desired state, for example to restart an exemption's clock.
    type: bool
    default: false
  allow_partial:
    description:
      - When V(false), the task fails if any device failed, was not supported or was not found, after applying the
        action to every device it could and reporting each one.
      - When V(true), the same is reported and the task does not fail.
    type: bool
    default: false
notes:
  - Each device's result is one of C(changed), C(unchanged), C(failed), C(not_supported) and C(not_found).
    The API's per-device status C(1) is C(changed), C(0) is C(failed), C(-1) is C(not_supported).
  - A device action is never sent twice by the collection. After a timeout or a server error on an action request,
    the action may or may not have been applied; the task fails and says so. Run it again, and the idempotent
    actions skip the devices already done.
seealso:
  - module: opswat.it_access.opswat_device_info
  - module: opswat.it_access.opswat_group_info
"""

EXAMPLES = r"""
- name: Exempt two devices for three days
  opswat.it_access.opswat_device_action:
    action: exempt
    device_ids:
      - 839219d384a64dc6c93954a61fe74648
      - 0a1b2c3d4e5f60718293a4b5c6d7e8f9
    exempt_hours: 72

- name: Move devices to the Quarantine group, by MAC address
  opswat.it_access.opswat_device_action:
    action: assign_to_group
    group_name: Quarantine
    macs:
      - AA-BB-CC-DD-EE-01
      - aabb.ccdd.ee02
  register: quarantined

- name: Run a custom scan of memory and one folder
  opswat.it_access.opswat_device_action:
    action: scan_threats
    device_ids: "{{ suspicious_ids }}"
    scan_types: [memory, specific_path]
    scan_path: C:\Users\Public\Downloads
  register: scan

- name: Show the command ids to fetch the scan reports with
  ansible.builtin.debug:
    msg: "{{ scan.devices | map(attribute='command_id') | list }}"

# In a CI/CD pipeline, with the connection from the environment, report every device without failing
- name: Un-exempt the devices whose change window closed
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Un-exempt
      opswat.it_access.opswat_device_action:
        action: unexempt
        device_ids: "{{ lookup('ansible.builtin.file', 'exempted.txt').splitlines() }}"
        allow_partial: true
      register: unexempt

    - name: List the devices that could not be un-exempted
      ansible.builtin.debug:
        var: unexempt.failed_ids

# In a remediation role: find critical non-compliant laptops, then quarantine them in one batched call
- name: Quarantine critical laptops
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/opswat.it_access.it_access:
      client_id: "{{ vault_opswat_client_id }}"
      client_secret: "{{ vault_opswat_client_secret }}"
  tasks:
    - name: Find them
      opswat.it_access.opswat_device_info:
        status: [non_compliant]
        severity: [critical]
        device_type: [laptop]
      register: critical

    - name: Quarantine them
      opswat.it_access.opswat_device_action:
        action: assign_to_group
        group_name: Quarantine
        device_ids: "{{ critical.devices | map(attribute='device_id') | list }}"
      when: critical.count > 0
"""

RETURN = r"""
devices:
  description: One entry per requested device, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The device as given, a device ID or a MAC in its normalised C(aa:bb:cc:dd:ee:ff) form.
      type: str
      sample: 839219d384a64dc6c93954a61fe74648
    device_id:
      description: The device ID, when the device was found.
      type: str
      sample: 839219d384a64dc6c93954a61fe74648
    device_name:
      description: The device name, when the device was found.
      type: str
      sample: WE10-D2739
    result:
      description: What happened to this device (or would happen, in check mode).
      type: str
      choices: [changed, unchanged, failed, not_supported, not_found]
      sample: changed
    status:
      description: The device's status as read before the action.
      type: str
      sample: non_compliant
    command_id:
      description: For C(fetch_agent_log) and C(scan_threats), the command id to fetch the report with; else null.
      type: str
      sample: 64f1c2a9e3b7d5a1c9e8f7a6
    error:
      description: Why the device C(failed), when the module knows more than the API's status.
      type: str
      returned: when result is failed
changed_ids:
  description: The RV(devices[].id) of the devices that changed (or would change, in check mode).
  returned: always
  type: list
  elements: str
failed_ids:
  description: The RV(devices[].id) of the devices whose result is C(failed), C(not_supported) or C(not_found).
  returned: always
  type: list
  elements: str
api_requests:
  description: The HTTP requests this task sent.
  returned: always
  type: dict
  contains:
    requests:
      description: Every HTTP request sent, token requests, retries and throttled ones included.
      type: int
      sample: 4
    throttled:
      description: Answers with HTTP 429.
      type: int
      sample: 0
    retries:
      description: Requests sent again after a 429 (actions are never re-sent after a 5xx or a timeout).
      type: int
      sample: 0
    waited_seconds:
      description: Seconds spent waiting on 429 answers and retry back-off (not the pacing between requests).
      type: float
      sample: 0.0
"""

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    ACTIONS, IMPERATIVE_ACTIONS, SCAN_TYPES, action_applies, check_action_options, device_macs, exempt_params,
    normalize_macs, scan_params, unique)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, OpswatError
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module

MODULE_OPTIONS = dict(
    action=dict(type="str", required=True, choices=ACTIONS),
    device_ids=dict(type="list", elements="str"),
    macs=dict(type="list", elements="str"),
    exempt_hours=dict(type="int"),
    group_name=dict(type="str"),
    group_id=dict(type="str"),
    full_scan=dict(type="bool"),
    scan_types=dict(type="list", elements="str", choices=SCAN_TYPES),
    scan_path=dict(type="str"),
    force=dict(type="bool", default=False),
    allow_partial=dict(type="bool", default=False),
)

# The state each idempotent action controls: (diff key, read from a device, the value the action sets).
CONTROLLED_STATE = {
    "exempt": ("exempted", lambda device: device.get("status") == "exempted", True),
    "unexempt": ("exempted", lambda device: device.get("status") == "exempted", False),
    "ignore": ("ignored", lambda device: device.get("status") == "ignored", True),
    "unignore": ("ignored", lambda device: device.get("status") == "ignored", False),
}


def validate(params):
    """Every input check AnsibleModule cannot make, before any request."""
    action = params["action"]
    check_action_options(action, params)
    # AnsibleModule already enforced exactly one of device_ids and macs, and of group_name and group_id.
    option = "device_ids" if params["device_ids"] is not None else "macs"
    values = params[option]
    if not values:
        raise InputError(option, "must be a non-empty list")
    if option == "device_ids":
        if [value for value in values if not str(value).strip()]:
            raise InputError("device_ids", "must not contain empty ids")
        wanted = unique(value.strip() for value in values)
    else:
        wanted = normalize_macs(values, "macs")

    action_params = None
    if action == "exempt":
        action_params = exempt_params(params["exempt_hours"])
    elif action == "assign_to_group":
        for name in ("group_name", "group_id"):
            if params[name] is not None and not params[name].strip():
                raise InputError(name, "must not be empty")
    elif action == "scan_threats":
        action_params = scan_params(params["full_scan"], params["scan_types"], params["scan_path"])
    return option, wanted, action_params


def resolve_group(client, group_name, group_id):
    """(group_id, group_name) of an existing group; an unknown one is an InputError, before any write."""
    groups = client.list_groups()
    if group_name is not None:
        found = [group for group in groups if group.get("group_name") == group_name]
        if not found:
            raise InputError("group_name", "no group is named %r (names are case-sensitive); known groups: %s"
                             % (group_name, ", ".join(sorted(str(g.get("group_name")) for g in groups))))
    else:
        found = [group for group in groups if str(group.get("group_id")) == group_id]
        if not found:
            raise InputError("group_id", "no group has the id %r" % group_id)
    return str(found[0].get("group_id")), found[0].get("group_name")


def read_devices(client, option, wanted):
    """{requested id: device or None}: the current state, 50 devices a request."""
    found = client.get_device_details(wanted)
    if option == "device_ids":
        by_id = dict((device.get("device_id"), device) for device in found)
        return dict((key, by_id.get(key)) for key in wanted)
    by_mac = {}
    for device in found:
        for mac in device_macs(device):
            by_mac.setdefault(mac, device)
    return dict((key, by_mac.get(key)) for key in wanted)


def in_desired_state(action, device, target_group_name):
    if action in CONTROLLED_STATE:
        _key, read, value = CONTROLLED_STATE[action]
        return read(device) == value
    if action == "assign_to_group":
        return device.get("group_name") == target_group_name
    return False


def diff_entry(action, device, target_group_name):
    """(before, after) of the state the action controls, for one device that changes.

    The device name is on both sides: it does not change, but it tells a reader which device a line is about.
    """
    if action in CONTROLLED_STATE:
        key, read, value = CONTROLLED_STATE[action]
        change = ({key: read(device)}, {key: value})
    elif action == "assign_to_group":
        change = ({"group_name": device.get("group_name")}, {"group_name": target_group_name})
    elif action == "delete":
        change = ({"present": True}, {"present": False})
    else:
        return None
    for side in change:
        side["device_name"] = device.get("device_name")
    return change


def plan(action, devices_by_key, force, target_group_name):
    """One result dict per requested device, with ``result`` predicted; the keys to send, in order."""
    results = []
    to_send = []
    for key, device in devices_by_key.items():
        entry = dict(id=key, device_id=None, device_name=None, result=None, status=None, command_id=None)
        results.append(entry)
        if device is None:
            # Deleting a device that is gone is the state asked for, not an error.
            entry["result"] = "unchanged" if action == "delete" else "not_found"
            continue
        entry.update(device_id=device.get("device_id"), device_name=device.get("device_name"),
                     status=device.get("status"))
        if not force and action not in IMPERATIVE_ACTIONS and in_desired_state(action, device, target_group_name):
            entry["result"] = "unchanged"
        elif action_applies(action, device) is False:
            entry["result"] = "not_supported"
        else:
            entry["result"] = "changed"
            to_send.append(entry)
    return results, to_send


API_RESULTS = {1: "changed", 0: "failed", -1: "not_supported"}


def apply(client, action, to_send, action_params):
    """Send the action, 50 devices a request, and record each device's answer. Returns the error that stopped it."""
    ids = [entry["device_id"] for entry in to_send]
    by_id = dict((entry["device_id"], entry) for entry in to_send)
    answered = set()
    failure = None
    try:
        answers = client.device_action(action, ids=ids, params=action_params)
    except OpswatError as error:
        failure = error
        answers = getattr(error, "completed_results", None) or []
    for answer in answers:
        entry = by_id.get(str(answer.get("id")))
        if entry is None:
            continue
        answered.add(entry["device_id"])
        entry["result"] = API_RESULTS.get(answer.get("status"), "failed")
        if entry["result"] == "failed" and answer.get("status") not in API_RESULTS:
            entry["error"] = "the API answered an unknown status %r" % (answer.get("status"),)
        entry["command_id"] = answer.get("command_id") or None
    for entry in to_send:
        if entry["device_id"] not in answered:
            entry["result"] = "failed"
            entry["error"] = (failure.message if failure is not None
                              else "the API's answer did not mention this device")
    return failure


def run(module, client):
    params = module.params
    action = params["action"]
    option, wanted, action_params = validate(params)

    target_group_name = None
    if action == "assign_to_group":
        group_id, target_group_name = resolve_group(client, params["group_name"], params["group_id"])
        action_params = {"group_id": group_id}

    devices_by_key = read_devices(client, option, wanted)
    results, to_send = plan(action, devices_by_key, params["force"], target_group_name)

    before, after = {}, {}
    for entry in to_send:
        change = diff_entry(action, devices_by_key[entry["id"]], target_group_name)
        if change is not None:
            before[entry["id"]], after[entry["id"]] = change

    failure = None
    if to_send and not module.check_mode:
        failure = apply(client, action, to_send, action_params)

    changed_ids = [entry["id"] for entry in results if entry["result"] == "changed"]
    failed_ids = [entry["id"] for entry in results if entry["result"] in ("failed", "not_supported", "not_found")]
    result = dict(changed=bool(changed_ids), devices=results, changed_ids=changed_ids, failed_ids=failed_ids)
    if module._diff:
        result["diff"] = dict(before=dict((key, value) for key, value in before.items() if key in changed_ids),
                              after=dict((key, value) for key, value in after.items() if key in changed_ids))

    if failure is not None:
        result.update(failed=True, msg="%s stopped: %s. %d device(s) changed before it; every device's result is"
                                       " in 'devices'." % (action, failure.message, len(changed_ids)))
    elif failed_ids and not params["allow_partial"]:
        counts = dict((name, len([e for e in results if e["result"] == name]))
                      for name in ("failed", "not_supported", "not_found"))
        result.update(failed=True, msg="%s: %d device(s) failed, %d not supported, %d not found (see failed_ids);"
                                       " the action was applied to the other %d. Set allow_partial=true to accept"
                                       " this." % (action, counts["failed"], counts["not_supported"],
                                                   counts["not_found"], len(changed_ids)))
    return result


def main():
    run_module(run, MODULE_OPTIONS,
               mutually_exclusive=[("device_ids", "macs"), ("group_name", "group_id")],
               required_one_of=[("device_ids", "macs")],
               required_if=[("action", "assign_to_group", ("group_name", "group_id"), True)])


if __name__ == "__main__":
    main()
