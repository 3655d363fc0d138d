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
  - Applies one Device Action (v3.3) to a list of devices (O(action)), or several actions in one task, each to its
    own devices (O(actions)), 50 devices a request, never one request per device.
  - Reads the devices first (Device Details, 50 a request) and sends an action only to the devices that need it,
    so a second identical run reports no change and sends no write. In check mode the same reads are made and
    nothing is written; the per-device results are those the real run would give.
  - C(exempt) skips devices already exempted, C(unexempt) devices that are not, C(assign_to_group) devices already
    in the group, C(ignore) and C(unignore) devices already in that state, and C(delete) devices that no longer exist.
  - C(scan_threats), C(fetch_agent_log), C(dhcprenew) and C(re-identify) are commands, not states. They are sent on
    every run and always report a change.
  - Devices the documented table says an action does not apply to (for example exempting an unknown device, or
    C(dhcprenew) on a device without a persistent agent) are reported C(not_supported) and not sent.
  - The cost is the token request (with client credentials), one group look-up when an action is
    C(assign_to_group) (none when O(known_groups) holds its groups), one read per 50 distinct devices and, for
    each action, one write per 50 devices that change.
  - With O(actions), every action's options are checked, and every group the actions name is looked up, before
    any write, so a typo in the last action's group fails the task before the first action writes anything. Bad
    options in several actions are all reported in one message, the first problem of each action with its
    action, for example C(actions[1].exempt_hours) and C(actions[3].macs). Wrong types, unknown options and
    values outside an option's choices are found first, by Ansible's own argument checks, which name the option
    but not the action (C(found in actions)).
  - With O(actions), the devices of all the actions are read together, so a device is read once however many
    actions name it (device ids and MACs are read separately). Every action is planned from that one read, so a
    device may get at most one action on its status (C(exempt), C(unexempt), C(ignore), C(unignore)), one on its
    group (C(assign_to_group)), and no other action together with C(delete); a task that breaks this rule fails
    before any write. Commands combine with any action but C(delete).
  - With O(actions), the actions are written in the order given. If an action's write fails as a whole (a
    timeout, a server error), the later actions are still written; the task then fails, and every device's result
    says what happened to it.
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
      - The diff shows, for each device that changes, the state the action controls before and after, with the
        device name; with C(exempt) the side after gives the exemption's hours too. With O(actions), the diff
        holds one such map per action that changes a device, keyed by the action's name (C(actions[0] (exempt))).
      - C(diff.before) and C(diff.after) are JSON text (not dicts), so that Ansible shows non-ASCII device names
        as they are rather than as C(\u00eb) escapes. Use P(ansible.builtin.from_json#filter) to read them.
  idempotent:
    support: partial
    details:
      - C(exempt), C(unexempt), C(assign_to_group), C(ignore), C(unignore) and C(delete) are idempotent.
      - C(dhcprenew), C(re-identify), C(fetch_agent_log) and C(scan_threats) are not; they run every time.
options:
  action:
    description:
      - The action to apply. Exactly one of O(action) and O(actions) is required.
      - The options from O(device_ids) to O(force) describe this action; they cannot be given with O(actions),
        whose items take them instead.
    type: str
    choices: [exempt, unexempt, assign_to_group, ignore, unignore, delete, dhcprenew, re-identify, fetch_agent_log, scan_threats]
  device_ids:
    description:
      - The devices, by device ID. With O(action), exactly one of O(device_ids) and O(macs) is required, as a
        non-empty list.
      - IDs match without regard to case. Duplicates are removed (in any case; the first spelling is kept).
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
      - How long the exemption lasts, in hours, from 0 to 64999. V(0) exempts forever.
      - Required with O(action=exempt), and only with it, so that a permanent exemption is always asked for.
        The API exempts forever when it is left out.
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
  actions:
    description:
      - Several actions to apply in one task, in order, instead of O(action). Each item takes the options that
        describe one action, as they are documented for O(action) (with O(actions[].action) required), and the
        result is in RV(actions), one entry per item.
      - Use it when one play acts on devices in several ways, for example quarantining some devices and exempting
        others. It reads each device once for all the actions, and checks every action before any write.
    type: list
    elements: dict
    suboptions:
      action:
        description: The action to apply, as O(action).
        type: str
        required: true
        choices: [exempt, unexempt, assign_to_group, ignore, unignore, delete, dhcprenew, re-identify, fetch_agent_log, scan_threats]
      device_ids:
        description: As O(device_ids). Exactly one of O(actions[].device_ids) and O(actions[].macs) is required.
        type: list
        elements: str
      macs:
        description: As O(macs).
        type: list
        elements: str
      exempt_hours:
        description: As O(exempt_hours); required with O(actions[].action=exempt), and only with it.
        type: int
      group_name:
        description: As O(group_name); only with O(actions[].action=assign_to_group).
        type: str
      group_id:
        description: As O(group_id); only with O(actions[].action=assign_to_group).
        type: str
      full_scan:
        description: As O(full_scan); only with O(actions[].action=scan_threats).
        type: bool
      scan_types:
        description: As O(scan_types); only with O(actions[].action=scan_threats).
        type: list
        elements: str
        choices: [memory, system_volume, portable_volumes, additional_volumes, specific_path, boot_records]
      scan_path:
        description: As O(scan_path).
        type: str
      force:
        description: As O(force).
        type: bool
        default: false
  known_groups:
    description:
      - The groups as M(opswat.it_access.opswat_group_info) returned them (its RV(opswat.it_access.opswat_group_info#module:groups)
        result), when the play has just looked them up. If every group the actions name is among them, the module
        does not look the groups up again, and saves that request. Each item needs C(group_id) and C(group_name);
        other keys are ignored.
      - If a group an action names is not among them, the module looks the groups up as usual and does not use
        this list. Pass a look-up made moments before in the same play. A group deleted or renamed since then is
        written to as it was, and the API reports its devices as failed.
    type: list
    elements: dict
  allow_partial:
    description:
      - When V(false), the task fails if any device (of any action) failed, was not supported or was not found
        (or, with O(wait), is C(pending)), after applying every action to every device it could and reporting each
        one.
      - When V(true), the same is reported and the task does not fail.
    type: bool
    default: false
  wait:
    description:
      - With V(true), after sending C(scan_threats) or C(fetch_agent_log), wait for each command's result (Get
        Reports, by its command id) and return it in RV(devices[].report) - the scan's findings parsed, the agent
        log saved under O(dest).
      - The results are asked for within the pace (O(requests_per_minute)) and the same rate-limit budget as every
        other request, oldest command first; a command is asked for again only after every other one waiting, and
        no sooner than 2 seconds after. The API has one command per device, so waiting on K devices costs at least
        K report requests (K x 6 s at the API's 10 requests a minute).
      - A device whose result did not come within O(wait_timeout) is C(pending), with its command id; the task
        fails unless O(allow_partial). C(opswat.it_access.opswat_report) fetches it later.
      - With O(actions), the actions that have a result are waited on, the others are not; at least one must have
        one. With O(action), the action must have one.
      - In check mode neither the command nor a poll is sent; each device is reported as it would be sent
        (C(changed)), with a null RV(devices[].report).
    type: bool
    default: false
  wait_timeout:
    description:
      - With O(wait), the seconds to wait for the results, counted from the moment the commands were sent.
      - For longer waits, run the task with C(async) and C(poll) so that Ansible's own connection does not time
        out (see the examples).
    type: int
    default: 600
  dest:
    description:
      - With O(wait) and C(fetch_agent_log), the directory the agent logs are saved in (it must exist and be
        writable), one file per device named C(<device id>_<command id>.zip) (C(.log) for a text log); a file
        with the same content is left as it is. Files are created readable by their owner only (0600).
      - Required with O(wait) and C(fetch_agent_log); only applies to them.
      - An agent log is streamed to a temporary file under O(dest) as it arrives (at most 512 MiB), then renamed.
    type: path
notes:
  - Each device's result is one of C(changed), C(unchanged), C(failed), C(not_supported), C(not_found),
    C(not_sent) and, with O(wait), C(pending). The API's per-device status C(1) is C(changed), C(0) is C(failed), C(-1) is C(not_supported).
  - C(not_supported) comes with the reason in RV(devices[].error), for example C(ignore applies to unknown devices
    only) or C(agent 7.6.198.0 is older than 7.6.206.0).
  - A device action is never sent twice by the collection. After a timeout or a server error on an action request,
    the action may or may not have been applied to the devices of that request, so they are C(failed), with an
    error that says so. The devices of that action's requests after it (50 devices a request) were never sent, so
    they are C(not_sent). The task fails and its message gives, for each action that stopped, the three counts
    (changed, outcome unknown, not sent). Run it again, and the idempotent actions skip the devices already done.
  - Device ids are matched to the API's answers without regard to case; RV(devices[].id) is the id as given.
    On a service that matches ids case-sensitively, an id in another case is an unknown device.
  - Integer options, here and in the connection options, refuse booleans (V(exempt_hours=true) is an error,
    not one hour).
  - This module replaces C(opswat_device_actions), which took what O(actions) takes.
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

- name: Scan and wait for the findings (up to 15 minutes, in the background)
  opswat.it_access.opswat_device_action:
    action: scan_threats
    full_scan: true
    device_ids: "{{ suspicious_ids }}"
    wait: true
    wait_timeout: 900
  async: 1000
  poll: 15
  register: scanned

- name: Show the threats each scan found
  ansible.builtin.debug:
    msg: "{{ item.id }}: {{ item.report.threats | map(attribute='name') | list }}"
  loop: "{{ scanned.devices | selectattr('report') | list }}"
  loop_control:
    label: "{{ item.id }}"

- name: Make the directory of the agent logs
  ansible.builtin.file:
    path: /var/tmp/agent-logs
    state: directory
    mode: "0700"

- name: Fetch the agent logs of the same devices into it
  opswat.it_access.opswat_device_action:
    action: fetch_agent_log
    device_ids: "{{ suspicious_ids }}"
    wait: true
    wait_timeout: 300
    dest: /var/tmp/agent-logs
    allow_partial: true

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

# Several actions in one task: each device is read once, every action is checked before any write
- name: Quarantine the infected laptops, exempt the servers in their change window, scan the rest
  opswat.it_access.opswat_device_action:
    actions:
      - action: assign_to_group
        group_name: Quarantine
        device_ids: "{{ infected_ids }}"
      - action: exempt
        exempt_hours: 8
        device_ids: "{{ change_window_ids }}"
      - action: scan_threats
        full_scan: true
        macs: "{{ suspicious_macs }}"
    allow_partial: true
  register: applied

- name: Show what each action did
  ansible.builtin.debug:
    msg: "{{ item.action }}: {{ item.changed_ids | length }} changed, {{ item.failed_ids | length }} failed"
  loop: "{{ applied.actions }}"
  loop_control:
    label: "{{ item.action }}"

# A play that checks its groups first (a typo fails before a long listing) hands them over, saving a request.
- name: Read the groups
  opswat.it_access.opswat_group_info:
  register: all_groups

- name: Quarantine the devices found meanwhile, without looking the groups up again
  opswat.it_access.opswat_device_action:
    known_groups: "{{ all_groups.groups }}"
    actions:
      - action: assign_to_group
        group_name: Quarantine
        device_ids: "{{ infected_ids }}"
"""

RETURN = r"""
devices:
  description: With O(action), one entry per requested device, in the order given.
  returned: with O(action)
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
      choices: [changed, unchanged, failed, not_supported, not_found, not_sent, pending]
      sample: changed
    status:
      description: The device's status as read before the action.
      type: str
      sample: non_compliant
    command_id:
      description: For C(fetch_agent_log) and C(scan_threats), the command id to fetch the report with; else null.
      type: str
      sample: 64f1c2a9e3b7d5a1c9e8f7a6
    report:
      description:
        - With O(wait), the command's result; null when it is not in (C(pending), check mode, not sent).
        - For C(scan_threats) - C(threats_found) and C(threats), a list of C(name), C(file), C(hash) and
          C(critical) (null where the report does not say), and the report's other single values such as
          C(scan_time) and C(status).
        - For C(fetch_agent_log) - C(path) (the file under O(dest)), C(size) (bytes), C(sha256) and
          C(content_type).
      type: dict
      returned: with O(wait), for the devices of fetch_agent_log and scan_threats
      sample: {"threats_found": 1, "threats": [{"name": "EICAR-Test-File", "file": "C:/Temp/eicar.com",
               "hash": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", "critical": false}]}
    error:
      description:
        - Why the device C(failed) (when the module knows more than the API's status), why the action does not
          apply to it (C(not_supported)), that it was C(not_sent), or why its result is C(pending) (with the
          report type and command id to fetch it with).
      type: str
      returned: when result is failed, not_supported, not_sent or pending
changed_ids:
  description:
    - The RV(devices[].id) of the devices that changed (or would change, in check mode), C(pending) ones included
      (their command was sent).
  returned: with O(action)
  type: list
  elements: str
failed_ids:
  description:
    - The RV(devices[].id) of the devices whose result is C(failed), C(not_supported), C(not_found), C(not_sent)
      or C(pending).
  returned: with O(action)
  type: list
  elements: str
actions:
  description: With O(actions), one entry per action, in the order given.
  returned: with O(actions)
  type: list
  elements: dict
  contains:
    action:
      description: The action.
      type: str
      sample: assign_to_group
    changed:
      description: Whether at least one device of this action changed (or would change, in check mode).
      type: bool
      sample: true
    devices:
      description:
        - One entry per device of this action, in the order given, with the keys of RV(devices)
          (C(id), C(device_id), C(device_name), C(result), C(status), C(command_id), C(error)).
      type: list
      elements: dict
    changed_ids:
      description: The ids of this action's devices that changed (or would change, in check mode).
      type: list
      elements: str
    failed_ids:
      description:
        - The ids of this action's devices whose result is C(failed), C(not_supported), C(not_found) or C(not_sent).
      type: list
      elements: str
    error:
      description: Why this action's write stopped (a timeout, a server error); null when it did not.
      type: str
      sample: null
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

from ansible_collections.opswat.it_access.plugins.module_utils.actions import (
    check_action, check_actions, execute, one_action_result, several_actions_result)
from ansible_collections.opswat.it_access.plugins.module_utils.catalogue import ACTION_OPTIONS, ACTION_RULES, ACTIONS
from ansible_collections.opswat.it_access.plugins.module_utils.command_results import (
    DEFAULT_WAIT_TIMEOUT, check_wait, finish_result, wait_for_results)
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module

# One action's options at the top level (``action`` then not required), or a list of them in ``actions``.
MODULE_OPTIONS = dict(
    ACTION_OPTIONS,
    action=dict(type="str", choices=ACTIONS),
    actions=dict(type="list", elements="dict", options=ACTION_OPTIONS, **ACTION_RULES),
    known_groups=dict(type="list", elements="dict"),
    allow_partial=dict(type="bool", default=False),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
    dest=dict(type="path"),
)
# ACTION_RULES for the top-level action, except that device_ids or macs is required only with ``action``; the
# options of one action make no sense with ``actions``, whose items take them.
MODULE_RULES = dict(
    required_one_of=[("action", "actions")],
    mutually_exclusive=ACTION_RULES["mutually_exclusive"] + [("action", "actions")] + [
        ("actions", name) for name in ACTION_OPTIONS if name != "action"],
    required_if=ACTION_RULES["required_if"] + [("action", name, ("device_ids", "macs"), True) for name in ACTIONS],
)


def run(module, client):
    params = module.params
    several = params["actions"] is not None
    requests = check_actions(params["actions"]) if several else [check_action(params)]
    waiting = check_wait(params, requests)
    execute(client, requests, module.check_mode, params["known_groups"])
    if waiting is not None:
        wait_for_results(client, waiting, module.check_mode)
    if several:
        result = several_actions_result(requests, module.check_mode, params["allow_partial"], module._diff)
    else:
        result = one_action_result(requests[0], module.check_mode, params["allow_partial"], module._diff)
    return result if waiting is None else finish_result(result, requests, waiting, params["allow_partial"])


def main():
    run_module(run, MODULE_OPTIONS, **MODULE_RULES)


if __name__ == "__main__":
    main()
