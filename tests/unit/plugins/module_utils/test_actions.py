# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The plan/write engine of opswat_device_action on the fake transport: reads, plans, writes, a write that stops
part way (outcome unknown, not sent), check mode and the group look-up; and what a write records for each device."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import actions, devices
from ansible_collections.opswat.it_access.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import ACTION, DETAILS, GROUPS


def device(**fields):
    base = dict(device_id="d1", device_name="one", status="compliant", agent_type="persistent",
                agent_version="7.6.300.0", os_info={"type": "windows"})
    base.update(fields)
    return base


def run(client, check_mode=False, known_groups=None, **options):
    requests = [actions.check_action(options)]
    actions.execute(client, requests, check_mode, known_groups)
    return requests[0]


def results(request):
    return [(entry["id"], entry["result"]) for entry in request.results]


def test_only_the_devices_that_need_it_are_written(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["A", "b", "gone"], "opt": 0},
                   body=[device(device_id="a", status="exempted"), device(device_id="b", device_name="two")])
    harness.expect("POST", ACTION, json_body={"types": "unexempt", "ids": ["a"]}, body=[{"id": "a", "status": 1}])
    request = run(harness.client(), action="unexempt", device_ids=["A", "b", "gone"])
    assert results(request) == [("A", "changed"), ("b", "unchanged"), ("gone", "not_found")]
    assert request.diff() == ({"A": {"exempted": True, "device_name": "one"}},
                              {"A": {"exempted": False, "device_name": "one"}})
    failed = actions.one_action_result(request, False, False, False)  # gone is not found: a partial failure
    assert failed["failed"] is True and failed["failed_ids"] == ["gone"] and failed["changed_ids"] == ["A"]
    assert failed["msg"] == ("unexempt: 0 device(s) failed, 0 not supported, 1 not found (see failed_ids); the action"
                             " was applied to the other 1. Set allow_partial=true to accept this.")
    accepted = actions.one_action_result(request, False, True, False)
    assert "failed" not in accepted and accepted["changed"] is True


def test_check_mode_reads_predicts_and_writes_nothing(harness):
    harness.expect("POST", DETAILS, body=[device(device_id="a"), device(device_id="dc", agent_type="domain controller"),
                                          device(device_id="x", status="exempted")])
    request = run(harness.client(), check_mode=True, action="exempt", exempt_hours=8, device_ids=["a", "dc", "x"])
    assert results(request) == [("a", "changed"), ("dc", "not_supported"), ("x", "unchanged")]
    assert request.results[1]["error"] == "exempt does not apply to domain controllers"
    assert request.diff()[1] == {"a": {"exempted": True, "exempt_hours": 8, "device_name": "one"}}
    result = actions.one_action_result(request, True, True, True)
    assert result["changed"] is True and "failed" not in result
    assert json.loads(result["diff"]["after"]) == request.diff()[1]


def test_a_write_that_stops_part_way_reports_each_device(harness):
    ids = ["d%03d" % number for number in range(120)]
    for start in (0, 50, 100):
        harness.expect("POST", DETAILS, body=[device(device_id=key, status="exempted") for key in ids[start:start + 50]])
    harness.expect("POST", ACTION, json_body={"types": "unexempt", "ids": ids[:50]},
                   body=[{"id": key, "status": 1} for key in ids[:50]])
    harness.expect("POST", ACTION, json_body={"types": "unexempt", "ids": ids[50:100]}, status=500,
                   body={"error": "boom"})
    request = run(harness.client(), action="unexempt", device_ids=ids)
    counts = dict((name, len([entry for entry in request.results if entry["result"] == name]))
                  for name in ("changed", "failed", "not_sent"))
    assert counts == dict(changed=50, failed=50, not_sent=20)
    assert request.outcome_unknown == ids[50:100] and request.refused == []
    result = actions.one_action_result(request, False, True, False)
    assert result["failed"] is True  # a write that stops fails the task, allow_partial or not
    assert "50 device(s) changed, 50 with an unknown outcome (failed: the action may have been applied to them)," \
           " 20 not sent" in result["msg"]


def test_several_actions_read_each_device_once_and_a_stopped_one_does_not_stop_the_next(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["a", "b"], "opt": 0},
                   body=[device(device_id="a", status="exempted"), device(device_id="b")])
    harness.expect("POST", ACTION, json_body={"types": "unexempt", "ids": ["a"]}, status=503, body={})
    harness.expect("POST", ACTION, json_body={"types": "scan_threats", "ids": ["a", "b"], "params": {"full_scan": 1}},
                   body=[{"id": "a", "status": 1, "command_id": "c1"}, {"id": "b", "status": -1}])
    requests = actions.check_actions([dict(action="unexempt", device_ids=["a"]),
                                      dict(action="scan_threats", full_scan=True, device_ids=["a", "b"])])
    actions.execute(harness.client(), requests, False)
    assert [results(request) for request in requests] == [[("a", "failed")], [("a", "changed"), ("b", "not_supported")]]
    result = actions.several_actions_result(requests, False, True, False)
    assert result["failed"] is True and result["actions"][1]["devices"][0]["command_id"] == "c1"
    assert result["msg"].startswith("actions[0] (unexempt) stopped: ")


GROUPS_LIST = [{"group_id": "default", "group_name": "Default"}, {"group_id": "5b8a", "group_name": "Quarantine"}]


def test_known_groups_save_the_group_look_up(harness):
    harness.expect("POST", DETAILS, body=[device(device_id="a", group_name="Quarantine")])
    request = run(harness.client(), known_groups=GROUPS_LIST, action="assign_to_group", group_name="Quarantine",
                  device_ids=["a"])
    assert request.params == {"group_id": "5b8a"} and results(request) == [("a", "unchanged")]


def test_a_group_missing_from_known_groups_is_looked_up_once(harness):
    # One page shorter than its limit: the whole listing of the groups.
    harness.expect("POST", GROUPS, body=GROUPS_LIST)
    harness.expect("POST", DETAILS, body=[device(device_id="a")])
    harness.expect("POST", ACTION, json_body={"types": "assign_to_group", "ids": ["a"], "params": {"group_id": "5b8a"}},
                   body=[{"id": "a", "status": 1}])
    request = run(harness.client(), known_groups=GROUPS_LIST[:1], action="assign_to_group", group_name="Quarantine",
                  device_ids=["a"])
    assert results(request) == [("a", "changed")]
    assert request.diff()[1] == {"a": {"group_name": "Quarantine", "device_name": "one"}}


def test_an_unknown_group_fails_before_any_device_is_read(harness):
    harness.expect("POST", GROUPS, body=GROUPS_LIST)
    with pytest.raises(InputError) as raised:
        run(harness.client(), action="assign_to_group", group_name="quarantine", device_ids=["a"])
    assert raised.value.option == "group_name" and "known groups: Default, Quarantine" in raised.value.reason


def test_two_actions_on_one_device_s_status_fail_before_any_write(harness):
    harness.expect("POST", DETAILS, body=[device(device_id="a", status="unknown")])
    requests = actions.check_actions([dict(action="exempt", exempt_hours=1, device_ids=["a"]),
                                      dict(action="ignore", device_ids=["a"])])
    with pytest.raises(InputError) as raised:
        actions.execute(harness.client(), requests, False)
    assert raised.value.option == "actions[1].device_ids" and "status" in raised.value.reason


class StubClient(object):
    """Answers a device action with ``answers``, or raises ``error`` carrying them."""

    def __init__(self, answers, error=None, unsent=None):
        self.answers, self.error, self.unsent = answers, error, unsent
        self.sent = None
        self.devices = self  # the write calls client.devices.action()

    def action(self, action, ids=None, params=None):
        self.sent = ids
        if self.error is not None:
            self.error.completed_results, self.error.unsent_ids = self.answers, self.unsent
            raise self.error
        return self.answers


def planned(ids, found):
    request = actions.check_action(dict(action="unexempt", device_ids=ids))
    request.devices = dict((key, found.get(devices.id_key(key))) for key in request.wanted)
    actions.plan(request)
    return request


def test_answers_match_the_sent_ids_in_any_case():
    found = dict(aa=device(device_id="aa", status="exempted"), bb=device(device_id="bb", status="exempted"))
    request = planned(["AA", "bb"], found)
    client = StubClient([dict(id="aa", status=1), dict(id="BB", status=-1)])
    actions.write(client, request)
    assert client.sent == ["aa", "bb"]
    assert [(entry["id"], entry["result"]) for entry in request.results] == [("AA", "changed"), ("bb", "not_supported")]
    assert request.results[1]["error"] == "the API answered that the action does not apply to this device"


def test_a_write_that_stops_marks_the_unsent_devices_not_sent():
    found = dict((key, device(device_id=key, status="exempted")) for key in ("a", "b", "c"))
    request = planned(["a", "b", "c"], found)
    error = ApiError("POST /x failed: HTTP 503. The action may have been applied: check.", status=503)
    error.may_have_been_applied = True  # as the client marks a 5xx answer to a device action
    actions.write(StubClient([dict(id="a", status=1)], error=error, unsent=["c"]), request)
    assert [entry["result"] for entry in request.results] == ["changed", "failed", "not_sent"]
    assert request.outcome_unknown == ["b"] and request.failed_ids() == ["b", "c"]
    message = actions.stopped_message(request)
    assert message == ("unexempt stopped: POST /x failed: HTTP 503. The action may have been applied: check. 1 device(s)"
                       " changed, 1 with an unknown outcome (failed: the action may have been applied to them), 1 not sent")


def test_a_refused_request_leaves_no_outcome_unknown():
    found = dict((key, device(device_id=key, status="exempted")) for key in ("a", "b"))
    request = planned(["a", "b"], found)
    error = ApiError("POST /x: the access token was rejected (HTTP 401)", status=401)
    error.may_have_been_applied = False
    client = StubClient([], error=error, unsent=["b"])
    actions.write(client, request)
    assert [entry["result"] for entry in request.results] == ["failed", "not_sent"]
    assert request.outcome_unknown == [] and request.refused == ["a"]
    message = actions.stopped_message(request)
    assert message == ("unexempt stopped: POST /x: the access token was rejected (HTTP 401). 0 device(s) changed,"
                       " 0 with an unknown outcome, 1 refused (failed: the action was not applied to them), 1 not sent")
