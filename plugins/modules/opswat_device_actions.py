#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_device_actions
short_description: Apply several device actions in one task, all checked before any write, each device read once
version_added: 0.1.0
description:
  - Applies a list of Device Actions (v3.3), each to its own devices, with the same per-device behaviour as
    M(opswat.it_access.opswat_device_action). Use it when one play acts on devices in several ways, for example
    quarantining some devices and exempting others.
  - Every action's options are checked, and every group the actions name is looked up (or found in
    O(known_groups)), before any write. A typo in the last action's group fails the task before the first action
    writes anything. Bad options in several actions are all reported in one message, the first problem of each
    action with its action, for example C(actions[1].exempt_hours) and C(actions[3].macs). Wrong types, unknown
    options and values outside an option's choices are found first, by Ansible's own argument checks, which name
    the option but not the action (C(found in actions)).
  - The devices of all the actions are read together (Device Details, 50 a request), so a device is read once
    however many actions name it, and the reads are not rounded up to 50 action by action. The cost is the token
    request (with client credentials), one group look-up when any action is C(assign_to_group) (none when
    O(known_groups) holds its groups), one read per 50 distinct devices (device ids and MACs are read separately),
    and, for each action, one write per 50 devices that change.
  - Every action is planned from that one read, so a device may get at most one action on its status
    (C(exempt), C(unexempt), C(ignore), C(unignore)), one on its group (C(assign_to_group)), and no other action
    together with C(delete). A task that breaks this rule fails before any write. Commands (C(scan_threats),
    C(fetch_agent_log), C(dhcprenew), C(re-identify)) combine with any action but C(delete).
  - The actions are written in the order given. If an action's write fails as a whole (a timeout, a server error),
    the later actions are still written; the task then fails, and every device's result says what happened to it.
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
      - The diff shows, for each action and each device that changes, the state the action controls before and
        after; with C(exempt) the side after gives the O(actions[].exempt_hours) too.
      - C(diff.before) and C(diff.after) are JSON text (not dicts), so that Ansible shows non-ASCII device names
        as they are rather than as C(\u00eb) escapes. Use P(ansible.builtin.from_json#filter) to read them.
  idempotent:
    support: partial
    details:
      - C(exempt), C(unexempt), C(assign_to_group), C(ignore), C(unignore) and C(delete) are idempotent.
      - C(scan_threats), C(fetch_agent_log), C(dhcprenew) and C(re-identify) are not; they run every time.
options:
  actions:
    description:
      - The actions to apply, in order. Each takes the options of M(opswat.it_access.opswat_device_action) that
        describe one action.
    type: list
    elements: dict
    required: true
    suboptions:
      action:
        description: The action to apply.
        type: str
        required: true
        choices: [exempt, unexempt, assign_to_group, ignore, unignore, delete, dhcprenew, re-identify, fetch_agent_log, scan_threats]
      device_ids:
        description:
          - The devices, by device ID. Exactly one of O(actions[].device_ids) and O(actions[].macs) is required, as a
            non-empty list. Duplicates are removed.
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
          - Required with O(actions[].action=exempt), and only with it, so that a permanent exemption is always
            asked for (the API exempts forever when it is left out). A device already exempted is left as it is
            unless O(actions[].force=true).
        type: int
      group_name:
        description:
          - The group to assign the devices to, by exact name. Only with O(actions[].action=assign_to_group), which
            needs exactly one of O(actions[].group_name) and O(actions[].group_id).
        type: str
      group_id:
        description:
          - The group to assign the devices to, by id (V(default) is the default group).
            Only with O(actions[].action=assign_to_group).
        type: str
      full_scan:
        description:
          - With O(actions[].action=scan_threats), V(true) runs a full scan. Otherwise give O(actions[].scan_types).
        type: bool
      scan_types:
        description:
          - With O(actions[].action=scan_threats), the areas of a custom scan. V(specific_path) needs
            O(actions[].scan_path).
        type: list
        elements: str
        choices: [memory, system_volume, portable_volumes, additional_volumes, specific_path, boot_records]
      scan_path:
        description:
          - With O(actions[].action=scan_threats) and V(specific_path) in O(actions[].scan_types), the location to
            scan.
        type: str
      force:
        description:
          - Send the action even to devices already in the desired state, for example to restart an exemption's
            clock.
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
      - When V(false), the task fails if any device of any action failed, was not supported or was not found,
        after applying every action to every device it could and reporting each one.
      - When V(true), the same is reported and the task does not fail.
    type: bool
    default: false
notes:
  - Each device's result is one of C(changed), C(unchanged), C(failed), C(not_supported), C(not_found) and
    C(not_sent), as with M(opswat.it_access.opswat_device_action); C(not_supported) comes with the reason in
    RV(actions[].devices[].error).
  - A device action is never sent twice by the collection. After a timeout or a server error on an action request,
    that action may or may not have been applied to the devices of that request (C(failed), with an error that
    says so); the devices of that action's later requests are C(not_sent). The later actions are still written.
    The task fails and its message gives, for each action that stopped, the three counts (changed, outcome
    unknown, not sent). Run it again, and the idempotent actions skip the devices already done.
  - Device ids are matched to the API's answers without regard to case; RV(actions[].devices[].id) is the id as
    given. Integer options refuse booleans.
seealso:
  - module: opswat.it_access.opswat_device_action
  - module: opswat.it_access.opswat_device_info
  - module: opswat.it_access.opswat_group_info
"""

EXAMPLES = r"""
- name: Quarantine the infected laptops, exempt the servers in their change window, scan the rest
  opswat.it_access.opswat_device_actions:
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
  opswat.it_access.opswat_device_actions:
    known_groups: "{{ all_groups.groups }}"
    actions:
      - action: assign_to_group
        group_name: Quarantine
        device_ids: "{{ infected_ids }}"
"""

RETURN = r"""
actions:
  description: One entry per action, in the order given.
  returned: always
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
      description: One entry per device of this action, in the order given, as in RV(opswat.it_access.opswat_device_action#module:devices).
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
          choices: [changed, unchanged, failed, not_supported, not_found, not_sent]
          sample: changed
        status:
          description: The device's status as read before the actions.
          type: str
          sample: non_compliant
        command_id:
          description: For C(fetch_agent_log) and C(scan_threats), the command id to fetch the report with; else null.
          type: str
          sample: 64f1c2a9e3b7d5a1c9e8f7a6
        error:
          description:
            - Why the device C(failed) (when the module knows more than the API's status), why the action does not
              apply to it (C(not_supported)), or that it was C(not_sent).
          type: str
          returned: when result is failed, not_supported or not_sent
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
      sample: 6
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

from ansible_collections.opswat.it_access.plugins.module_utils.actions import (
    ACTION_OPTIONS, ACTION_RULES, check_action, check_known_groups, device_results, diff_text, execute,
    partial_counts, stopped_message)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module


MODULE_OPTIONS = dict(
    actions=dict(type="list", elements="dict", required=True, options=ACTION_OPTIONS, **ACTION_RULES),
    known_groups=dict(type="list", elements="dict"),
    allow_partial=dict(type="bool", default=False),
)


def run(module, client):
    items = module.params["actions"]
    if not items:
        raise InputError("actions", "must be a non-empty list")
    requests, problems = [], []
    for index, item in enumerate(items):
        try:
            requests.append(check_action(item, label="actions[%d]" % index, prefix="actions[%d]." % index))
        except InputError as error:
            problems.append(error)
    if problems:
        # Every action's option errors at once, so that a long list is fixed in one pass; `option` names the first.
        raise InputError(problems[0].option, "; ".join([problems[0].reason] + [str(error) for error in problems[1:]]),
                         options=[error.option for error in problems])
    known_groups = check_known_groups(module.params["known_groups"])
    execute(client, requests, module.check_mode, known_groups)

    actions = []
    for request in requests:
        entry = dict(action=request.action, error=request.failure.message if request.failure is not None else None)
        entry.update(device_results(request))
        entry["changed"] = bool(entry["changed_ids"])
        actions.append(entry)
    result = dict(changed=any(entry["changed"] for entry in actions), actions=actions)
    if module._diff:
        before, after = {}, {}
        for request in requests:
            changes = request.diff()
            if changes[0] or changes[1]:
                before[request.name], after[request.name] = changes
        result["diff"] = dict(before=diff_text(before), after=diff_text(after))

    stopped, partial = [], []
    for request, entry in zip(requests, actions):
        if request.failure is not None:
            stopped.append(stopped_message(request))
        elif entry["failed_ids"]:
            partial.append("%s: %s" % (request.name, partial_counts(request)))
    if stopped:
        result.update(failed=True, msg="%s; the other actions were applied. Every device's result is in"
                                       " actions[].devices." % "; ".join(stopped))
    elif partial and not module.params["allow_partial"]:
        result.update(failed=True, msg="%s (see actions[].failed_ids); every action %s to its other devices. Set"
                                       " allow_partial=true to accept this."
                                       % ("; ".join(partial), "would be applied" if module.check_mode else "was applied"))
    return result


def main():
    run_module(run, MODULE_OPTIONS)


if __name__ == "__main__":
    main()
