# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ReportsClient: the query of each report type, every "not ready" answer, JSON, CSV and file answers, redaction,
and the findings of a scan result in the shapes a service may give."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    InputError, NotFoundError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK
from ansible_collections.opswat.it_access.plugins.module_utils.reports import Report, report_query, scan_findings
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, REPORTS)

JSON = {"Content-Type": "application/json"}
SCAN = {"type": "scan_threats_log", "command_id": "c1", "access_token": ACCESS_TOKEN}


@pytest.mark.parametrize("report_type, options, query", [
    ("os_patch_summary", {}, {"type": "os_patch_summary"}),
    ("device_missing_os_patch", {"kb": " KB5034441 "}, {"type": "device_missing_os_patch", "kb": "KB5034441"}),
    ("missing_os_patch", {"device": "aa:bb:cc:dd:ee:ff"}, {"type": "missing_os_patch", "id": "aa:bb:cc:dd:ee:ff"}),
    ("agent_log", {"command_id": "c9"}, {"type": "agent_log", "command_id": "c9"}),
])
def test_the_query_of_each_report_type(report_type, options, query):
    assert report_query(report_type, **options) == query


@pytest.mark.parametrize("report_type, options, option, words", [
    ("device_missing_os_patch", {}, "kb", "is required with type=device_missing_os_patch"),
    ("missing_os_patch", {}, "device_id or mac", "is required"),
    ("scan_threats_log", {"command_id": ""}, "command_id", "is required"),
    ("os_patch_summary", {"kb": "KB1"}, "kb", "only applies to type=device_missing_os_patch"),
    ("agent_log", {"command_id": "c", "device": "d"}, "device_id or mac", "only applies to type=missing_os_patch"),
    ("missing_os_patch", {"device": "d", "command_id": "c"}, "command_id", "type=agent_log or type=scan_threats_log"),
])
def test_a_report_type_without_what_it_needs_or_with_what_it_does_not(report_type, options, option, words):
    with pytest.raises(InputError) as error:
        report_query(report_type, **options)
    assert error.value.option == option and words in str(error.value)


@pytest.mark.parametrize("status, text, headers", [
    (404, '{"error": "Report not found"}', JSON),
    (202, '{"message": "generating"}', JSON),
    (204, "", {}),
    (200, "", JSON),
    (200, "", {}),
    (200, "{}", JSON),
    (200, "[]", JSON),
    (200, "null", JSON),
    (200, '{"status": "pending", "command_id": "c1"}', JSON),
    (200, '{"state": "In Progress"}', JSON),
    (200, '{"status": "queued"}', {"Content-Type": "application/problem+json"}),
])
def test_every_not_ready_answer_of_a_command_is_none(harness, status, text, headers):
    harness.expect("GET", REPORTS, query=SCAN, status=status, text=text, headers=headers)
    assert harness.client().reports.get("scan_threats_log", command_id="c1") is None


def test_a_404_of_another_report_type_is_an_error(harness):
    harness.expect("GET", REPORTS, status=404, text='{"error": "Device not found"}', headers=JSON)
    with pytest.raises(NotFoundError):
        harness.client().reports.get("missing_os_patch", device="f" * 32)


def test_a_json_answer_is_parsed_and_every_secret_in_it_masked(harness):
    echoed = {"status": "completed", "report_url": "/o/api/v3.1/get_reports?access_token=%s" % ACCESS_TOKEN,
              "threats": [{"threat_name": "EICAR", "file": "C:/eicar.com", "hash": "ab" * 32, "critical": False}]}
    harness.expect("GET", REPORTS, text=json.dumps(echoed), headers={"Content-Type": "application/json; charset=utf-8"})
    client = harness.client()
    report = client.reports.get("scan_threats_log", command_id="c1")
    assert report.kind == "json" and ACCESS_TOKEN not in report.data["report_url"] and MASK in report.data["report_url"]
    assert ACCESS_TOKEN not in client.reports.redacted_text(report).decode()


def test_a_csv_answer_is_rows(harness):
    harness.expect("GET", REPORTS, query={"type": "os_patch_summary", "access_token": ACCESS_TOKEN},
                   text="\ufeffkb,missing_devices\r\nKB1,3\r\nKB2,0\r\n", headers={"Content-Type": "text/csv"})
    report = harness.client().reports.get("os_patch_summary")
    assert report.kind == "csv" and report.data == [{"kb": "KB1", "missing_devices": "3"},
                                                    {"kb": "KB2", "missing_devices": "0"}]


def test_a_zip_answer_is_a_file_kept_byte_for_byte(harness):
    content = b"PK\x03\x04\x00\xff binary"
    harness.expect("GET", REPORTS, content=content, headers={"Content-Type": "application/zip"})
    client = harness.client()
    report = client.reports.get("agent_log", command_id="c1")
    assert (report.kind, report.content, report.size) == ("file", content, len(content))
    assert report.content_type == "application/zip"
    assert client.reports.redacted_text(report) == content


def test_an_answer_that_says_json_and_is_not_is_asked_again_once_then_an_error(harness):
    harness.expect("GET", REPORTS, text='{"threats": [', headers=JSON)
    harness.expect("GET", REPORTS, text='{"threats": []}', headers=JSON)
    assert harness.client().reports.get("scan_threats_log", command_id="c1").data == {"threats": []}
    harness.expect("GET", REPORTS, text='{"threats": [', headers=JSON)
    harness.expect("GET", REPORTS, text='{"threats": [', headers=JSON)
    with pytest.raises(UnexpectedResponseError) as error:
        harness.client().reports.get("scan_threats_log", command_id="c1")
    assert "the answer is not valid JSON" in str(error.value)


def test_a_server_error_is_retried_as_any_read(harness):
    harness.expect("GET", REPORTS, status=503)
    harness.expect("GET", REPORTS, text='{"threats": []}', headers=JSON)
    assert harness.client().reports.get("scan_threats_log", command_id="c1").data == {"threats": []}


@pytest.mark.parametrize("data, threats", [
    ([{"name": "X", "path": "/tmp/x", "sha256": "h"}], [{"name": "X", "file": "/tmp/x", "hash": "h", "critical": None}]),
    ({"antimalware_scan": [{"threat": "Y", "file": "f", "md5": "m", "critical": "1"}]},
     [{"name": "Y", "file": "f", "hash": "m", "critical": True}]),
    ({"threats": ["not an object", {"virus_name": "Z", "is_critical": "false"}]},
     [{"name": "Z", "file": None, "hash": None, "critical": False}]),
    ({"status": "completed"}, []),
])
def test_scan_findings_in_every_shape(data, threats):
    found, summary = scan_findings(Report("json", b"", "application/json", data))
    assert found == threats
    if isinstance(data, dict) and "status" in data:
        assert summary == {"status": "completed"}
