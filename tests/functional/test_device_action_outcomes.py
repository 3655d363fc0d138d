# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What each device's result says: after a failed write, when an action does not apply, for ids in another case;
exempt_hours required, integer options that refuse booleans, and a diff that shows non-ASCII names as text."""

from __future__ import absolute_import, division, print_function

import pytest

from conftest import diff_sides, exemptable, ids_of, results, write_entries

ACTION = "opswat.it_access.opswat_device_action"


# ----------------------------------------------------------------------------------------- after a failed write

def test_after_a_failed_first_request_its_devices_are_failed_and_the_later_batches_not_sent(simulator, run_module):
    ids = ids_of(exemptable(simulator, 120))
    simulator.add_fault("status", count=1, endpoint="action", code=503)
    result = run_module("device_action", action="exempt", exempt_hours=72, device_ids=ids, allow_partial=True)
    assert len(write_entries(simulator)) == 1, "the batches after the failed one must not be sent"
    assert result.failed and result.exit_code == 1
    assert results(result) == [(i, "failed") for i in ids[:50]] + [(i, "not_sent") for i in ids[50:]]
    assert all("may have been applied" in entry["error"] for entry in result["devices"][:50])
    assert all(entry["error"].startswith("not sent") and "may have been applied" not in entry["error"]
               for entry in result["devices"][50:])
    assert result["failed_ids"] == ids and result["changed_ids"] == []
    assert ("0 device(s) changed, 50 with an unknown outcome (failed: the action may have been applied to them),"
            " 70 not sent" in result.msg), result.msg
    assert ".." not in result.msg
    # Nothing was applied: running it again sends all 120.
    simulator.clear_log()
    again = run_module("device_action", action="exempt", exempt_hours=72, device_ids=ids)
    assert again["changed_ids"] == ids and sum(entry["ids_count"] for entry in write_entries(simulator)) == 120


def test_a_failed_middle_request_counts_changed_unknown_and_not_sent(simulator, run_module):
    ids = ids_of(exemptable(simulator, 170))
    simulator.add_fault("status", count=1, endpoint="action", code=500, after=1)
    result = run_module("device_action", action="exempt", exempt_hours=72, device_ids=ids)
    assert [entry["status"] for entry in write_entries(simulator)] == [200, 500]
    assert [r for _i, r in results(result)] == ["changed"] * 50 + ["failed"] * 50 + ["not_sent"] * 70
    assert result["failed_ids"] == ids[50:]
    assert "50 device(s) changed, 50 with an unknown outcome" in result.msg and "70 not sent" in result.msg


def test_messages_in_check_mode_say_would(simulator, run_module):
    good = ids_of(exemptable(simulator, 2))
    unknown = ids_of([d for d in simulator.fleet.devices if d["status"] == "unknown"][:1])
    options = dict(action="exempt", exempt_hours=1, device_ids=good + unknown)
    check = run_module("device_action", check=True, **options)
    assert check.failed and "the action would be applied to the other 2" in check.msg, check.msg
    assert "was applied" not in check.msg
    real = run_module("device_action", **options)
    assert real.failed and "the action was applied to the other 2" in real.msg, real.msg

    many = run_module("device_action", check=True, actions=[dict(options, device_ids=unknown),
                                                            dict(action="unexempt", device_ids=good)])
    assert many.failed and "every action would be applied to its other devices" in many.msg, many.msg


# ----------------------------------------------------------------------------------------- exempt_hours, integers

@pytest.mark.parametrize("module, options, option", [
    ("device_action", dict(action="exempt", device_ids=["a"]), "exempt_hours"),
    ("device_action", dict(actions=[dict(action="unexempt", device_ids=["a"]), dict(action="exempt", device_ids=["b"])]),
     "actions[1].exempt_hours"),
], ids=["action", "actions"])
def test_exempt_needs_exempt_hours_before_any_request(simulator, run_module, module, options, option):
    outcome = run_module(module, **options)
    assert outcome.failed and outcome.msg.startswith(option + ": is required with action=exempt"), outcome.msg
    assert "0 exempts forever" in outcome.msg
    assert simulator.request_log() == []


def test_exempt_hours_0_is_sent_and_exempts_forever(simulator, run_module):
    device = exemptable(simulator, 1)[0]
    result = run_module("device_action", action="exempt", exempt_hours=0, device_ids=[device["device_id"]], diff=True)
    assert result["changed"] and write_entries(simulator)[0]["body"]["params"] == {"exempt_time": 0}
    assert diff_sides(result)[1][device["device_id"]]["exempt_hours"] == 0


BOOLEAN_INTEGERS = [
    ("device_action", dict(action="exempt", device_ids=["a"], exempt_hours=True), "exempt_hours"),
    ("device_action", dict(action="exempt", device_ids=["a"], exempt_hours=False), "exempt_hours"),
    ("device_action", dict(actions=[dict(action="exempt", device_ids=["a"], exempt_hours=1),
                                    dict(action="exempt", device_ids=["b"], exempt_hours=True)]), "actions[1].exempt_hours"),
    ("device_info", dict(max_devices=True), "max_devices"),
    ("device_info", dict(page_size=True), "page_size"),
    ("account_info", dict(requests_per_minute=True), "requests_per_minute"),
    ("group_info", dict(requests_per_minute=False), "requests_per_minute"),
]


@pytest.mark.parametrize("module, options, option", BOOLEAN_INTEGERS,
                         ids=["%s-%s" % (case[0], case[2]) for case in BOOLEAN_INTEGERS])
def test_integer_options_refuse_booleans_before_any_request(simulator, run_module, module, options, option):
    outcome = run_module(module, **options)
    assert outcome.failed and outcome.msg.startswith(option + ": must be an integer, not a boolean"), outcome.msg
    assert simulator.request_log() == []


def test_a_boolean_exempt_hours_fails_through_ansible_before_any_request(simulator, run_play):
    task = {"id": "bad", "ignore_errors": True, ACTION: dict(action="exempt", device_ids=["a"], exempt_hours=True)}
    result = run_play([task], verbosity=0)["bad"]
    assert result["failed"] and result["msg"].startswith("exempt_hours: must be an integer, not a boolean")
    assert simulator.request_log() == []


# ----------------------------------------------------------------------------------------- ids in any case

def test_ids_in_upper_case_match_on_a_case_insensitive_service(simulator, run_module):
    devices = exemptable(simulator, 3)
    upper = [device["device_id"].upper() for device in devices]
    assert upper != ids_of(devices)

    found = run_module("device_info", device_ids=upper)
    assert [device["device_id"] for device in found["devices"]] == ids_of(devices)

    exempted = run_module("device_action", action="exempt", exempt_hours=2, device_ids=upper)
    assert results(exempted) == [(i, "changed") for i in upper], "the per-device id is the id as given"
    assert [entry["device_id"] for entry in exempted["devices"]] == ids_of(devices)
    assert [simulator.fleet.device(i)["status"] for i in ids_of(devices)] == ["exempted"] * 3
    # One device given in two spellings is one device.
    again = run_module("device_action", action="exempt", exempt_hours=2, device_ids=[upper[0], ids_of(devices)[0]])
    assert results(again) == [(upper[0], "unchanged")]

    deleted = run_module("device_action", action="delete", device_ids=upper[:1])
    assert results(deleted) == [(upper[0], "changed")] and simulator.fleet.device(ids_of(devices)[0]) is None


def test_ids_in_upper_case_are_unknown_devices_on_a_case_sensitive_service(simulator, run_module):
    simulator.fleet.case_sensitive_ids = True
    device = exemptable(simulator, 1)[0]
    upper = device["device_id"].upper()
    assert run_module("device_info", device_ids=[upper])["devices"] == []
    exempt = run_module("device_action", action="exempt", exempt_hours=2, device_ids=[upper], allow_partial=True)
    assert results(exempt) == [(upper, "not_found")] and exempt["failed_ids"] == [upper]
    deleted = run_module("device_action", action="delete", device_ids=[upper])
    assert results(deleted) == [(upper, "unchanged")] and write_entries(simulator) == []
    assert simulator.fleet.device(device["device_id"]) is not None


# ----------------------------------------------------------------------------------------- not_supported, why

def test_not_supported_says_why_in_check_mode_and_for_real(simulator, run_module):
    unknown = [d for d in simulator.fleet.devices if d["status"] == "unknown"][:1]
    compliant = exemptable(simulator, 1)
    exempt = run_module("device_action", check=True, action="exempt", exempt_hours=1, device_ids=ids_of(unknown),
                        allow_partial=True)
    assert [entry["error"] for entry in exempt["devices"]] == ["exempt does not apply to devices whose status is unknown"]
    ignore = run_module("device_action", action="ignore", device_ids=ids_of(compliant), allow_partial=True)
    assert [(entry["result"], entry["error"]) for entry in ignore["devices"]] == [
        ("not_supported", "ignore applies to unknown devices only")]
    assert write_entries(simulator) == []


def test_not_supported_names_the_agent_version_that_is_too_old(simulator, run_module):
    old = [d for d in simulator.fleet.devices if d["_sim"]["agent"] == "persistent" and d["_sim"]["os"] == "windows"
           and d["agent_version"] and tuple(int(p) for p in d["agent_version"].split(".")) < (7, 6, 206, 0)][:1]
    assert old, "the fleet needs a persistent Windows agent older than 7.6.206.0"
    result = run_module("device_action", action="scan_threats", full_scan=True, device_ids=ids_of(old),
                        allow_partial=True)
    assert [(entry["result"], entry["error"]) for entry in result["devices"]] == [
        ("not_supported", "scan_threats: agent %s is older than 7.6.206.0" % old[0]["agent_version"])]


# ----------------------------------------------------------------------------------------- diff

def test_the_diff_shows_non_ascii_names_as_text(simulator, run_play):
    device = [d for d in simulator.fleet.devices if any(ord(c) > 127 for c in d["device_name"])][0]
    name = device["device_name"]
    task = {"id": "rename", ACTION: dict(action="delete", device_ids=[device["device_id"]])}
    output = run_play([task], check=True, diff=True, verbosity=0).output
    assert '\n         "device_name": "%s",\n-        "present": true\n+        "present": false\n' % name in output, output
    assert "\\u" not in output
