# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_log_info against the simulator, in-process: a test exempts a device and finds its own exemption."""

from __future__ import absolute_import, division, print_function

import datetime
import math

from conftest import exemptable, ids_of, requests_by_endpoint


def iso(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def test_who_exempted_this_device_and_when(simulator, run_module):
    device, other = exemptable(simulator, 2)
    before = simulator.fleet.now()
    assert run_module("device_action", action="exempt", device_ids=ids_of([device, other]), exempt_hours=4)["changed"]
    after = simulator.fleet.now()

    result = run_module("log_info", category="admin", events=["exempt"], age=600, device_id=device["device_id"].upper())
    entry, = result["entries"]
    assert (entry["event"], entry["device_id"], entry["source"]) == ("exempt", device["device_id"], "api")
    assert entry["admin"] == simulator.fleet.account["email"]
    assert entry["details"] == "exempted for 4 hours"
    assert iso(before)[:19] <= entry["occurred_at"][:19] <= iso(after)[:19]
    assert result["changed"] is False
    assert len(requests_by_endpoint(simulator, "logs")) == 1


def test_the_device_log_shows_the_status_changes_newest_first(simulator, run_module):
    device, = exemptable(simulator, 1)
    run_module("device_action", action="exempt", device_ids=[device["device_id"]], exempt_hours=0)
    run_module("device_action", action="unexempt", device_ids=[device["device_id"]])
    result = run_module("log_info", category="device", device_id=device["device_id"])
    assert [entry["event"] for entry in result["entries"]][1] == "exempted"
    assert len(result["entries"]) == 2
    assert result["entries"][0]["occurred_at"] >= result["entries"][1]["occurred_at"]


def test_the_device_filter_reads_the_whole_window(simulator, run_module):
    devices = exemptable(simulator, 150)
    for start in range(0, 150, 50):
        run_module("device_action", action="exempt", device_ids=ids_of(devices[start:start + 50]), exempt_hours=1)
    simulator.clear_log()
    result = run_module("log_info", category="admin", device_id=devices[0]["device_id"])
    assert len(result["entries"]) == 1
    # The cost the documentation states: every page of the window, 100 entries a request.
    assert len(requests_by_endpoint(simulator, "logs")) == math.ceil(150 / 100)
    simulator.clear_log()
    assert len(run_module("log_info", category="admin", max_entries=5)["entries"]) == 5
    assert [entry["body"]["limit"] for entry in requests_by_endpoint(simulator, "logs")] == [5]


def test_a_window_that_ended_before_the_exemption_holds_none_of_it(simulator, run_module):
    device, = exemptable(simulator, 1)
    now = simulator.fleet.now()
    run_module("device_action", action="exempt", device_ids=[device["device_id"]], exempt_hours=1)
    earlier = run_module("log_info", category="admin", since=iso(now - 7200), until=iso(now - 60))
    assert earlier["entries"] == []
    since_then = run_module("log_info", category="admin", since=iso(now - 60))
    assert [entry["device_id"] for entry in since_then["entries"]] == [device["device_id"]]


def test_bad_input_fails_before_any_request(simulator, run_module):
    simulator.clear_log()
    result = run_module("log_info", category="admin", age=86401)
    assert result["failed"] and "age" in result["msg"]
    result = run_module("log_info", category="admin", since="2026-12-01T10:00:00Z", until="2026-12-01T09:00:00Z")
    assert result["failed"] and "since: must not be after until" in result["msg"]
    assert simulator.request_log() == []
