# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_action against the simulator: idempotence, check mode, diff, batching and partial failure."""

from __future__ import absolute_import, division, print_function

import math

import pytest

from conftest import write_entries

ACTION = "opswat.it_access.opswat_device_action"


def action_task(task_id, ignore_errors=False, **options):
    task = {"id": task_id, ACTION: options}
    if ignore_errors:
        task["ignore_errors"] = True  # the test reads the failure from the registered result
    return task


def exemptable(sim, count):
    devices = [d for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant")][:count]
    assert len(devices) == count
    return devices


def ids_of(devices):
    return [device["device_id"] for device in devices]


def results(task_result):
    return [(entry["id"], entry["result"]) for entry in task_result["devices"]]


def assert_batched(entries, total):
    assert len(entries) == math.ceil(total / 50.0)
    assert all(entry["ids_count"] <= 50 for entry in entries)
    assert sum(entry["ids_count"] for entry in entries) == total


def check_apply_again(run_play, simulator, options, expected_changes):
    """Check mode, real run, the same again: the pattern every idempotent action must pass."""
    result = run_play([action_task("check", **options)], check=True, diff=True)
    assert write_entries(simulator) == [], "check mode wrote"
    check = result["check"]
    assert check["changed"] and len(check["changed_ids"]) == expected_changes
    assert set(check["diff"]["before"]) == set(check["changed_ids"])

    simulator.clear_log()
    applied = run_play([action_task("apply", **options)])["apply"]
    assert applied["changed"]
    assert results(applied) == results(check), "check mode predicted another result than the real run"
    assert_batched(write_entries(simulator), expected_changes)

    simulator.clear_log()
    again = run_play([action_task("again", **options)])["again"]
    assert not again["changed"] and again["changed_ids"] == []
    assert write_entries(simulator) == [], "a second identical run wrote"
    assert set(entry["result"] for entry in again["devices"]) == set(["unchanged"])
    return check, applied


def test_exempt_then_unexempt_220_devices(simulator, run_play):
    devices = exemptable(simulator, 220)
    ids = ids_of(devices)
    check, _applied = check_apply_again(run_play, simulator, dict(action="exempt", device_ids=ids, exempt_hours=48), 220)
    first = check["diff"]["before"][ids[0]], check["diff"]["after"][ids[0]]
    name = devices[0]["device_name"]
    assert first == ({"exempted": False, "device_name": name}, {"exempted": True, "device_name": name})

    verify = run_play([{"id": "after", "opswat.it_access.opswat_device_info": {"device_ids": ids}}])["after"]
    assert set(device["status"] for device in verify["devices"]) == set(["exempted"])

    simulator.clear_log()
    check_apply_again(run_play, simulator, dict(action="unexempt", device_ids=ids), 220)
    verify = run_play([{"id": "after", "opswat.it_access.opswat_device_info": {"device_ids": ids}}])["after"]
    assert [device["status"] for device in verify["devices"]] == [device["status"] for device in devices]


def test_exempt_sends_the_hours_and_force_restarts_the_clock(simulator, run_play):
    ids = ids_of(exemptable(simulator, 3))
    run_play([action_task("apply", action="exempt", device_ids=ids, exempt_hours=12)])
    assert [entry["body"]["params"] for entry in write_entries(simulator)] == [{"exempt_time": 12}]
    simulator.clear_log()
    forced = run_play([action_task("forced", action="exempt", device_ids=ids, exempt_hours=24, force=True)])["forced"]
    assert forced["changed"] and [entry["body"]["params"] for entry in write_entries(simulator)] == [{"exempt_time": 24}]


@pytest.mark.parametrize("by", ["group_name", "group_id"])
def test_assign_to_group_by_name_and_by_id(simulator, run_play, by):
    target = [group for group in simulator.fleet.groups if group["group_name"] == "Quarantine"][0]
    devices = [d for d in simulator.fleet.devices if d["group_name"] != "Quarantine"][:230]
    ids = ids_of(devices)
    options = dict(action="assign_to_group", device_ids=ids)
    options[by] = target[by]
    check, _applied = check_apply_again(run_play, simulator, options, 230)
    assert check["diff"]["after"][ids[0]] == {"group_name": "Quarantine", "device_name": devices[0]["device_name"]}

    verify = run_play([{"id": "after", "opswat.it_access.opswat_device_info": {"group_name": ["Quarantine"]}}])["after"]
    assert set(ids) <= set(device["device_id"] for device in verify["devices"])


def test_assign_to_group_only_sends_devices_not_already_there(simulator, run_play):
    inside = [d for d in simulator.fleet.devices if d["group_name"] == "Finance"][:5]
    outside = [d for d in simulator.fleet.devices if d["group_name"] != "Finance"][:7]
    result = run_play([action_task("move", action="assign_to_group", group_name="Finance",
                                   device_ids=ids_of(inside + outside))])["move"]
    assert result["changed_ids"] == ids_of(outside)
    assert [entry["ids_count"] for entry in write_entries(simulator)] == [7]


def test_unknown_group_fails_before_any_write(simulator, run_play):
    ids = ids_of(exemptable(simulator, 2))
    result = run_play([action_task("by_name", ignore_errors=True, action="assign_to_group", group_name="No Such Group",
                                   device_ids=ids),
                       action_task("by_id", ignore_errors=True, action="assign_to_group", group_id="nope", device_ids=ids)])
    assert "group_name" in result["by_name"]["msg"] and "No Such Group" in result["by_name"]["msg"]
    assert "group_id" in result["by_id"]["msg"]
    assert write_entries(simulator) == []


def test_by_mac_reports_the_normalised_mac(simulator, run_play):
    devices = exemptable(simulator, 2)
    mac = devices[0]["network_info"][0]["mac"]
    other = devices[1]["network_info"][0]["mac"]
    result = run_play([action_task("ignore", action="exempt",
                                   macs=[mac.upper().replace(":", "-"), other, other.upper()])])["ignore"]
    assert [entry["id"] for entry in result["devices"]] == [mac, other]
    assert [entry["device_id"] for entry in result["devices"]] == ids_of(devices)


def test_partial_failure_reports_every_device_and_fails_unless_allowed(simulator, run_play):
    good = ids_of(exemptable(simulator, 3))
    unknown_status = [d for d in simulator.fleet.devices if d["status"] == "unknown"][:2]
    missing = ["0" * 32]
    ids = good + ids_of(unknown_status) + missing
    result = run_play([
        action_task("strict", ignore_errors=True, action="exempt", device_ids=ids),
    ])["strict"]
    assert result["failed"]
    assert dict(results(result)) == dict([(i, "changed") for i in good] + [(i, "not_supported") for i in ids_of(unknown_status)]
                                         + [(missing[0], "not_found")])
    assert result["failed_ids"] == ids_of(unknown_status) + missing
    assert "not supported" in result["msg"] and "allow_partial" in result["msg"]
    statuses = dict((d["device_id"], d["status"]) for d in simulator.fleet.devices)
    assert [statuses[i] for i in good] == ["exempted"] * 3  # applied to the devices it could

    simulator.clear_log()
    relaxed = run_play([action_task("relaxed", action="unexempt", device_ids=ids, allow_partial=True)])["relaxed"]
    assert not relaxed.get("failed") and relaxed["changed_ids"] == good
    assert relaxed["failed_ids"] == [missing[0]]


def test_delete_is_idempotent(simulator, run_play):
    ids = ids_of(simulator.fleet.devices[-3:])
    first = run_play([action_task("delete", action="delete", device_ids=ids)])["delete"]
    assert first["changed_ids"] == ids
    simulator.clear_log()
    second = run_play([action_task("delete", action="delete", device_ids=ids)])["delete"]
    assert not second["changed"] and write_entries(simulator) == []


def test_imperative_actions_always_run_and_return_command_ids(simulator, run_play):
    # A mix: devices the scan applies to, and persistent agents too old or on an OS it does not support.
    persistent = [d for d in simulator.fleet.devices if d["_sim"]["agent"] == "persistent"][:80]
    assert {simulator.fleet.applies("scan_threats", d, (3, 3)) for d in persistent} == {True, False}
    ids = ids_of(persistent)
    check = run_play([action_task("scan", action="scan_threats", device_ids=ids, full_scan=True, allow_partial=True)],
                     check=True)["scan"]
    assert write_entries(simulator) == []
    first = run_play([action_task("scan", action="scan_threats", device_ids=ids, full_scan=True, allow_partial=True)])["scan"]
    assert results(first) == results(check)
    changed = [entry for entry in first["devices"] if entry["result"] == "changed"]
    assert changed and all(entry["command_id"] for entry in changed)
    second = run_play([action_task("scan", action="scan_threats", device_ids=ids, full_scan=True, allow_partial=True)])["scan"]
    assert second["changed"] and len(write_entries(simulator)) == 2 * math.ceil(len(changed) / 50.0)
    assert write_entries(simulator)[0]["body"]["params"] == {"full_scan": 1}


def test_custom_scan_maps_scan_types_to_the_api_integers(simulator, run_play):
    device = [d for d in simulator.fleet.devices if simulator.fleet.applies("scan_threats", d, (3, 3))][0]
    run_play([action_task("scan", action="scan_threats", device_ids=[device["device_id"]], allow_partial=True,
                          scan_types=["memory", "specific_path", "boot_records"], scan_path="/tmp/x")])
    assert write_entries(simulator)[0]["body"]["params"] == {"full_scan": 0, "scan_types": [0, 4, 5], "path": "/tmp/x"}


BAD_INPUTS = [
    (dict(action="exempt"), "device_ids"),
    (dict(action="exempt", device_ids=["a"], macs=["aa:bb:cc:dd:ee:ff"]), "device_ids"),
    (dict(action="exempt", device_ids=[]), "device_ids"),
    (dict(action="exempt", macs=["not-a-mac"]), "macs"),
    (dict(action="exempt", device_ids=["a"], exempt_hours=65000), "exempt_hours"),
    (dict(action="exempt", device_ids=["a"], exempt_hours=-1), "exempt_hours"),
    (dict(action="unexempt", device_ids=["a"], exempt_hours=5), "exempt_hours"),
    (dict(action="exempt", device_ids=["a"], group_name="Finance"), "group_name"),
    (dict(action="assign_to_group", device_ids=["a"]), "group_name"),
    (dict(action="assign_to_group", device_ids=["a"], group_name="Finance", group_id="x"), "group_name"),
    (dict(action="scan_threats", device_ids=["a"]), "scan_types"),
    (dict(action="scan_threats", device_ids=["a"], scan_types=["specific_path"]), "scan_path"),
    (dict(action="scan_threats", device_ids=["a"], scan_types=["memory"], scan_path="/x"), "scan_path"),
    (dict(action="scan_threats", device_ids=["a"], full_scan=True, scan_types=["memory"]), "scan_types"),
    (dict(action="exempt", device_ids=["a"], full_scan=True), "full_scan"),
    (dict(action="reboot", device_ids=["a"]), "action"),
    (dict(action="exempt", device_ids=["a"], exempt_hours="soon"), "exempt_hours"),
]


def test_bad_input_fails_with_a_clear_message_before_any_request(simulator, run_play):
    # One play for all cases: each task fails on its own, and the simulator must see no request at all.
    tasks = [action_task("bad%d" % index, ignore_errors=True, **options) for index, (options, _option) in enumerate(BAD_INPUTS)]
    result = run_play(tasks, verbosity=0)
    for index, (options, option) in enumerate(BAD_INPUTS):
        outcome = result["bad%d" % index]
        assert outcome["failed"], options
        assert option in outcome["msg"], (options, outcome["msg"])
    assert simulator.request_log() == []
