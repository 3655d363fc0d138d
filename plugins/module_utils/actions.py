# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Device actions from their options to each device's result: the engine of opswat_device_action, for one action
(``action``) or several in one task (``actions``).

``execute`` runs the steps in this order, and nothing is written before the last one:

1. every action's options are already checked (``check_action``);
2. the groups that ``assign_to_group`` actions name are looked up, with one listing of the groups for all of them
   (none when the caller hands over the groups it has just looked up: ``known_groups``);
3. every target of every action is read once (Device Details, 50 a request);
4. no device may get two actions that write the same thing (the catalogue's ``writes``);
5. each action is planned from that state: devices already in the wanted state are ``unchanged``, devices the
   documented table says the action does not apply to are ``not_supported``, the others are to be sent;
6. outside check mode, each action is written in turn, 50 devices a request.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.opswat.it_access.plugins.module_utils.catalogue import (
    CATALOGUE, action_applicability, check_action_options)
from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    device_macs, id_key, normalize_macs, unique, unique_ids)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, OpswatError

API_RESULTS = {1: "changed", 0: "failed", -1: "not_supported"}
# not_sent: the device's batch was never sent, because an earlier batch of the same action failed.
FAILED_RESULTS = ("failed", "not_supported", "not_found", "not_sent")


class ActionRequest(object):
    """One action with its options checked; ``execute`` fills in its devices, results and diff.

    ``label`` names the action in messages (``actions[2]``) and ``prefix`` is put before the option names of its
    errors (``actions[2].``), so that an error names the option as the user wrote it; both are empty for the
    single action of opswat_device_action.
    """

    def __init__(self, action, key_option, wanted, params, force, group_name, group_id, label="", prefix=""):
        self.action = action
        self.key_option = key_option
        self.wanted = wanted
        self.params = params
        self.force = force
        self.group_name = group_name
        self.group_id = group_id
        self.label = label
        self.prefix = prefix
        self.target_group_name = None
        self.devices = None
        self.results = []
        self.to_send = []
        self.before = {}
        self.after = {}
        self.failure = None
        self.outcome_unknown = []  # ids of the devices of the request that failed, when it may have been applied
        self.refused = []  # ids of the devices of the request that failed, when its answer proves it was not applied

    @property
    def name(self):
        """``actions[2] (exempt)``, or ``exempt`` for a task of one action."""
        return "%s (%s)" % (self.label, self.action) if self.label else self.action

    def input_error(self, option, reason):
        return InputError(self.prefix + option, reason)

    def changed_ids(self):
        return [entry["id"] for entry in self.results if entry["result"] == "changed"]

    def failed_ids(self):
        return [entry["id"] for entry in self.results if entry["result"] in FAILED_RESULTS]

    def counts(self):
        return dict((name, len([entry for entry in self.results if entry["result"] == name])) for name in FAILED_RESULTS)

    def diff(self):
        """(before, after) of the devices that changed (or would change), by the id as given."""
        changed = set(self.changed_ids())
        return (dict((key, value) for key, value in self.before.items() if key in changed),
                dict((key, value) for key, value in self.after.items() if key in changed))


def check_action(options, label="", prefix=""):
    """An ``ActionRequest`` from one action's options (the module's or one item of ``actions``).

    Every check AnsibleModule cannot make, before any request; the errors name the option after ``prefix``.
    AnsibleModule has already required exactly one of device_ids and macs, and of group_name and group_id
    with assign_to_group.
    """
    try:
        return _check_action(options, label, prefix)
    except InputError as error:
        if not prefix or error.option.startswith(prefix):
            raise
        raise InputError(prefix + error.option, error.reason)


def _check_action(options, label, prefix):
    action = options["action"]
    check_action_options(action, options)
    key_option = "device_ids" if options.get("device_ids") is not None else "macs"
    values = options[key_option]
    if not values:
        raise InputError(key_option, "must be a non-empty list")
    if key_option == "device_ids":
        if [value for value in values if not str(value).strip()]:
            raise InputError("device_ids", "must not contain empty ids")
        wanted = unique_ids(value.strip() for value in values)
    else:
        wanted = normalize_macs(values, "macs")

    params = CATALOGUE[action].params(options)
    return ActionRequest(action, key_option, wanted, params, bool(options.get("force")), options.get("group_name"),
                         options.get("group_id"), label=label, prefix=prefix)


def check_actions(items):
    """The ``ActionRequest`` of each item of an ``actions`` list, in order, labelled ``actions[N]``.

    Every item's option errors are raised at once, so that a long list is fixed in one pass: the InputError's
    ``option`` names the first, ``options`` all of them.
    """
    if not items:
        raise InputError("actions", "must be a non-empty list")
    requests, problems = [], []
    for index, item in enumerate(items):
        try:
            requests.append(check_action(item, label="actions[%d]" % index, prefix="actions[%d]." % index))
        except InputError as error:
            problems.append(error)
    if problems:
        raise InputError(problems[0].option, "; ".join([problems[0].reason] + [str(error) for error in problems[1:]]),
                         options=[error.option for error in problems])
    return requests


def check_known_groups(value, option="known_groups"):
    """The groups a caller looked up moments before (opswat_group_info's ``groups``), as [{group_id, group_name}].

    Each item needs a non-empty ``group_id`` and ``group_name``; other keys are ignored. An InputError names the
    first item at fault.
    """
    groups = []
    for index, item in enumerate(value or []):
        if not isinstance(item, dict) or not all(item.get(key) not in (None, "") for key in ("group_id", "group_name")):
            raise InputError("%s[%d]" % (option, index), "each group needs a group_id and a group_name, as"
                             " opswat_group_info returns them")
        groups.append(dict(group_id=str(item["group_id"]), group_name=str(item["group_name"])))
    return groups


def _group_of(groups, group_name, group_id):
    if group_name is not None:
        found = [group for group in groups if isinstance(group, dict) and group.get("group_name") == group_name]
    else:
        found = [group for group in groups if isinstance(group, dict) and str(group.get("group_id")) == str(group_id)]
    return found[0] if found else None


def find_group(groups, group_name=None, group_id=None):
    """The group of ``groups`` (opswat_group_info's list) named ``group_name``, else the one with ``group_id``.

    The one check, and the one message, for a group that does not exist, for the module and the remediation role:
    an InputError naming ``group_name`` or ``group_id``.
    """
    found = _group_of(groups, group_name, group_id)
    if found is not None:
        return found
    if group_name is not None:
        names = set(str(group.get("group_name")) for group in groups if isinstance(group, dict))
        raise InputError("group_name", "no group is named %r (names are case-sensitive); known groups: %s"
                         % (group_name, ", ".join(sorted(names))))
    raise InputError("group_id", "no group has the id %r" % (group_id,))


def resolve_groups(client, requests, known_groups=None):
    """Give each ``assign_to_group`` action its group's id and name from one listing of the groups.

    ``known_groups`` is the module's option as given: checked first (``check_known_groups``), with or without an
    ``assign_to_group`` action. When it holds every group the actions name, no request is sent: the caller has
    just looked them up. Otherwise the groups are listed, once, and ``known_groups`` is not used. An unknown
    group is an InputError naming its option, before any write. No request without such an action.
    """
    groups = check_known_groups(known_groups)
    assigning = [request for request in requests if request.action == "assign_to_group"]
    if not assigning:
        return
    if not all(_group_of(groups, request.group_name, request.group_id) for request in assigning):
        groups = client.groups.list()
    for request in assigning:
        try:
            found = find_group(groups, request.group_name, request.group_id)
        except InputError as error:
            raise request.input_error(error.option, error.reason)
        request.params = {"group_id": str(found.get("group_id"))}
        request.target_group_name = found.get("group_name")


def read_targets(client, requests):
    """Read every target of every action once and give each action ``devices``: {key as given: device or None}.

    Device ids and MACs are read in separate requests: Device Details documents ``ids`` as device ids or MACs,
    not whether one request may mix them, and a device given both ways in one task costs at most one more read.
    """
    by_id, by_mac = {}, {}
    ids = unique_ids(key for request in requests if request.key_option == "device_ids" for key in request.wanted)
    macs = unique(key for request in requests if request.key_option == "macs" for key in request.wanted)
    if ids:
        for device in client.devices.details(ids):
            by_id.setdefault(id_key(device.get("device_id")), device)
    if macs:
        for device in client.devices.details(macs):
            for mac in device_macs(device):
                by_mac.setdefault(mac, device)
    for request in requests:
        if request.key_option == "device_ids":
            request.devices = dict((key, by_id.get(id_key(key))) for key in request.wanted)
        else:
            request.devices = dict((key, by_mac.get(key)) for key in request.wanted)


def check_conflicts(requests):
    """InputError when a device gets two actions that write the same thing (the catalogue's ``writes``), or delete
    and another action."""
    seen = {}  # device_id -> [(request, what it sets)]
    for request in requests:
        sets = CATALOGUE[request.action].writes
        for key, device in request.devices.items():
            if device is None:
                continue
            earlier = seen.setdefault(device.get("device_id"), [])
            for other, other_sets in earlier:
                if other is request:
                    continue  # two MACs of one device in one action: the device is sent once
                if "existence" in (sets, other_sets) or (sets is not None and sets == other_sets):
                    thing = "existence" if "existence" in (sets, other_sets) else sets
                    raise request.input_error(
                        "device_ids" if request.key_option == "device_ids" else "macs",
                        "%s is also in %s; both act on the device's %s. Every action is planned from one read"
                        " before any write, so a device may get one action on its status, one on its group, and"
                        " no other action with delete" % (key, other.name, thing))
            earlier.append((request, sets))


def plan(request):
    """Each requested device's predicted result, the devices to send and the diff of those that change."""
    for key, device in request.devices.items():
        entry = dict(id=key, device_id=None, device_name=None, result=None, status=None, command_id=None)
        request.results.append(entry)
        if device is None:
            # Deleting a device that is gone is the state asked for, not an error.
            entry["result"] = "unchanged" if request.action == "delete" else "not_found"
            continue
        entry.update(device_id=device.get("device_id"), device_name=device.get("device_name"),
                     status=device.get("status"))
        applies, why_not = action_applicability(request.action, device)
        if not request.force and CATALOGUE[request.action].idempotent and _in_wanted_state(request, device):
            entry["result"] = "unchanged"
        elif applies is False:
            entry["result"] = "not_supported"
            entry["error"] = why_not
        else:
            entry["result"] = "changed"
            request.to_send.append(entry)
            change = _diff_entry(request, device)
            if change is not None:
                request.before[key], request.after[key] = change


def _in_wanted_state(request, device):
    state = CATALOGUE[request.action].state
    if state is not None:
        _key, status, value = state
        return (device.get("status") == status) == value
    if request.action == "assign_to_group":
        return device.get("group_name") == request.target_group_name
    return False


def _diff_entry(request, device):
    """(before, after) of the state the action controls, for one device that changes.

    The device name is on both sides: it does not change, but it tells a reader which device a line is about.
    """
    state = CATALOGUE[request.action].state
    if state is not None:
        key, status, value = state
        change = ({key: device.get("status") == status}, {key: value})
        if request.action == "exempt":
            # The API does not show an exemption's expiry, so only the side after the action can say it.
            change[1]["exempt_hours"] = request.params["exempt_time"]
    elif request.action == "assign_to_group":
        change = ({"group_name": device.get("group_name")}, {"group_name": request.target_group_name})
    elif request.action == "delete":
        change = ({"present": True}, {"present": False})
    else:
        return None
    for side in change:
        side["device_name"] = device.get("device_name")
    return change


def write(client, request):
    """Send the action, 50 devices a request, and record each device's answer; ``failure`` is what stopped it.

    After a failed request, the devices of that request may or may not have been acted on (``failed``, with
    the error); those of the batches after it were never sent (``not_sent``).
    """
    # Two MACs of one device are two entries of one device, sent once: the answer is each entry's.
    by_id = {}
    for entry in request.to_send:
        by_id.setdefault(id_key(entry["device_id"]), []).append(entry)
    unsent = set()
    try:
        answers = client.devices.action(request.action, ids=unique_ids(entry["device_id"] for entry in request.to_send),
                                        params=request.params)
    except OpswatError as error:
        request.failure = error
        answers = getattr(error, "completed_results", None) or []
        unsent = set(id_key(value) for value in getattr(error, "unsent_ids", None) or [])
    answered = _record_answers(by_id, answers)
    for entry in request.to_send:
        key = id_key(entry["device_id"])
        if key not in answered:
            _record_unanswered(request, entry, key in unsent)


def _record_answers(by_id, answers):
    """Each answered entry's result, error and command id; the id keys of the devices answered."""
    answered = set()
    for answer in answers:
        for entry in by_id.get(id_key(str(answer.get("id"))), []):
            answered.add(id_key(entry["device_id"]))
            entry["result"] = API_RESULTS.get(answer.get("status"), "failed")
            if entry["result"] == "failed" and answer.get("status") not in API_RESULTS:
                entry["error"] = "the API answered an unknown status %r" % (answer.get("status"),)
            elif entry["result"] == "not_supported":
                entry["error"] = "the API answered that the action does not apply to this device"
            entry["command_id"] = answer.get("command_id") or None
    return answered


def _record_unanswered(request, entry, unsent):
    """The result of a device the API's answer did not mention: not sent, or failed with the request's error."""
    if unsent:
        entry["result"] = "not_sent"
        entry["error"] = ("not sent: an earlier request of this action failed, so the action was never sent"
                          " for this device; running the task again sends it")
        return
    entry["result"] = "failed"
    if request.failure is None:
        entry["error"] = "the API's answer did not mention this device"
        return
    entry["error"] = request.failure.message
    # The client marks the failures that leave the outcome unknown; any other proves nothing was applied.
    if request.failure.may_have_been_applied:
        request.outcome_unknown.append(entry["id"])
    else:
        request.refused.append(entry["id"])


def stopped_message(request):
    """What happened to the devices of an action whose write failed: changed, outcome unknown, not sent.

    A failed request whose answer proves it was not processed (a 401, 429s) leaves no outcome unknown: its
    devices are counted as refused instead.
    """
    unknown = "%d with an unknown outcome" % len(request.outcome_unknown)
    if request.outcome_unknown:
        unknown += " (failed: the action may have been applied to them)"
    if request.refused:
        unknown += ", %d refused (failed: the action was not applied to them)" % len(request.refused)
    return "%s stopped: %s. %d device(s) changed, %s, %d not sent" % (
        request.name, request.failure.message.rstrip().rstrip("."), len(request.changed_ids()), unknown,
        request.counts()["not_sent"])


def partial_counts(request):
    """``3 device(s) failed, 1 not supported, 0 not found``: an action's devices in each failed result."""
    counts = request.counts()
    return "%d device(s) failed, %d not supported, %d not found" % (
        counts["failed"], counts["not_supported"], counts["not_found"])


def execute(client, requests, check_mode, known_groups=None):
    """Steps 2-6 of this module's docstring, for checked ``requests``, in their order.

    An action whose write fails as a whole (a timeout, a server error) does not stop the later ones: they act
    on other state or other devices (``check_conflicts``), and each device's result says what happened to it.
    """
    resolve_groups(client, requests, known_groups)
    read_targets(client, requests)
    check_conflicts(requests)
    for request in requests:
        plan(request)
    if check_mode:
        return
    for request in requests:
        if request.to_send:
            write(client, request)


def diff_text(value):
    """One side of a diff as the text Ansible's diff shows, with non-ASCII device names as they are.

    Given a dict, Ansible's callback renders it as JSON with every non-ASCII letter escaped (``\\u00eb``); given
    text, it shows the text as it is. The layout is the callback's own (sorted keys, 4 spaces).
    """
    return json.dumps(value, sort_keys=True, indent=4, separators=(",", ": "), ensure_ascii=False) + "\n"


def device_results(request):
    """The per-device part of a result: ``devices``, ``changed_ids``, ``failed_ids``."""
    return dict(devices=request.results, changed_ids=request.changed_ids(), failed_ids=request.failed_ids())


def _applied(check_mode):
    return "would be applied" if check_mode else "was applied"


def one_action_result(request, check_mode, allow_partial, with_diff):
    """The result of a task of one action (``action``): its devices at the top level, and ``failed`` with ``msg``
    when its write stopped, or when a device failed and ``allow_partial`` is false."""
    result = device_results(request)
    changed_ids = result["changed_ids"]
    result["changed"] = bool(changed_ids)
    if with_diff:
        before, after = request.diff()
        result["diff"] = dict(before=diff_text(before), after=diff_text(after))

    if request.failure is not None:
        result.update(failed=True, msg="%s; every device's result is in 'devices'." % stopped_message(request))
    elif result["failed_ids"] and not allow_partial:
        result.update(failed=True, msg="%s: %s (see failed_ids); the action %s to the other %d. Set"
                                       " allow_partial=true to accept this."
                                       % (request.action, partial_counts(request), _applied(check_mode),
                                          len(changed_ids)))
    return result


def several_actions_result(requests, check_mode, allow_partial, with_diff):
    """The result of a task of several actions (``actions``): one entry of ``actions`` per action, a diff keyed by
    each action's name, and ``failed`` with ``msg`` naming every action that stopped or, unless ``allow_partial``,
    every action with a device that failed."""
    entries = []
    for request in requests:
        entry = dict(action=request.action, error=request.failure.message if request.failure is not None else None)
        entry.update(device_results(request))
        entry["changed"] = bool(entry["changed_ids"])
        entries.append(entry)
    result = dict(changed=any(entry["changed"] for entry in entries), actions=entries)
    if with_diff:
        before, after = {}, {}
        for request in requests:
            changes = request.diff()
            if changes[0] or changes[1]:
                before[request.name], after[request.name] = changes
        result["diff"] = dict(before=diff_text(before), after=diff_text(after))

    stopped = [stopped_message(request) for request in requests if request.failure is not None]
    partial = ["%s: %s" % (request.name, partial_counts(request)) for request, entry in zip(requests, entries)
               if request.failure is None and entry["failed_ids"]]
    if stopped:
        result.update(failed=True, msg="%s; the other actions were applied. Every device's result is in"
                                       " actions[].devices." % "; ".join(stopped))
    elif partial and not allow_partial:
        result.update(failed=True, msg="%s (see actions[].failed_ids); every action %s to its other devices. Set"
                                       " allow_partial=true to accept this." % ("; ".join(partial), _applied(check_mode)))
    return result
