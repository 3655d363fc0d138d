# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_report through main(), on the fake API: each answer format, dest and mode, check mode, a result not
ready, and the option checks before any request."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_report import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, REPORTS)

CSV = {"Content-Type": "text/csv"}
JSON = {"Content-Type": "application/json"}


def test_a_csv_report_is_rows_and_nothing_changes_without_dest(module_harness):
    module_harness.expect("GET", REPORTS, query={"type": "device_missing_os_patch", "kb": "KB1",
                                                 "access_token": ACCESS_TOKEN},
                          text="device_id,device_name\r\nd1,pc-1\r\n", headers=CSV)
    result = module_harness.run(main, type="device_missing_os_patch", kb="KB1")
    assert result.exit_code == 0 and result["changed"] is False and result["ready"] is True
    assert result["format"] == "csv" and result["rows"] == [{"device_id": "d1", "device_name": "pc-1"}]
    assert result["api_requests"]["requests"] == 1


def test_a_mac_is_sent_normalised_and_a_json_answer_is_parsed(module_harness):
    module_harness.expect("GET", REPORTS, query={"type": "missing_os_patch", "id": "aa:bb:cc:dd:ee:01",
                                                 "access_token": ACCESS_TOKEN},
                          text='{"device_id": "d1", "missing_patches": []}', headers=JSON)
    result = module_harness.run(main, type="missing_os_patch", mac="AA-BB-CC-DD-EE-01")
    assert result["format"] == "json" and result["report"] == {"device_id": "d1", "missing_patches": []}


def test_dest_is_written_once_with_its_mode_and_check_mode_writes_nothing(module_harness, tmp_path):
    dest = str(tmp_path / "summary.csv")
    for _run in range(4):
        module_harness.expect("GET", REPORTS, text="kb,missing_devices\r\nKB1,2\r\n", headers=CSV)
    checked = module_harness.run(main, check_mode=True, type="os_patch_summary", dest=dest)
    assert checked["changed"] is True and not os.path.exists(dest)
    written = module_harness.run(main, type="os_patch_summary", dest=dest, mode="0640")
    assert written["changed"] is True and written["dest"] == dest and os.stat(dest).st_mode & 0o777 == 0o640
    assert open(dest, "rb").read() == b"kb,missing_devices\r\nKB1,2\r\n" and written["size"] == 27
    again = module_harness.run(main, type="os_patch_summary", dest=dest, mode="0640")
    assert again["changed"] is False and again["sha256"] == written["sha256"]
    assert module_harness.run(main, check_mode=True, type="os_patch_summary", dest=dest)["changed"] is False


def test_an_agent_log_is_saved_byte_for_byte(module_harness, tmp_path):
    dest = str(tmp_path / "agent.zip")
    module_harness.expect("GET", REPORTS, content=b"PK\x03\x04zip", headers={"Content-Type": "application/zip"})
    result = module_harness.run(main, type="agent_log", command_id="c1", dest=dest)
    assert result["changed"] and result["format"] == "file" and open(dest, "rb").read() == b"PK\x03\x04zip"


def test_a_result_not_ready_is_not_a_failure(module_harness):
    module_harness.expect("GET", REPORTS, status=202, text='{"message": "later"}', headers=JSON)
    result = module_harness.run(main, type="scan_threats_log", command_id="c1")
    assert result.exit_code == 0 and result["ready"] is False and result["changed"] is False


def test_a_file_answer_without_dest_fails_saying_so(module_harness):
    module_harness.expect("GET", REPORTS, content=b"PK", headers={"Content-Type": "application/zip"})
    result = module_harness.run(main, type="os_patch_summary")
    assert result["failed"] and result["msg"].startswith("dest:") and "application/zip, 2 bytes" in result["msg"]


def test_echoed_secrets_are_masked(module_harness, tmp_path):
    module_harness.expect("GET", REPORTS, text='{"url": "get_reports?access_token=%s"}' % ACCESS_TOKEN, headers=JSON)
    dest = str(tmp_path / "r.json")
    result = module_harness.run(main, type="scan_threats_log", command_id="c1", dest=dest)
    assert result.leaked() == [] and ACCESS_TOKEN not in open(dest).read()


@pytest.mark.parametrize("options, option", [
    (dict(type="os_patch_summary", kb="KB1"), "kb"),
    (dict(type="device_missing_os_patch"), "kb"),
    (dict(type="missing_os_patch"), "device_id or mac"),
    (dict(type="missing_os_patch", mac="not-a-mac"), "mac"),
    (dict(type="scan_threats_log"), "command_id"),
    (dict(type="agent_log", command_id="c1"), "dest"),
    (dict(type="os_patch_summary", mode="0640"), "mode"),
    (dict(type="os_patch_summary", dest="/tmp/r.csv", mode="u+rw"), "mode"),
    (dict(type="os_patch_summary", dest="/nonexistent/dir/r.csv"), "dest"),
    (dict(type="os_patch_summary", dest="/tmp"), "dest"),
])
def test_bad_options_fail_naming_the_option_before_any_request(module_harness, options, option):
    result = module_harness.run(main, **options)
    assert result["failed"] and result["msg"].startswith(option + ":"), result["msg"]
    assert result["api_requests"]["requests"] == 0
