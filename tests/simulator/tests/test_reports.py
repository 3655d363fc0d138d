# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Reports v3.1: each report type, command results ready after a delay, every "not ready" answer."""

import csv
import io
import zipfile

import pytest
import requests

from itaccess_sim.reports import NOT_READY_ANSWERS, scan_findings
from sim_helpers import check
from test_actions import expected_status

PATH = "/o/api/v3.1/get_reports"


def _eligible(api, action, count=3):
    return [device["device_id"] for device in api.sim.fleet.devices
            if expected_status(action, device, (3, 3)) == 1][:count]


def _command(api, action, device_id):
    result = check("action.response.json", api.action(action, ids=[device_id]))
    assert result[0]["status"] == 1
    return result[0]["command_id"]


def test_scan_result_is_ready_at_once_by_default_and_deterministic(api, make_api):
    device_id = _eligible(api, "scan_threats")[0]
    command_id = _command(api, "scan_threats", device_id)
    report = check("scan_threats_log.response.json", api.get(PATH, params={"type": "scan_threats_log", "command_id": command_id}))
    assert report["command_id"] == command_id and report["device_id"] == device_id
    assert report["threats"] == scan_findings(api.sim.fleet.seed, device_id)
    assert report["threats_found"] == len(report["threats"])
    # The same seed gives the same findings in another simulator; the older spelling answers the same.
    other = make_api()
    again = other.get(PATH, params={"type": "scan_threat_log", "command_id": _command(other, "scan_threats", device_id)}).json()
    assert again["threats"] == report["threats"]


def test_some_scans_find_threats_with_files_and_hashes(api):
    findings = [scan_findings(api.sim.fleet.seed, device["device_id"]) for device in api.sim.fleet.devices]
    assert any(findings) and not all(findings)
    threat = next(item for found in findings for item in found)
    assert set(threat) == {"threat_name", "file", "hash", "critical"} and len(threat["hash"]) == 64


@pytest.mark.parametrize("not_ready", NOT_READY_ANSWERS)
def test_every_not_ready_answer_until_the_delay_passes(make_api, not_ready):
    api = make_api(report_delay=600, report_not_ready=not_ready)
    command_id = _command(api, "scan_threats", _eligible(api, "scan_threats")[0])
    response = api.get(PATH, params={"type": "scan_threats_log", "command_id": command_id})
    status = {"404": 404, "202": 202, "204": 204}.get(not_ready, 200)
    assert response.status_code == status
    if not_ready in ("204", "empty"):
        assert response.content == b""
    else:
        check("report_not_ready.response.json", response, status)
    api.sim.advance_clock(600)
    check("scan_threats_log.response.json", api.get(PATH, params={"type": "scan_threats_log", "command_id": command_id}))


def test_agent_log_as_zip_and_as_text(api):
    command_id = _command(api, "fetch_agent_log", _eligible(api, "fetch_agent_log")[0])
    response = api.get(PATH, params={"type": "agent_log", "command_id": command_id})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/zip"
    assert command_id in response.headers["Content-Disposition"]
    log = zipfile.ZipFile(io.BytesIO(response.content)).read("agent.log")
    assert command_id.encode() in log
    assert api.get(PATH, params={"type": "agent_log", "command_id": command_id}).content == response.content
    requests.post(api.sim.url + "/_sim/reports", json={"agent_log_format": "text"}, timeout=10).raise_for_status()
    text = api.get(PATH, params={"type": "agent_log", "command_id": command_id})
    assert text.headers["Content-Type"].startswith("text/plain") and text.content == log


def test_a_command_is_found_only_under_its_own_report_type(api):
    scan = _command(api, "scan_threats", _eligible(api, "scan_threats")[0])
    check("report_not_ready.response.json", api.get(PATH, params={"type": "agent_log", "command_id": scan}), 404)
    check("report_not_ready.response.json", api.get(PATH, params={"type": "scan_threats_log", "command_id": "0" * 24}), 404)


@pytest.mark.parametrize("params, message", [
    ({}, "missing required field 'type'"),
    ({"type": "nope"}, "'type'"),
    ({"type": "agent_log"}, "command_id"),
    ({"type": "device_missing_os_patch"}, "kb"),
    ({"type": "missing_os_patch"}, "'id'"),
    ({"type": "os_patch_summary", "device_id": "x"}, "unexpected field 'device_id'"),
])
def test_bad_parameters_are_400(api, params, message):
    response = api.get(PATH, params=params)
    assert response.status_code == 400 and message in response.json()["error"]


def test_patch_reports(api):
    summary = api.get(PATH, params={"type": "os_patch_summary"})
    assert summary.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(summary.text)))
    assert rows and set(rows[0]) == {"kb", "title", "severity", "release_date", "missing_devices"}
    kb = max(rows, key=lambda row: int(row["missing_devices"]))
    devices = list(csv.DictReader(io.StringIO(api.get(PATH, params={"type": "device_missing_os_patch", "kb": kb["kb"]}).text)))
    assert len(devices) == int(kb["missing_devices"]) > 0
    one = check("missing_os_patch.response.json", api.get(PATH, params={"type": "missing_os_patch", "id": devices[0]["device_id"]}))
    assert kb["kb"] in [patch["kb"] for patch in one["missing_patches"]]
    assert api.get(PATH, params={"type": "missing_os_patch", "id": "f" * 32}).status_code == 404


def test_echo_url_carries_the_token_and_post_is_405(make_api):
    api = make_api(report_echo_url=True)
    command_id = _command(api, "scan_threats", _eligible(api, "scan_threats")[0])
    report = check("scan_threats_log.response.json", api.get(PATH, params={"type": "scan_threats_log", "command_id": command_id}))
    assert api.token in report["report_url"]
    assert api.post(PATH, {"type": "os_patch_summary"}).status_code == 405


def test_report_settings_control_endpoint(api):
    url = api.sim.url + "/_sim/reports"
    assert requests.get(url, timeout=10).json() == {"delay": 0.0, "not_ready": "404", "agent_log_format": "zip", "echo_url": False}
    answer = requests.post(url, json={"delay": 5, "not_ready": "202"}, timeout=10).json()
    assert answer["delay"] == 5.0 and answer["not_ready"] == "202"
    assert requests.post(url, json={"not_ready": "418"}, timeout=10).status_code == 400
    assert requests.post(url, json={"delay": -1}, timeout=10).status_code == 400
    command_id = _command(api, "fetch_agent_log", _eligible(api, "fetch_agent_log")[0])
    assert requests.get(api.sim.url + "/_sim/commands", timeout=10).json()[command_id]["action"] == "fetch_agent_log"
