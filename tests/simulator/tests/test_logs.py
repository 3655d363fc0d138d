# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Logs v3.3: the entries every applied change writes, categories, windows, the events filter, cursor paging, errors."""

import pytest

from sim_helpers import check

LOGS = "logs.response.json"
PATH = "/o/api/v3.3/logs"


def _logs(api, **body):
    body.setdefault("event_category", "admin")
    return api.post(PATH, body)


def _exemptable(api, count=1):
    devices = [device for device in api.sim.fleet.devices
               if device["status"] == "compliant" and device["_sim"]["agent"] == "persistent"]
    return [device["device_id"] for device in devices[:count]]


def _all_pages(api, **body):
    entries, pages = [], 0
    while True:
        answer = check(LOGS, _logs(api, **body))
        entries.extend(answer["logs"])
        pages += 1
        if "next_token" not in answer:
            return entries, pages
        body["token"] = answer["next_token"]


def test_no_change_no_entry(api):
    for category in ("device", "admin", "webhook", "device_report"):
        assert check(LOGS, _logs(api, event_category=category)) == {"logs": []}


def test_a_device_action_writes_who_what_when_and_which_device(api):
    device_id, = _exemptable(api)
    device = api.sim.fleet.device(device_id)
    before_ms = int(api.sim.fleet.now() * 1000)
    assert api.action("exempt", ids=[device_id], params={"exempt_time": 24}).json()[0]["status"] == 1
    entry, = check(LOGS, _logs(api))["logs"]
    assert entry["event"] == "exempt" and entry["device_id"] == device_id and entry["device_name"] == device["device_name"]
    assert entry["admin"] == api.sim.fleet.account["email"] and entry["source"] == "api"
    assert entry["details"] == "exempted for 24 hours"
    assert before_ms <= entry["timestamp"] <= int(api.sim.fleet.now() * 1000)
    # The status change is a device entry of its own.
    device_entry, = check(LOGS, _logs(api, event_category="device"))["logs"]
    assert (device_entry["event"], device_entry["device_id"], device_entry["source"]) == ("exempted", device_id, "api")


def test_an_action_that_does_not_apply_writes_nothing(api):
    assert api.action("exempt", ids=["0" * 32]).json()[0]["status"] == 0
    assert check(LOGS, _logs(api))["logs"] == []


def test_console_changes_and_deletions_are_device_entries(api):
    first, second, third = (device["device_id"] for device in api.sim.fleet.devices[:3])
    api.sim.change_status(first, "non_compliant" if api.sim.fleet.device(first)["status"] != "non_compliant" else "compliant")
    api.sim.delete_device(second)
    api.action("delete", ids=[third])
    entries = check(LOGS, _logs(api, event_category="device"))["logs"]
    assert [(entry["device_id"], entry["source"]) for entry in entries] == [(third, "api"), (second, "console"),
                                                                            (first, "console")]
    assert [entry["event"] for entry in entries][:2] == ["deleted_api", "deleted"]
    enrolled = api.sim.enrol_device()
    assert check(LOGS, _logs(api, event_category="device"))["logs"][0]["event"] == "added"
    assert check(LOGS, _logs(api, event_category="device"))["logs"][0]["device_id"] == enrolled


def test_newest_first_and_cursor_paging(api):
    ids = _exemptable(api, 7)
    for device_id in ids:
        api.action("exempt", ids=[device_id])
    entries, pages = _all_pages(api, limit=3)
    assert pages == 3
    assert [entry["device_id"] for entry in entries] == ids[::-1]
    assert [entry["timestamp"] for entry in entries] == sorted((entry["timestamp"] for entry in entries), reverse=True)


def test_a_full_last_page_has_no_cursor(api):
    for device_id in _exemptable(api, 4):
        api.action("exempt", ids=[device_id])
    answer = check(LOGS, _logs(api, limit=4))
    assert len(answer["logs"]) == 4 and "next_token" not in answer


def test_events_filter_as_a_list_or_a_string(api):
    device_id, other = _exemptable(api, 2)
    api.action("exempt", ids=[device_id])
    api.action("assign_to_group", ids=[other], params={"group_id": "default"})
    assert [entry["event"] for entry in check(LOGS, _logs(api, filter={"events": ["exempt"]}))["logs"]] == ["exempt"]
    assert len(check(LOGS, _logs(api, filter={"events": "exempt, assign_to_group"}))["logs"]) == 2
    # The filter does not apply to device reports: it is ignored there.
    assert check(LOGS, _logs(api, event_category="device_report", filter={"events": ["x"]}))["logs"] == []


def test_windows_age_and_start_end(api):
    device_id, = _exemptable(api)
    api.action("exempt", ids=[device_id])
    stamp = check(LOGS, _logs(api))["logs"][0]["timestamp"]
    api.sim.advance_clock(120)
    assert check(LOGS, _logs(api, age=60))["logs"] == []
    assert len(check(LOGS, _logs(api, age=600))["logs"]) == 1
    assert len(check(LOGS, _logs(api, start_time=stamp, end_time=stamp))["logs"]) == 1
    assert check(LOGS, _logs(api, start_time=stamp + 1))["logs"] == []
    assert check(LOGS, _logs(api, end_time=stamp - 1))["logs"] == []


@pytest.mark.parametrize("body, status", [
    ({"event_category": "nope"}, 400),
    ({}, 400),
    ({"event_category": "admin", "age": 86401}, 400),
    ({"event_category": "admin", "age": 60, "start_time": 1}, 400),
    ({"event_category": "admin", "start_time": 2000, "end_time": 1000}, 400),
    ({"event_category": "admin", "start_time": "yesterday"}, 400),
    ({"event_category": "admin", "token": "00" * 10}, 400),
    ({"event_category": "admin", "filter": {"events": 3}}, 400),
    ({"event_category": "admin", "limit": 101}, 406),
    ({"event_category": "admin", "limit": 0}, 406),
])
def test_errors(api, body, status):
    answer = check("error.response.json", api.post(PATH, body), status)
    assert answer["error"]


def test_method_and_token(api):
    check("oauth_error.response.json", api.post(PATH, {"event_category": "admin"}, token=False), 401)
    check("error.response.json", api.get(PATH), 405)
