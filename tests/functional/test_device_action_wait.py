# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_action wait: command results polled from the simulator's Get Reports, for real (its delay, every
"not ready" answer, the timeout, a report failing mid-poll), check mode, and agent logs saved under dest."""

from __future__ import absolute_import, division, print_function

import hashlib
import io
import os
import zipfile

import pytest

from conftest import ids_of, requests_by_endpoint, write_entries
from itaccess_sim.reports import NOT_READY_ANSWERS, scan_findings

ACTION_API = (3, 3)


def eligible(sim, action, count):
    devices = [device for device in sim.fleet.devices if sim.fleet.applies(action, device, ACTION_API)][:count]
    assert len(devices) == count
    return devices


def expected_threats(sim, device_id):
    return [dict(name=item["threat_name"], file=item["file"], hash=item["hash"], critical=item["critical"])
            for item in scan_findings(sim.fleet.seed, device_id)]


def report_requests(sim):
    return requests_by_endpoint(sim, "reports")


def test_scan_and_wait_returns_each_devices_findings_polling_the_oldest_first(simulator, run_module):
    ids = ids_of(eligible(simulator, "scan_threats", 5))
    result = run_module("device_action", action="scan_threats", full_scan=True, device_ids=ids, wait=True)
    assert not result.get("failed"), result.get("msg")
    assert result["changed"] and result["changed_ids"] == ids and result["failed_ids"] == []
    for entry in result["devices"]:
        assert entry["result"] == "changed"
        assert entry["report"]["threats"] == expected_threats(simulator, entry["device_id"])
        assert entry["report"]["threats_found"] == len(entry["report"]["threats"])
    # One report request per command, in the order the commands were sent.
    commands = [entry["command_id"] for entry in result["devices"]]
    assert [entry["query"]["command_id"] for entry in report_requests(simulator)] == commands
    assert [entry["query"]["type"] for entry in report_requests(simulator)] == ["scan_threats_log"] * 5
    assert result["api_requests"]["requests"] == 1 + 1 + 1 + 5  # token, read, write, one report each


@pytest.mark.parametrize("not_ready", NOT_READY_ANSWERS)
def test_every_not_ready_answer_is_waited_through(simulator, run_module, not_ready):
    simulator.set_reports(delay=2, not_ready=not_ready)
    ids = ids_of(eligible(simulator, "scan_threats", 2))
    result = run_module("device_action", action="scan_threats", full_scan=True, device_ids=ids, wait=True,
                        wait_timeout=30)
    assert not result.get("failed"), result.get("msg")
    assert [entry["result"] for entry in result["devices"]] == ["changed", "changed"]
    assert all(entry["report"]["threats"] == expected_threats(simulator, entry["device_id"])
               for entry in result["devices"])
    polls = report_requests(simulator)
    assert len(polls) > 2, "the results were ready at the first poll: the not-ready answer was not exercised"
    statuses = set(entry["status"] for entry in polls[:-2])
    assert statuses == set([{"404": 404, "202": 202, "204": 204}.get(not_ready, 200)])


def test_past_the_timeout_every_device_is_pending_with_its_command_id(simulator, run_module):
    simulator.set_reports(delay=3600)
    ids = ids_of(eligible(simulator, "scan_threats", 3))
    options = dict(action="scan_threats", full_scan=True, device_ids=ids, wait=True, wait_timeout=3)
    result = run_module("device_action", **options)
    assert result["failed"] and "0 result(s) fetched, 3 pending within wait_timeout (3 s)" in result["msg"]
    assert result["changed"] and result["changed_ids"] == ids and result["failed_ids"] == ids
    for entry in result["devices"]:
        assert entry["result"] == "pending" and entry["command_id"] and entry["report"] is None
        assert "command_id=%s" % entry["command_id"] in entry["error"]
    # Every command was asked for, and more than once: the wait went on until the timeout.
    assert len(report_requests(simulator)) > 3
    accepted = run_module("device_action", allow_partial=True, **options)
    assert not accepted.get("failed") and accepted["failed_ids"] == ids


def test_check_mode_sends_neither_the_command_nor_a_poll(simulator, run_module):
    ids = ids_of(eligible(simulator, "scan_threats", 2))
    result = run_module("device_action", check=True, action="scan_threats", full_scan=True, device_ids=ids, wait=True)
    assert result["changed"] and [entry["result"] for entry in result["devices"]] == ["changed", "changed"]
    assert [entry["report"] for entry in result["devices"]] == [None, None]
    assert write_entries(simulator) == [] and report_requests(simulator) == []


def test_agent_logs_are_saved_under_dest_with_size_and_sha256(simulator, run_module, tmp_path):
    devices = eligible(simulator, "fetch_agent_log", 2)
    result = run_module("device_action", action="fetch_agent_log", device_ids=ids_of(devices), wait=True,
                        dest=str(tmp_path))
    assert not result.get("failed"), result.get("msg")
    for entry in result["devices"]:
        report = entry["report"]
        assert report["path"] == str(tmp_path / ("%s_%s.zip" % (entry["device_id"], entry["command_id"])))
        with open(report["path"], "rb") as handle:
            content = handle.read()
        assert report["size"] == len(content) and report["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["command_id"].encode() in zipfile.ZipFile(io.BytesIO(content)).read("agent.log")
        assert os.stat(report["path"]).st_mode & 0o777 == 0o600
    saved = sorted(os.path.basename(entry["report"]["path"]) for entry in result["devices"])
    assert sorted(os.listdir(str(tmp_path))) == saved


def test_a_report_failing_mid_poll_keeps_what_was_fetched(simulator, run_module):
    ids = ids_of(eligible(simulator, "scan_threats", 3))
    # The first poll answers; the second fails past the session's retries.
    simulator.add_fault("status", count=4, endpoint="reports", after=1, code=500)
    result = run_module("device_action", action="scan_threats", full_scan=True, device_ids=ids, wait=True,
                        allow_partial=True)
    assert result["failed"] and "Waiting for the command results stopped" in result["msg"]
    assert "1 result(s) fetched, 2 pending" in result["msg"]
    first, second, third = result["devices"]
    assert first["result"] == "changed" and first["report"]["threats"] == expected_threats(simulator, ids[0])
    for entry in (second, third):
        assert entry["result"] == "pending" and entry["report"] is None
        assert "Get Reports failed while waiting" in entry["error"] and entry["command_id"] in entry["error"]


def test_scan_results_that_echo_the_url_do_not_leak_the_token(simulator, run_module):
    simulator.set_reports(echo_url=True)
    ids = ids_of(eligible(simulator, "scan_threats", 1))
    # run_module fails the test when a secret of the run is in the module's output.
    result = run_module("device_action", action="scan_threats", full_scan=True, device_ids=ids, wait=True)
    assert "access_token=" in result["devices"][0]["report"]["report_url"]
