# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_action against the simulator: idempotence, check mode, diff, batching and partial failure."""

from __future__ import absolute_import, division, print_function

import math

import pytest

from conftest import diff_sides, exemptable, ids_of, results, write_entries

ACTION = "opswat.it_access.opswat_device_action"


def action_task(task_id, ignore_errors=False, **options):
    task = {"id": task_id, ACTION: options}
    if ignore_errors:
        task["ignore_errors"] = True  # the test reads the failure from the registered result
    return task


def assert_batched(entries, total):
    assert len(entries) == math.ceil(total / 50.0)
    assert all(entry["ids_count"] <= 50 for entry in entries)
    assert sum(entry["ids_count"] for entry in entries) == total


def check_apply_again(run_module, simulator, options, expected_changes):
    """Check mode, real run, the same again: the pattern every idempotent action must pass (in-process runs)."""
    check = run_module("device_action", check=True, diff=True, **options)
    assert write_entries(simulator) == [], "check mode wrote"
    assert check["changed"] and len(check["changed_ids"]) == expected_changes
    assert set(diff_sides(check)[0]) == set(check["changed_ids"])

    simulator.clear_log()
    applied = run_module("device_action", **options)
    assert applied["changed"]
    assert results(applied) == results(check), "check mode predicted another result than the real run"
    assert_batched(write_entries(simulator), expected_changes)

    simulator.clear_log()
    again = run_module("device_action", **options)
    assert not again["changed"] and again["changed_ids"] == []
    assert write_entries(simulator) == [], "a second identical run wrote"
    assert set(entry["result"] for entry in again["devices"]) == set(["unchanged"])
    return check, applied


def test_exempt_220_devices_with_ansibles_check_and_diff_flags_then_for_real_then_again(simulator, run_play):
    """Through ansible-playbook: --check --diff writes nothing and predicts the real run; a second run writes nothing."""
    devices = exemptable(simulator, 220)
    ids = ids_of(devices)
    options = dict(action="exempt", device_ids=ids, exempt_hours=48)
    check = run_play([action_task("check", **options)], check=True, diff=True)["check"]
    assert write_entries(simulator) == [], "check mode wrote"
    assert check["changed"] and len(check["changed_ids"]) == 220
    assert set(diff_sides(check)[0]) == set(check["changed_ids"])
    name = devices[0]["device_name"]
    assert (diff_sides(check)[0][ids[0]], diff_sides(check)[1][ids[0]]) == (
        {"exempted": False, "device_name": name}, {"exempted": True, "exempt_hours": 48, "device_name": name})

    # One play: the real run, the same again, and a read of the result.
    simulator.clear_log()
    play = run_play([action_task("apply", **options), action_task("again", **options),
                     {"id": "after", "opswat.it_access.opswat_device_info": {"device_ids": ids}}])
    applied, again = play["apply"], play["again"]
    assert applied["changed"] and results(applied) == results(check), "check mode predicted another result"
    assert not again["changed"] and set(entry["result"] for entry in again["devices"]) == set(["unchanged"])
    # Every write of the play is the real run's: 5 batches of at most 50, each device once, none from "again".
    assert_batched(write_entries(simulator), 220)
    assert [entry["body"]["params"] for entry in write_entries(simulator)] == [{"exempt_time": 48}] * 5
    assert set(device["status"] for device in play["after"]["devices"]) == set(["exempted"])


def test_unexempt_is_idempotent_and_restores_the_statuses(simulator, run_module):
    devices = exemptable(simulator, 120)
    ids = ids_of(devices)
    assert run_module("device_action", action="exempt", exempt_hours=24, device_ids=ids)["changed"]
    simulator.clear_log()
    check, _applied = check_apply_again(run_module, simulator, dict(action="unexempt", device_ids=ids), 120)
    assert diff_sides(check)[1][ids[0]] == {"exempted": False, "device_name": devices[0]["device_name"]}
    verify = run_module("device_info", device_ids=ids)
    assert [device["status"] for device in verify["devices"]] == [device["status"] for device in devices]


def test_exempt_sends_the_hours_and_force_restarts_the_clock(simulator, run_module):
    ids = ids_of(exemptable(simulator, 3))
    run_module("device_action", action="exempt", device_ids=ids, exempt_hours=12)
    assert [entry["body"]["params"] for entry in write_entries(simulator)] == [{"exempt_time": 12}]
    simulator.clear_log()
    assert not run_module("device_action", action="exempt", device_ids=ids, exempt_hours=24)["changed"]
    assert write_entries(simulator) == []
    forced = run_module("device_action", action="exempt", device_ids=ids, exempt_hours=24, force=True)
    assert forced["changed"] and [entry["body"]["params"] for entry in write_entries(simulator)] == [{"exempt_time": 24}]


@pytest.mark.parametrize("by", ["group_name", "group_id"])
def test_assign_to_group_by_name_and_by_id(simulator, run_module, by):
    target = [group for group in simulator.fleet.groups if group["group_name"] == "Quarantine"][0]
    devices = [d for d in simulator.fleet.devices if d["group_name"] != "Quarantine"][:230]
    ids = ids_of(devices)
    options = dict(action="assign_to_group", device_ids=ids)
    options[by] = target[by]
    check, _applied = check_apply_again(run_module, simulator, options, 230)
    assert diff_sides(check)[1][ids[0]] == {"group_name": "Quarantine", "device_name": devices[0]["device_name"]}

    verify = run_module("device_info", group_name=["Quarantine"])
    assert set(ids) <= set(device["device_id"] for device in verify["devices"])


def test_assign_to_group_only_sends_devices_not_already_there(simulator, run_module):
    inside = [d for d in simulator.fleet.devices if d["group_name"] == "Finance"][:5]
    outside = [d for d in simulator.fleet.devices if d["group_name"] != "Finance"][:7]
    result = run_module("device_action", action="assign_to_group", group_name="Finance",
                        device_ids=ids_of(inside + outside))
    assert result["changed_ids"] == ids_of(outside)
    assert [entry["ids_count"] for entry in write_entries(simulator)] == [7]


def test_unknown_group_fails_before_any_write(simulator, run_module):
    ids = ids_of(exemptable(simulator, 2))
    by_name = run_module("device_action", action="assign_to_group", group_name="No Such Group", device_ids=ids)
    by_id = run_module("device_action", action="assign_to_group", group_id="nope", device_ids=ids)
    assert by_name.failed and "group_name" in by_name.msg and "No Such Group" in by_name.msg
    assert by_id.failed and "group_id" in by_id.msg
    assert write_entries(simulator) == []


def test_by_mac_reports_the_normalised_mac(simulator, run_module):
    devices = exemptable(simulator, 2)
    mac = devices[0]["network_info"][0]["mac"]
    other = devices[1]["network_info"][0]["mac"]
    result = run_module("device_action", action="exempt", exempt_hours=24, macs=[mac.upper().replace(":", "-"), other, other.upper()])
    assert [entry["id"] for entry in result["devices"]] == [mac, other]
    assert [entry["device_id"] for entry in result["devices"]] == ids_of(devices)


def test_two_macs_of_one_device_are_sent_once_and_both_get_its_answer(simulator, run_module):
    device = [d for d in simulator.fleet.devices if len(d["network_info"]) > 1 and d["status"] != "unknown"
              and simulator.fleet.applies("scan_threats", d, (3, 3))][0]
    macs = [adapter["mac"] for adapter in device["network_info"][:2]]
    result = run_module("device_action", action="scan_threats", full_scan=True, macs=macs)
    assert [entry["body"]["ids"] for entry in write_entries(simulator)] == [[device["device_id"]]]
    assert [(entry["id"], entry["result"]) for entry in result["devices"]] == [(mac, "changed") for mac in macs]
    command_ids = [entry["command_id"] for entry in result["devices"]]
    assert command_ids[0] and command_ids[0] == command_ids[1]


def test_partial_failure_reports_every_device_and_fails_unless_allowed(simulator, run_module):
    good = ids_of(exemptable(simulator, 3))
    unknown_status = [d for d in simulator.fleet.devices if d["status"] == "unknown"][:2]
    missing = ["0" * 32]
    ids = good + ids_of(unknown_status) + missing
    result = run_module("device_action", action="exempt", exempt_hours=24, device_ids=ids)
    assert result.failed and result.exit_code == 1
    assert dict(results(result)) == dict([(i, "changed") for i in good] + [(i, "not_supported") for i in ids_of(unknown_status)]
                                         + [(missing[0], "not_found")])
    assert result["failed_ids"] == ids_of(unknown_status) + missing
    assert "not supported" in result.msg and "allow_partial" in result.msg
    statuses = dict((d["device_id"], d["status"]) for d in simulator.fleet.devices)
    assert [statuses[i] for i in good] == ["exempted"] * 3  # applied to the devices it could

    simulator.clear_log()
    relaxed = run_module("device_action", action="unexempt", device_ids=ids, allow_partial=True)
    assert not relaxed.failed and relaxed.exit_code == 0 and relaxed["changed_ids"] == good
    assert relaxed["failed_ids"] == [missing[0]]


def test_delete_is_idempotent(simulator, run_module):
    ids = ids_of(simulator.fleet.devices[-3:])
    first = run_module("device_action", action="delete", device_ids=ids)
    assert first["changed_ids"] == ids
    simulator.clear_log()
    second = run_module("device_action", action="delete", device_ids=ids)
    assert not second["changed"] and write_entries(simulator) == []


def test_imperative_actions_always_run_and_return_command_ids(simulator, run_module):
    # A mix: devices the scan applies to, and persistent agents too old or on an OS it does not support.
    persistent = [d for d in simulator.fleet.devices if d["_sim"]["agent"] == "persistent"][:80]
    assert {simulator.fleet.applies("scan_threats", d, (3, 3)) for d in persistent} == {True, False}
    options = dict(action="scan_threats", device_ids=ids_of(persistent), full_scan=True, allow_partial=True)
    check = run_module("device_action", check=True, **options)
    assert write_entries(simulator) == []
    first = run_module("device_action", **options)
    assert results(first) == results(check)
    changed = [entry for entry in first["devices"] if entry["result"] == "changed"]
    assert changed and all(entry["command_id"] for entry in changed)
    second = run_module("device_action", **options)
    assert second["changed"] and len(write_entries(simulator)) == 2 * math.ceil(len(changed) / 50.0)
    assert write_entries(simulator)[0]["body"]["params"] == {"full_scan": 1}


def test_custom_scan_maps_scan_types_to_the_api_integers(simulator, run_module):
    device = [d for d in simulator.fleet.devices if simulator.fleet.applies("scan_threats", d, (3, 3))][0]
    run_module("device_action", action="scan_threats", device_ids=[device["device_id"]], allow_partial=True,
               scan_types=["memory", "specific_path", "boot_records"], scan_path="/tmp/x")
    assert write_entries(simulator)[0]["body"]["params"] == {"full_scan": 0, "scan_types": [0, 4, 5], "path": "/tmp/x"}


BAD_INPUTS = [
    (dict(action="exempt", exempt_hours=24), "device_ids"),
    (dict(action="exempt", exempt_hours=24, device_ids=["a"], macs=["aa:bb:cc:dd:ee:ff"]), "device_ids"),
    (dict(action="exempt", exempt_hours=24, device_ids=[]), "device_ids"),
    (dict(action="exempt", exempt_hours=24, macs=["not-a-mac"]), "macs"),
    (dict(action="exempt", device_ids=["a"], exempt_hours=65000), "exempt_hours"),
    (dict(action="exempt", device_ids=["a"], exempt_hours=-1), "exempt_hours"),
    (dict(action="unexempt", device_ids=["a"], exempt_hours=5), "exempt_hours"),
    (dict(action="exempt", exempt_hours=24, device_ids=["a"], group_name="Finance"), "group_name"),
    (dict(action="assign_to_group", device_ids=["a"]), "group_name"),
    (dict(action="assign_to_group", device_ids=["a"], group_name="Finance", group_id="x"), "group_name"),
    (dict(action="scan_threats", device_ids=["a"]), "scan_types"),
    (dict(action="scan_threats", device_ids=["a"], scan_types=["specific_path"]), "scan_path"),
    (dict(action="scan_threats", device_ids=["a"], scan_types=["memory"], scan_path="/x"), "scan_path"),
    (dict(action="scan_threats", device_ids=["a"], full_scan=True, scan_types=["memory"]), "scan_types"),
    (dict(action="exempt", exempt_hours=24, device_ids=["a"], full_scan=True), "full_scan"),
    (dict(action="reboot", device_ids=["a"]), "action"),
    (dict(action="exempt", device_ids=["a"], exempt_hours="soon"), "exempt_hours"),
]


@pytest.mark.parametrize("options, option", BAD_INPUTS, ids=["-".join(sorted(case[0])) + "-" + case[1] for case in BAD_INPUTS])
def test_bad_input_fails_with_a_clear_message_before_any_request(simulator, run_module, options, option):
    outcome = run_module("device_action", **options)
    assert outcome.failed and outcome.exit_code == 1, options
    assert option in outcome.msg, (options, outcome.msg)
    assert simulator.request_log() == []


def test_a_bad_input_fails_through_ansible_before_any_request(simulator, run_play):
    result = run_play([action_task("bad", ignore_errors=True, action="exempt", device_ids=["a"], exempt_hours=65000)],
                      verbosity=0)
    assert result["bad"]["failed"] and "exempt_hours" in result["bad"]["msg"]
    assert simulator.request_log() == []
