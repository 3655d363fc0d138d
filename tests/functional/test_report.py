# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_report against the simulator: each report type, dest written once, a command's result before and after
it is ready, an agent log saved as a file."""

from __future__ import absolute_import, division, print_function

import io
import zipfile

from conftest import requests_by_endpoint
from itaccess_sim.reports import missing_patches, scan_findings


def command_of(simulator, run_module, action):
    device = next(device for device in simulator.fleet.devices if simulator.fleet.applies(action, device, (3, 3)))
    extra = dict(full_scan=True) if action == "scan_threats" else {}
    sent = run_module("device_action", action=action, device_ids=[device["device_id"]], **extra)
    return device, sent["devices"][0]["command_id"]


def test_patch_reports_as_rows_and_json(simulator, run_module, tmp_path):
    summary = run_module("report", type="os_patch_summary")
    assert summary["format"] == "csv" and summary["rows"]
    kb = max(summary["rows"], key=lambda row: int(row["missing_devices"]))
    dest = str(tmp_path / "missing.csv")
    saved = run_module("report", type="device_missing_os_patch", kb=kb["kb"], dest=dest)
    assert saved["changed"] and len(saved["rows"]) == int(kb["missing_devices"])
    assert run_module("report", type="device_missing_os_patch", kb=kb["kb"], dest=dest)["changed"] is False
    device = next(d for d in simulator.fleet.devices if missing_patches(simulator.fleet.seed, d))
    one = run_module("report", type="missing_os_patch", mac=device["network_info"][0]["mac"].upper())
    assert one["report"]["missing_patches"] == missing_patches(simulator.fleet.seed, device)
    assert [entry["query"].get("id") for entry in requests_by_endpoint(simulator, "reports")][-1] == \
        device["network_info"][0]["mac"].lower()


def test_a_scan_result_before_and_after_it_is_ready(simulator, run_module):
    simulator.set_reports(delay=600, not_ready="pending")
    device, command_id = command_of(simulator, run_module, "scan_threats")
    early = run_module("report", type="scan_threats_log", command_id=command_id)
    assert not early.failed and early["ready"] is False
    simulator.advance_clock(600)
    ready = run_module("report", type="scan_threats_log", command_id=command_id)
    assert ready["ready"] and ready["report"]["threats"] == scan_findings(simulator.fleet.seed, device["device_id"])


def test_an_agent_log_is_saved_as_the_zip_it_is(simulator, run_module, tmp_path):
    _device, command_id = command_of(simulator, run_module, "fetch_agent_log")
    dest = str(tmp_path / "agent.zip")
    result = run_module("report", type="agent_log", command_id=command_id, dest=dest)
    assert result["changed"] and result["format"] == "file" and result["content_type"] == "application/zip"
    with open(dest, "rb") as handle:
        assert command_id.encode() in zipfile.ZipFile(io.BytesIO(handle.read())).read("agent.log")
