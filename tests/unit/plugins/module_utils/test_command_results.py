# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting for command results on the fake transport and clock: the option checks, the order and spacing of the
polls, the timeout, a poll that fails, a result that cannot be saved, and the task's result afterwards."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.command_results import (
    MIN_REPOLL_SECONDS, check_wait, finish_result, wait_for_results)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import REPORTS

JSON = {"Content-Type": "application/json"}
PENDING = dict(status=404, text='{"error": "Report not found"}', headers=JSON)


class Request(object):
    """What the wait reads of an action: its name and its devices' entries after the write."""

    def __init__(self, action, *command_ids):
        self.action = action
        self.results = [dict(id="d%d" % index, device_id="d%d" % index, result="changed" if command else "failed",
                             command_id=command or None) for index, command in enumerate(command_ids)]


def found(command_id, threats=()):
    return dict(text=json.dumps({"command_id": command_id, "device_id": "x", "scan_time": "t",
                                 "threats": [{"threat_name": name} for name in threats]}), headers=JSON)


def waiting_for(requests, timeout=600, dest=None, **params):
    return check_wait(dict(params, wait=True, wait_timeout=timeout, dest=dest), requests)


def polled(harness):
    return [call.params["command_id"] for call in harness.transport.calls if call.path == REPORTS]


# ---------------------------------------------------------------------- option checks, before any request


@pytest.mark.parametrize("params, requests, option, words", [
    (dict(wait=True), [Request("exempt")], "wait", "only applies to actions with a result"),
    (dict(wait=True), [Request("exempt"), Request("delete")], "wait", "not action=exempt, delete"),
    (dict(wait=False, dest="/tmp"), [Request("scan_threats")], "dest", "only applies with wait=true"),
    (dict(wait=True, wait_timeout=0), [Request("scan_threats")], "wait_timeout", "at least 1 second"),
    (dict(wait=True, wait_timeout=True), [Request("scan_threats")], "wait_timeout", "boolean"),
    (dict(wait=True), [Request("fetch_agent_log")], "dest", "is required with wait=true and fetch_agent_log"),
    (dict(wait=True, dest="/tmp"), [Request("scan_threats")], "dest", "only applies to fetch_agent_log"),
    (dict(wait=True, dest="/nonexistent/dir"), [Request("fetch_agent_log")], "dest", "existing directory"),
])
def test_wait_options_that_cannot_work(params, requests, option, words):
    with pytest.raises(InputError) as error:
        check_wait(params, requests)
    assert error.value.option == option and words in str(error.value)


def test_without_wait_nothing_is_waited_on_and_with_actions_only_those_with_a_result():
    assert check_wait(dict(wait=False), [Request("scan_threats")]) is None
    scan = Request("scan_threats")
    assert waiting_for([Request("exempt"), scan]).requests == [scan]


# ---------------------------------------------------------------------- the poll


def test_oldest_first_and_a_command_asked_again_only_after_the_others(harness):
    client = harness.client()
    request = Request("scan_threats", "c1", "c2", "c3")
    harness.expect("GET", REPORTS, **PENDING)
    harness.expect("GET", REPORTS, **found("c2", ["EICAR"]))
    harness.expect("GET", REPORTS, **PENDING)
    harness.expect("GET", REPORTS, **found("c1"))
    harness.expect("GET", REPORTS, **found("c3"))
    waiting = waiting_for([request])
    wait_for_results(client, waiting, check_mode=False)
    assert polled(harness) == ["c1", "c2", "c3", "c1", "c3"]
    assert [entry["report"]["threats_found"] for entry in request.results] == [0, 1, 0]
    assert request.results[1]["report"]["threats"] == [dict(name="EICAR", file=None, hash=None, critical=None)]
    assert waiting.fetched == 3


def test_one_command_is_asked_again_no_sooner_than_the_repoll_gap(harness):
    client = harness.client(requests_per_minute=6000)
    request = Request("scan_threats", "c1")
    harness.expect("GET", REPORTS, **PENDING)
    harness.expect("GET", REPORTS, **PENDING)
    harness.expect("GET", REPORTS, **found("c1"))
    wait_for_results(client, waiting_for([request]), check_mode=False)
    times = [call.time for call in harness.transport.calls if call.path == REPORTS]
    assert all(later - earlier >= MIN_REPOLL_SECONDS for earlier, later in zip(times, times[1:]))


def test_past_the_timeout_the_rest_is_pending_with_how_to_fetch_it(harness):
    client = harness.client()  # 60 requests a minute: one poll a second
    request = Request("scan_threats", "c1", "c2")
    for _poll in range(5):
        harness.expect("GET", REPORTS, **PENDING)
    waiting = waiting_for([request], timeout=5)
    wait_for_results(client, waiting, check_mode=False)
    assert [entry["result"] for entry in request.results] == ["pending", "pending"]
    assert "no result within wait_timeout (5 s)" in request.results[0]["error"]
    assert "opswat_report (type=scan_threats_log, command_id=c1)" in request.results[0]["error"]
    result = finish_result(dict(changed=False, changed_ids=[], failed_ids=[]), [request], waiting, False)
    assert result["changed"] and result["changed_ids"] == ["d0", "d1"] and result["failed_ids"] == ["d0", "d1"]
    assert result["failed"] and "0 result(s) fetched, 2 pending within wait_timeout (5 s)" in result["msg"]
    assert "failed" not in finish_result(dict(changed=False, changed_ids=[], failed_ids=[]), [request], waiting, True)


def test_a_poll_that_fails_stops_the_wait_and_keeps_what_came_in(harness):
    client = harness.client()
    client.session.max_retries = 0
    request = Request("scan_threats", "c1", "c2", "")
    harness.expect("GET", REPORTS, **found("c1"))
    harness.expect("GET", REPORTS, status=500, text='{"error": "boom"}', headers=JSON)
    waiting = waiting_for([request])
    wait_for_results(client, waiting, check_mode=False)
    first, second, unsent = request.results
    assert first["result"] == "changed" and first["report"]["threats_found"] == 0
    assert second["result"] == "pending" and "Get Reports failed while waiting" in second["error"]
    assert unsent["result"] == "failed" and unsent["report"] is None, "a device without a command is not waited on"
    result = finish_result(dict(changed=True, changed_ids=["d0"], failed_ids=["d2"], failed=True, msg="Earlier."),
                           [request], waiting, True)
    assert result["failed"] and result["msg"].startswith("Earlier. Waiting for the command results stopped")
    assert "1 result(s) fetched, 1 pending" in result["msg"] and result["failed_ids"] == ["d2", "d1"]


def test_check_mode_polls_nothing(harness):
    request = Request("scan_threats", "c1")
    wait_for_results(harness.client(), waiting_for([request]), check_mode=True)
    assert request.results[0]["result"] == "changed" and request.results[0]["report"] is None
    assert harness.transport.calls == []


def test_an_agent_log_is_saved_under_dest_and_one_that_cannot_be_saved_is_pending(harness, tmp_path):
    tmp_path = tmp_path / "logs"  # the state directory of the test is tmp_path itself
    tmp_path.mkdir()
    client = harness.client()
    request = Request("fetch_agent_log", "c1", "c2")
    harness.expect("GET", REPORTS, content=b"PK zip", headers={"Content-Type": "application/zip"})
    harness.expect("GET", REPORTS, text="log line\n", headers={"Content-Type": "text/plain"})
    waiting = waiting_for([request], dest=str(tmp_path))
    os.mkdir(str(tmp_path / "d1_c2.log"))  # a directory where the second log goes: it cannot be written
    wait_for_results(client, waiting, check_mode=False)
    saved = request.results[0]["report"]
    assert saved["path"] == str(tmp_path / "d0_c1.zip") and saved["size"] == 6 and saved["content_type"] == "application/zip"
    assert open(saved["path"], "rb").read() == b"PK zip"
    assert request.results[1]["result"] == "pending" and "could not be saved" in request.results[1]["error"]
    assert sorted(os.listdir(str(tmp_path))) == ["d0_c1.zip", "d1_c2.log"], "a temporary file was left behind"
    assert [call.path for call in harness.transport.calls] == [REPORTS, REPORTS]
