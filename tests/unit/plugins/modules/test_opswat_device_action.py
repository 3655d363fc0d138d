# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_action through main(), on the fake API: one action, a list of actions, check mode, failures."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.opswat.it_access.plugins.modules.opswat_device_action import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import ACTION, DETAILS, REPORTS

D1 = {"device_id": "d1", "device_name": "laptop-1", "status": "non_compliant"}
D2 = {"device_id": "d2", "device_name": "laptop-2", "status": "compliant"}
EXEMPTED = {"device_id": "d3", "device_name": "server-3", "status": "exempted"}
UNKNOWN = {"device_id": "d4", "device_name": "new-4", "status": "unknown"}
EXEMPTED_TOO = {"device_id": "d5", "device_name": "server-5", "status": "exempted"}


def accepted(*ids):
    return [{"id": device_id, "status": 1, "command_id": ""} for device_id in ids]


def outcomes(result):
    return [(device["id"], device["result"]) for device in result["devices"]]


def test_exempt_writes_once_and_reports_every_device(module_harness):
    module_harness.expect("POST", DETAILS, json_body={"ids": ["d1", "d2"], "opt": 0}, body=[D1, D2])
    module_harness.expect("POST", ACTION, json_body={"types": "exempt", "ids": ["d1", "d2"],
                                                     "params": {"exempt_time": 24}}, body=accepted("d1", "d2"))
    result = module_harness.run(main, action="exempt", exempt_hours=24, device_ids=["d1", "d2"])
    assert result.exit_code == 0
    assert result["changed"] is True
    assert outcomes(result) == [("d1", "changed"), ("d2", "changed")]
    assert result["changed_ids"] == ["d1", "d2"]
    assert result["failed_ids"] == []
    assert result["api_requests"] == dict(requests=2, throttled=0, retries=0, waited_seconds=0.0)
    assert result.leaked() == []


def test_check_mode_predicts_the_same_results_and_writes_nothing(module_harness):
    module_harness.expect("POST", DETAILS, body=[D1, UNKNOWN])
    result = module_harness.run(main, check_mode=True, action="exempt", exempt_hours=24, device_ids=["d1", "d4"],
                                allow_partial=True)
    assert result["changed"] is True
    assert outcomes(result) == [("d1", "changed"), ("d4", "not_supported")]
    assert result["failed_ids"] == ["d4"]
    assert result["api_requests"]["requests"] == 1  # no POST to the action endpoint: the transport would fail


def test_an_exempted_device_is_unchanged_and_nothing_is_written(module_harness):
    module_harness.expect("POST", DETAILS, body=[EXEMPTED])
    result = module_harness.run(main, action="exempt", exempt_hours=24, device_ids=["d3"])
    assert result["changed"] is False
    assert outcomes(result) == [("d3", "unchanged")]
    assert result["changed_ids"] == []


def test_force_exempts_an_exempted_device_again(module_harness):
    module_harness.expect("POST", DETAILS, body=[EXEMPTED])
    module_harness.expect("POST", ACTION, json_body={"types": "exempt", "ids": ["d3"], "params": {"exempt_time": 8}},
                          body=accepted("d3"))
    result = module_harness.run(main, action="exempt", exempt_hours=8, device_ids=["d3"], force=True)
    assert outcomes(result) == [("d3", "changed")]


def test_unknown_devices_fail_the_task_after_the_others_are_written(module_harness):
    module_harness.expect("POST", DETAILS, body=[D1])
    module_harness.expect("POST", ACTION, json_body={"types": "exempt", "ids": ["d1"], "params": {"exempt_time": 0}},
                          body=accepted("d1"))
    result = module_harness.run(main, action="exempt", exempt_hours=0, device_ids=["d1", "gone"])
    assert result.exit_code == 1
    assert result["failed"] is True
    assert "allow_partial" in result["msg"]
    assert outcomes(result) == [("d1", "changed"), ("gone", "not_found")]
    assert result["failed_ids"] == ["gone"]
    assert result["changed"] is True


def test_allow_partial_reports_the_same_and_does_not_fail(module_harness):
    module_harness.expect("POST", DETAILS, body=[D1])
    module_harness.expect("POST", ACTION, body=accepted("d1"))
    result = module_harness.run(main, action="exempt", exempt_hours=0, device_ids=["d1", "gone"], allow_partial=True)
    assert result.exit_code == 0
    assert "failed" not in result or result["failed"] is False
    assert outcomes(result) == [("d1", "changed"), ("gone", "not_found")]


def test_a_list_of_actions_reports_each_action(module_harness):
    module_harness.expect("POST", DETAILS, body=[EXEMPTED, EXEMPTED_TOO])
    module_harness.expect("POST", ACTION, json_body={"types": "unexempt", "ids": ["d5"]}, body=accepted("d5"))
    result = module_harness.run(main, actions=[
        dict(action="exempt", exempt_hours=24, device_ids=["d3"]),
        dict(action="unexempt", device_ids=["d5"]),
    ])
    assert result.exit_code == 0, result
    assert [entry["action"] for entry in result["actions"]] == ["exempt", "unexempt"]
    assert [entry["changed"] for entry in result["actions"]] == [False, True]
    assert result["changed"] is True


def test_exempt_without_hours_fails_naming_the_option_before_any_request(module_harness):
    result = module_harness.run(main, action="exempt", device_ids=["d1"])
    assert result.exit_code == 1
    assert result["msg"].startswith("exempt_hours:")
    assert result["api_requests"]["requests"] == 0


def test_an_option_of_another_action_fails_naming_it(module_harness):
    result = module_harness.run(main, action="unexempt", device_ids=["d1"], exempt_hours=3)
    assert result.exit_code == 1
    assert "exempt_hours" in result["msg"]


def test_a_server_error_on_the_write_is_not_retried_and_fails_with_the_devices(module_harness):
    module_harness.expect("POST", DETAILS, body=[EXEMPTED])
    module_harness.expect("POST", ACTION, status=503)
    result = module_harness.run(main, action="unexempt", device_ids=["d3"])
    assert result.exit_code == 1
    assert "503" in result["msg"]
    assert result["api_requests"]["retries"] == 0
    assert result["api_requests"]["requests"] == 2
    assert result.leaked() == []


# ---------------------------------------------------------------------- wait for command results

SCANNER = {"device_id": "d6", "device_name": "scanner-6", "status": "compliant", "agent_type": "persistent",
           "os_info": {"type": "windows"}, "agent_version": "7.6.300.0"}
REPORT_JSON = {"Content-Type": "application/json"}


def test_wait_returns_the_scan_findings_in_each_devices_entry(module_harness):
    module_harness.expect("POST", DETAILS, body=[SCANNER])
    module_harness.expect("POST", ACTION, body=[{"id": "d6", "status": 1, "command_id": "c6"}])
    module_harness.expect("GET", REPORTS, status=404, text='{"error": "not yet"}', headers=REPORT_JSON)
    module_harness.expect("GET", REPORTS, headers=REPORT_JSON, text=json.dumps(
        {"status": "completed", "threats": [{"threat_name": "EICAR", "file": "C:/e.com", "hash": "h", "critical": False}]}))
    result = module_harness.run(main, action="scan_threats", full_scan=True, device_ids=["d6"], wait=True)
    assert result.exit_code == 0 and outcomes(result) == [("d6", "changed")]
    assert result["devices"][0]["report"] == dict(status="completed", threats_found=1, threats=[
        dict(name="EICAR", file="C:/e.com", hash="h", critical=False)])
    assert result["api_requests"]["requests"] == 4
    assert result.leaked() == []


def test_wait_in_check_mode_sends_neither_the_command_nor_a_poll(module_harness):
    module_harness.expect("POST", DETAILS, body=[SCANNER])
    result = module_harness.run(main, check_mode=True, action="scan_threats", full_scan=True, device_ids=["d6"],
                                wait=True)
    assert result["changed"] is True and result["devices"][0]["report"] is None
    assert result["api_requests"]["requests"] == 1


def test_wait_with_an_action_that_has_no_result_fails_before_any_request(module_harness):
    result = module_harness.run(main, action="exempt", exempt_hours=1, device_ids=["d1"], wait=True)
    assert result["failed"] and "wait" in result["msg"] and "only applies to actions with a result" in result["msg"]
    assert result["api_requests"]["requests"] == 0


def test_a_dest_that_is_not_a_directory_fails_before_any_request(module_harness, tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    result = module_harness.run(main, action="fetch_agent_log", device_ids=["d6"], wait=True, dest=str(a_file))
    assert result["failed"] and "dest" in result["msg"] and "existing directory" in result["msg"]
    assert result["api_requests"]["requests"] == 0
