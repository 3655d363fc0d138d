# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_action with a list of actions (``actions``) against the simulator: every action checked and every
target read once before any write, conflicts, check mode and diff, batching per action, partial failure, an action
whose write fails, options that do not go with ``actions``, and the removed opswat_device_actions."""

from __future__ import absolute_import, division, print_function

import pytest

from conftest import diff_sides, ids_of, requests_by_endpoint, results, write_entries

MODULE = "opswat.it_access.opswat_device_action"


def mac_of(device):
    return device["network_info"][0]["mac"]


def pick(sim, count, exclude=(), **wanted):
    """``count`` devices of the fleet, none of ``exclude``, none a domain controller unless asked, each matching
    ``wanted`` (a field -> the values it may have; ``not_group`` -> a group it must not be in)."""
    exclude = set(exclude)
    not_group = wanted.pop("not_group", None)
    agents = wanted.pop("agent", None)
    found = [d for d in sim.fleet.devices if d["device_id"] not in exclude
             and (d["_sim"]["agent"] in agents if agents else d["_sim"]["agent"] != "domain_controller")
             and d["group_name"] != not_group and all(d[key] in values for key, values in wanted.items())][:count]
    assert len(found) == count
    return found


def exemptable(sim, count, exclude=()):
    return pick(sim, count, exclude, status=("compliant", "non_compliant"))


def written(sim):
    """The action requests, in order: (action, ids sent)."""
    return [(entry["action"], entry["body"]["ids"]) for entry in write_entries(sim)]


def run_counted(sim, run_module, **options):
    """One in-process run from an empty log; its api_requests must count every request the simulator saw."""
    sim.clear_log()
    outcome = run_module("device_action", **options)
    assert outcome["api_requests"]["requests"] == len(sim.request_log()), outcome
    return outcome


def batches(ids):
    return [ids[start:start + 50] for start in range(0, len(ids), 50)]


def test_an_unknown_group_in_the_last_action_fails_after_one_group_lookup_and_no_read(simulator, run_module):
    ids = ids_of(exemptable(simulator, 4))
    outcome = run_counted(simulator, run_module, actions=[
        dict(action="exempt", exempt_hours=24, device_ids=ids[:2]),
        dict(action="assign_to_group", group_name="Finance", device_ids=ids[2:3]),
        dict(action="assign_to_group", group_name="No Such Group", device_ids=ids[3:])])
    assert outcome.failed and outcome.msg.startswith("actions[2].group_name: ") and "No Such Group" in outcome.msg
    # One listing of the groups for both assign_to_group actions, then nothing: no read, no write.
    assert [entry["endpoint"] for entry in simulator.request_log() if entry["endpoint"] != "token"] == ["groups"]


def groups_of(sim, *names):
    """The groups named, as opswat_group_info returns them (with the keys the module ignores)."""
    return [dict(group_id=group["group_id"], group_name=group["group_name"], number_of_devices=0)
            for group in sim.fleet.groups if group["group_name"] in names]


def test_known_groups_holding_every_group_save_the_lookup(simulator, run_module):
    finance = pick(simulator, 2, not_group="Finance")
    contractors = pick(simulator, 1, exclude=ids_of(finance), not_group="Contractors")
    known = groups_of(simulator, "Finance", "Contractors")
    options = dict(known_groups=known, actions=[
        dict(action="assign_to_group", group_name="Finance", device_ids=ids_of(finance)),
        dict(action="assign_to_group", group_id=known[[g["group_name"] for g in known].index("Contractors")]["group_id"],
             device_ids=ids_of(contractors))])
    outcome = run_counted(simulator, run_module, **options)
    assert not outcome.failed and outcome["changed"], outcome
    # No group look-up: a token, one read of the three devices, one write per action.
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "detail", "action", "action"]
    assert [simulator.fleet.device(d["device_id"])["group_name"] for d in finance + contractors] == \
        ["Finance", "Finance", "Contractors"]
    again = run_counted(simulator, run_module, **options)
    assert not again["changed"] and requests_by_endpoint(simulator, "groups") == []


def test_known_groups_missing_a_group_are_not_used_and_the_groups_are_looked_up(simulator, run_module):
    device = pick(simulator, 1, not_group="Finance")
    # A stale list: "Finance" absent, and a group the API no longer knows. The module looks the groups up once and
    # takes the group from the API, so the write goes to the real group.
    stale = [dict(group_id="deleted-since", group_name="Old Finance")]
    outcome = run_counted(simulator, run_module, known_groups=stale, actions=[
        dict(action="assign_to_group", group_name="Finance", device_ids=ids_of(device))])
    assert not outcome.failed and outcome["changed"], outcome
    assert len(requests_by_endpoint(simulator, "groups")) == 1
    assert simulator.fleet.device(device[0]["device_id"])["group_name"] == "Finance"
    # A name in neither: the error, before any write, lists the API's groups.
    unknown = run_counted(simulator, run_module, known_groups=stale, actions=[
        dict(action="assign_to_group", group_name="No Such Group", device_ids=ids_of(device))])
    assert unknown.failed and unknown.msg.startswith("actions[0].group_name: ") and "Contractors" in unknown.msg
    assert write_entries(simulator) == []


def test_a_known_group_deleted_since_is_trusted_and_its_devices_reported_failed(simulator, run_module):
    """The documented price of known_groups: a stale entry is written to as it is, and the API's refusal shows."""
    device = pick(simulator, 1, not_group="Finance")
    outcome = run_counted(simulator, run_module, known_groups=[dict(group_id="deleted-since", group_name="Old Finance")],
                          actions=[dict(action="assign_to_group", group_name="Old Finance", device_ids=ids_of(device))])
    assert requests_by_endpoint(simulator, "groups") == []
    assert [entry["body"]["params"]["group_id"] for entry in write_entries(simulator)] == ["deleted-since"]
    assert outcome.failed and results(outcome["actions"][0]) == [(device[0]["device_id"], "failed")], outcome


BAD_ACTIONS = [
    ([dict(action="exempt", exempt_hours=24, device_ids=["a"]), dict(action="exempt", device_ids=["b"], exempt_hours=70000)],
     "actions[1].exempt_hours: "),
    ([dict(action="exempt", exempt_hours=24, device_ids=["a"]), dict(action="exempt", exempt_hours=24, device_ids=["b"], group_name="Finance")],
     "actions[1].group_name: "),
    ([dict(action="assign_to_group", group_name="Finance", device_ids=["a"]), dict(action="unignore", device_ids=[])],
     "actions[1].device_ids: "),
    ([], "actions: "),
]


def test_bad_options_in_several_actions_are_all_reported_at_once_before_any_request(simulator, run_module):
    outcome = run_module("device_action", actions=[
        dict(action="exempt", exempt_hours=24, device_ids=["a"]),
        dict(action="exempt", device_ids=["b"], exempt_hours=70000),
        dict(action="exempt", exempt_hours=24, device_ids=["c"]),
        dict(action="exempt", exempt_hours=24, macs=["aa:bb:cc:dd:ee:gg"])])
    assert outcome.failed and outcome.msg.startswith("actions[1].exempt_hours: "), outcome.msg
    assert "; actions[3].macs: " in outcome.msg and "actions[0]" not in outcome.msg and "actions[2]" not in outcome.msg
    assert outcome["option"] == "actions[1].exempt_hours"
    assert outcome["options"] == ["actions[1].exempt_hours", "actions[3].macs"]
    assert simulator.request_log() == []


@pytest.mark.parametrize("actions, prefix", BAD_ACTIONS, ids=[case[1].rstrip(": ") for case in BAD_ACTIONS])
def test_a_bad_suboption_anywhere_fails_naming_it_before_any_request(simulator, run_module, actions, prefix):
    outcome = run_module("device_action", actions=actions)
    assert outcome.failed and outcome.exit_code == 1 and outcome.msg.startswith(prefix), outcome.msg
    assert simulator.request_log() == []


def test_check_real_and_again_read_each_device_once_write_per_action_and_diff_by_action(simulator, run_module):
    exempt = pick(simulator, 70, status=("compliant", "non_compliant"), not_group="Contractors")
    regroup = pick(simulator, 25, ids_of(exempt), not_group="Contractors") + exempt[:5]
    already_unexempted = exemptable(simulator, 5, ids_of(exempt + regroup))
    unknown = pick(simulator, 4, status=("unknown",))
    contractors = [g for g in simulator.fleet.groups if g["group_name"] == "Contractors"][0]
    options = dict(actions=[
        dict(action="exempt", exempt_hours=8, device_ids=ids_of(exempt)),
        dict(action="assign_to_group", group_name="Contractors", device_ids=ids_of(regroup)),
        dict(action="unexempt", device_ids=ids_of(already_unexempted)),
        dict(action="ignore", macs=[mac_of(d).upper().replace(":", "-") for d in unknown])])
    expected_changes = [ids_of(exempt), ids_of(regroup), [], [mac_of(d) for d in unknown]]

    check = run_counted(simulator, run_module, check=True, diff=True, **options)
    assert write_entries(simulator) == [], "check mode wrote"
    # 100 distinct ids (5 devices are in two actions) in 2 reads, not 2 + 1 + 1; the MACs in a read of their own.
    details = requests_by_endpoint(simulator, "detail")
    assert sorted(entry["ids_count"] for entry in details) == [4, 50, 50]
    assert check["changed"] and [a["changed_ids"] for a in check["actions"]] == expected_changes
    assert [a["changed"] for a in check["actions"]] == [True, True, False, True]
    assert set(entry["result"] for entry in check["actions"][2]["devices"]) == set(["unchanged"])
    before, after = diff_sides(check)
    names = ["actions[0] (exempt)", "actions[1] (assign_to_group)", "actions[3] (ignore)"]
    assert sorted(before) == sorted(after) == names
    assert [sorted(before[name]) for name in names] == [sorted(ids) for ids in expected_changes if ids]
    device = regroup[-1]  # also exempted by actions[0]: each action shows its own state
    assert before[names[0]][device["device_id"]] == {"exempted": False, "device_name": device["device_name"]}
    assert (before[names[1]][device["device_id"]], after[names[1]][device["device_id"]]) == (
        {"group_name": device["group_name"], "device_name": device["device_name"]},
        {"group_name": "Contractors", "device_name": device["device_name"]})
    assert after[names[2]][mac_of(unknown[0])] == {"ignored": True, "device_name": unknown[0]["device_name"]}

    applied = run_counted(simulator, run_module, **options)
    assert applied["changed"] and [results(a) for a in applied["actions"]] == [results(a) for a in check["actions"]]
    assert written(simulator) == ([("exempt", ids) for ids in batches(ids_of(exempt))]
                                  + [("assign_to_group", ids_of(regroup)), ("ignore", ids_of(unknown))])
    assert [entry["body"].get("params") for entry in write_entries(simulator)] == [
        {"exempt_time": 8}, {"exempt_time": 8}, {"group_id": contractors["group_id"]}, None]
    fleet = dict((d["device_id"], d) for d in simulator.fleet.devices)
    assert set(fleet[i]["status"] for i in ids_of(exempt)) == set(["exempted"])
    assert set(fleet[i]["group_name"] for i in ids_of(regroup)) == set(["Contractors"])
    assert set(fleet[i]["status"] for i in ids_of(unknown)) == set(["ignored"])

    again = run_counted(simulator, run_module, diff=True, **options)
    assert not again["changed"] and write_entries(simulator) == [], "a second identical run wrote"
    assert set(entry["result"] for a in again["actions"] for entry in a["devices"]) == set(["unchanged"])
    assert diff_sides(again) == ({}, {})


def _conflicts(sim):
    first, second = exemptable(sim, 2)
    one, two = first["device_id"], second["device_id"]
    return [
        ([dict(action="exempt", exempt_hours=24, device_ids=[one, two]), dict(action="ignore", device_ids=[two])],
         "actions[1].device_ids: %s is also in actions[0] (exempt); both act on the device's status" % two),
        ([dict(action="assign_to_group", group_name="Finance", device_ids=[one]), dict(action="exempt", exempt_hours=24, device_ids=[two]),
          dict(action="assign_to_group", group_name="Contractors", device_ids=[two, one])],
         "actions[2].device_ids: %s is also in actions[0] (assign_to_group); both act on the device's group" % one),
        ([dict(action="delete", device_ids=[one]), dict(action="scan_threats", full_scan=True, device_ids=[one])],
         "actions[1].device_ids: %s is also in actions[0] (delete)" % one),
        ([dict(action="exempt", exempt_hours=24, device_ids=[one]), dict(action="unexempt", macs=[mac_of(first).upper()])],
         "actions[1].macs: %s is also in actions[0] (exempt); both act on the device's status" % mac_of(first)),
    ]


@pytest.mark.parametrize("case", range(4), ids=["status", "group", "delete", "id-and-mac"])
def test_two_actions_on_the_same_state_of_a_device_fail_before_any_write(simulator, run_module, case):
    actions, message = _conflicts(simulator)[case]
    state = [(d["device_id"], d["status"], d["group_name"]) for d in simulator.fleet.devices]
    outcome = run_counted(simulator, run_module, actions=actions)
    assert outcome.failed and outcome.msg.startswith(message), outcome.msg
    assert write_entries(simulator) == []
    assert [(d["device_id"], d["status"], d["group_name"]) for d in simulator.fleet.devices] == state


def test_exempt_group_and_scan_on_one_device_are_all_applied(simulator, run_module):
    device = [d for d in exemptable(simulator, 200) if d["group_name"] != "Quarantine"
              and simulator.fleet.applies("scan_threats", d, (3, 3))][0]
    outcome = run_counted(simulator, run_module, actions=[
        dict(action="exempt", exempt_hours=24, device_ids=[device["device_id"]]),
        dict(action="assign_to_group", group_name="Quarantine", device_ids=[device["device_id"]]),
        dict(action="scan_threats", full_scan=True, macs=[mac_of(device)])])
    assert not outcome.failed and [a["changed_ids"] for a in outcome["actions"]] == [
        [device["device_id"]], [device["device_id"]], [mac_of(device)]]
    assert outcome["actions"][2]["devices"][0]["command_id"]
    assert [entry["action"] for entry in write_entries(simulator)] == ["exempt", "assign_to_group", "scan_threats"]
    assert len(requests_by_endpoint(simulator, "detail")) == 2  # the id and the MAC are read separately
    after = simulator.fleet.device(device["device_id"])
    assert (after["status"], after["group_name"]) == ("exempted", "Quarantine")


@pytest.mark.parametrize("allow_partial", [False, True])
def test_unsupported_and_unknown_devices_fail_the_task_after_every_action_unless_allowed(simulator, run_module,
                                                                                         allow_partial):
    good = exemptable(simulator, 3)
    controllers = pick(simulator, 4, agent=("domain_controller",))
    missing = "0" * 32
    regroup = pick(simulator, 5, ids_of(good), not_group="Finance")
    outcome = run_counted(simulator, run_module, allow_partial=allow_partial, actions=[
        dict(action="exempt", exempt_hours=24, device_ids=ids_of(good + controllers) + [missing]),
        dict(action="assign_to_group", group_name="Finance", device_ids=ids_of(regroup))])
    exempt, assign = outcome["actions"]
    assert results(exempt) == ([(i, "changed") for i in ids_of(good)] + [(i, "not_supported") for i in ids_of(controllers)]
                               + [(missing, "not_found")])
    assert exempt["failed_ids"] == ids_of(controllers) + [missing] and assign["failed_ids"] == []
    # Both actions were applied to the devices they could act on; the domain controllers were never sent.
    assert written(simulator) == [("exempt", ids_of(good)), ("assign_to_group", ids_of(regroup))]
    assert [simulator.fleet.device(i)["status"] for i in ids_of(good)] == ["exempted"] * 3
    assert outcome.failed == (not allow_partial) and outcome.exit_code == (0 if allow_partial else 1)
    if not allow_partial:
        assert "actions[0] (exempt): 0 device(s) failed, 4 not supported, 1 not found" in outcome.msg
        assert "Set allow_partial=true" in outcome.msg and "actions[1]" not in outcome.msg


def test_an_action_whose_write_fails_does_not_stop_the_later_actions(simulator, run_module):
    exempt = exemptable(simulator, 120)
    quarantine = pick(simulator, 10, ids_of(exempt), not_group="Quarantine")
    simulator.add_fault("status", count=1, endpoint="action", code=500, after=1)  # the second exempt request
    outcome = run_counted(simulator, run_module, allow_partial=True, actions=[
        dict(action="exempt", exempt_hours=24, device_ids=ids_of(exempt)),
        dict(action="assign_to_group", group_name="Quarantine", device_ids=ids_of(quarantine))])
    assert outcome.failed and outcome.exit_code == 1, "a stopped action fails the task even with allow_partial"
    assert "actions[0] (exempt) stopped: POST /o/api/v3.3/devices/action failed: HTTP 500" in outcome.msg
    assert ("50 device(s) changed, 50 with an unknown outcome (failed: the action may have been applied to them),"
            " 20 not sent; the other actions were applied" in outcome.msg), outcome.msg
    assert ".." not in outcome.msg
    first, second = outcome["actions"]
    assert first["error"] and second["error"] is None
    assert first["changed_ids"] == ids_of(exempt[:50]) and first["failed_ids"] == ids_of(exempt[50:])
    assert [entry["result"] for entry in first["devices"]] == ["changed"] * 50 + ["failed"] * 50 + ["not_sent"] * 20
    assert all("may have been applied" in entry["error"] for entry in first["devices"][50:100])
    assert all(entry["error"].startswith("not sent") for entry in first["devices"][100:])
    assert second["changed_ids"] == ids_of(quarantine)
    # The failed request is not sent again, the rest of its action is not sent, and the next action is.
    assert [(entry["action"], entry["status"]) for entry in write_entries(simulator)] == [
        ("exempt", 200), ("exempt", 500), ("assign_to_group", 200)]
    assert set(simulator.fleet.device(i)["group_name"] for i in ids_of(quarantine)) == set(["Quarantine"])
    statuses = [simulator.fleet.device(i)["status"] for i in ids_of(exempt)]
    assert statuses[:50] == ["exempted"] * 50 and "exempted" not in statuses[50:]


def test_through_ansible_playbook_with_the_action_groups_module_defaults(simulator, run_play):
    exempt = exemptable(simulator, 3)
    regroup = pick(simulator, 2, ids_of(exempt), not_group="Quarantine")
    options = dict(actions=[dict(action="exempt", exempt_hours=24, device_ids=ids_of(exempt)),
                            dict(action="assign_to_group", group_name="Quarantine", device_ids=ids_of(regroup))])
    play = run_play([{"id": "apply", MODULE: options}, {"id": "again", MODULE: options}], diff=True)
    applied, again = play["apply"], play["again"]
    assert applied["changed"] and [a["changed_ids"] for a in applied["actions"]] == [ids_of(exempt), ids_of(regroup)]
    assert sorted(diff_sides(applied)[0]) == ["actions[0] (exempt)", "actions[1] (assign_to_group)"]
    assert not again["changed"] and written(simulator) == [("exempt", ids_of(exempt)), ("assign_to_group", ids_of(regroup))]
    assert applied["api_requests"]["requests"] + again["api_requests"]["requests"] == len(simulator.request_log())


# ----------------------------------------------------------------------------------------- one action or a list

ONE_ACTION_OPTIONS = dict(device_ids=["a"], macs=["aa:bb:cc:dd:ee:ff"], exempt_hours=24, group_name="Finance",
                          group_id="default", full_scan=True, scan_types=["memory"], scan_path="/tmp", force=False)


def test_action_with_actions_fails_naming_both_before_any_request(simulator, run_module):
    outcome = run_module("device_action", action="exempt", exempt_hours=24, device_ids=["a"],
                         actions=[dict(action="unexempt", device_ids=["b"])])
    assert outcome.failed and "mutually exclusive: action|actions" in outcome.msg, outcome.msg
    assert simulator.request_log() == []


@pytest.mark.parametrize("option", sorted(ONE_ACTION_OPTIONS))
def test_an_option_of_one_action_with_actions_fails_naming_both_before_any_request(simulator, run_module, option):
    # force=False too: given, it says the user thinks it applies to the list, which it does not.
    outcome = run_module("device_action", actions=[dict(action="unexempt", device_ids=["b"])],
                         **{option: ONE_ACTION_OPTIONS[option]})
    assert outcome.failed and "mutually exclusive: actions|%s" % option in outcome.msg, outcome.msg
    assert simulator.request_log() == []


@pytest.mark.parametrize("options, message", [
    (dict(device_ids=["a"]), "one of the following is required: action, actions"),
    (dict(action="unexempt"), "action is unexempt but any of the following are missing: device_ids, macs"),
], ids=["neither", "action-without-devices"])
def test_a_task_without_an_action_or_its_devices_fails_before_any_request(simulator, run_module, options, message):
    outcome = run_module("device_action", **options)
    assert outcome.failed and message in outcome.msg, outcome.msg
    assert simulator.request_log() == []


def test_one_action_takes_known_groups_too(simulator, run_module):
    device = pick(simulator, 1, not_group="Finance")
    outcome = run_counted(simulator, run_module, known_groups=groups_of(simulator, "Finance"),
                          action="assign_to_group", group_name="Finance", device_ids=ids_of(device))
    assert not outcome.failed and outcome["changed_ids"] == ids_of(device), outcome
    assert "actions" not in outcome.result and [entry["endpoint"] for entry in simulator.request_log()] == [
        "token", "detail", "action"]
    assert simulator.fleet.device(device[0]["device_id"])["group_name"] == "Finance"


def test_the_removed_opswat_device_actions_fails_the_play_saying_what_to_use(simulator, run_play):
    task = {"id": "old", "opswat.it_access.opswat_device_actions": dict(actions=[
        dict(action="unexempt", device_ids=ids_of(exemptable(simulator, 1)))])}
    play = run_play([task], verbosity=0, expect_rc=1)
    output = " ".join(play.output.split())
    assert "'opswat.it_access.opswat_device_actions' module has been removed" in output, output[-3000:]
    assert "Use opswat.it_access.opswat_device_action with the same options" in output, output[-3000:]
    assert simulator.request_log() == []
