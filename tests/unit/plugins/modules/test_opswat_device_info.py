# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_info through main(), on the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_device_info import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    DETAILS, DEVICES, STATUS_CHANGES)

FLEET = [
    {"device_id": "d1", "status": "compliant", "device_type": "laptop"},
    {"device_id": "d2", "status": "non_compliant", "device_type": "laptop"},
    {"device_id": "d3", "status": "non_compliant", "device_type": "server"},
]


def expect_fleet(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 50}, body={"devices": FLEET[:2], "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"}, body={"devices": FLEET[2:]})


def test_lists_the_fleet_page_by_page(module_harness):
    expect_fleet(module_harness)
    result = module_harness.run(main)
    assert result.exit_code == 0
    assert result["changed"] is False
    assert result["devices"] == FLEET
    assert result["count"] == 3
    assert result["api_requests"] == dict(requests=2, throttled=0, retries=0, waited_seconds=0.0)
    assert result.leaked() == []


def test_filters_are_and_ed_across_and_or_ed_within(module_harness):
    expect_fleet(module_harness)
    result = module_harness.run(main, status=["non_compliant", "exempted"], device_type=["laptop"])
    assert [device["device_id"] for device in result["devices"]] == ["d2"]


def test_device_ids_use_device_details_and_leave_unknown_ids_out(module_harness):
    module_harness.expect("POST", DETAILS, json_body={"ids": ["D3", "zz", "d1"], "opt": 0}, body=[FLEET[0], FLEET[2]])
    result = module_harness.run(main, device_ids=["D3", "zz", "d1"])
    assert [device["device_id"] for device in result["devices"]] == ["d3", "d1"]
    assert result["count"] == 2


def test_max_devices_stops_listing_once_it_has_them(module_harness):
    module_harness.expect("POST", DEVICES, body={"devices": FLEET[:2], "next_token": "c1"})
    result = module_harness.run(main, max_devices=2)
    assert [device["device_id"] for device in result["devices"]] == ["d1", "d2"]
    assert result["api_requests"]["requests"] == 1


def test_check_mode_reads_the_same_devices(module_harness):
    expect_fleet(module_harness)
    result = module_harness.run(main, check_mode=True)
    assert result["changed"] is False
    assert result["devices"] == FLEET


@pytest.mark.parametrize("params, option", [
    (dict(status=["non-compliant"]), "status"),
    (dict(device_ids=[]), "device_ids"),
    (dict(max_devices=True), "max_devices"),
    (dict(device_ids=["d1"], macs=["aa:bb:cc:dd:ee:ff"]), "device_ids"),
])
def test_bad_input_fails_naming_the_option_before_any_request(module_harness, params, option):
    result = module_harness.run(main, **params)
    assert result.exit_code == 1
    assert option in result["msg"]
    assert "devices" not in result


def test_a_misshapen_answer_fails_with_the_requests_counted(module_harness):
    module_harness.expect("POST", DEVICES, body=[1, 2])
    result = module_harness.run(main)
    assert result.exit_code == 1
    assert "unexpected answer" in result["msg"]
    assert result["api_requests"]["requests"] == 1
    assert "devices" not in result
    assert result.leaked() == []


# ---------------------------------------------------------------------- changed_within: the Status Change API

CHANGES = [
    {"device_id": "d2", "status": "non-compliant", "severity": "critical", "group_name": "Default",
     "device_name": "PC-2", "issue": {"total_issues": 2, "total_critical_issues": 2, "total_warning_issues": 0}},
    {"device_id": "d3", "status": "compliant", "severity": "no_issues", "group_name": "Servers",
     "device_name": "SRV-3", "issue": {"total_issues": 0, "total_critical_issues": 0, "total_warning_issues": 0}},
]
DETAILED = [
    {"device_id": "d3", "status": "compliant", "device_type": "server", "group_name": "Servers", "nick_name": "srv",
     "issue": {"total_issue": 0, "total_critical_issue": 0, "total_warning_issue": 0}},
    {"device_id": "D2", "status": "non_compliant", "device_type": "laptop", "group_name": "Default",
     "issue": {"total_issue": 2, "total_critical_issue": 2, "total_warning_issue": 0}},
]


def expect_changes(harness, age=600, monitored=None, deleted=("gone1",)):
    harness.expect("POST", STATUS_CHANGES, json_body={"age": age, "verbose": 1, "page": 1, "limit": 50},
                   body={"monitored_devices": list(CHANGES if monitored is None else monitored),
                         "deleted_devices": list(deleted)})


def test_changed_within_with_fields_of_the_change_records_reads_no_details(module_harness):
    expect_changes(module_harness)
    result = module_harness.run(main, changed_within=600, fields=["status", "group_name"])
    assert result.exit_code == 0
    assert result["devices"] == [{"device_id": "d2", "status": "non_compliant", "group_name": "Default"},
                                 {"device_id": "d3", "status": "compliant", "group_name": "Servers"}]
    assert result["deleted_device_ids"] == ["gone1"]
    assert result["count"] == 2
    assert result["api_requests"]["requests"] == 1


def test_changed_within_reads_details_in_the_listing_shape(module_harness):
    expect_changes(module_harness)
    module_harness.expect("POST", DETAILS, json_body={"ids": ["d2", "d3"], "opt": 0}, body=DETAILED)
    result = module_harness.run(main, changed_within=600)
    assert result.exit_code == 0
    assert [device["device_id"] for device in result["devices"]] == ["D2", "d3"]  # the order of the changes
    assert result["devices"][1] == {"device_id": "d3", "status": "compliant", "device_type": "server",
                                    "group_name": "Servers", "nickname": "srv",
                                    "issue": {"total_issue": 0, "total_critical": 0, "total_warning": 0}}
    assert result["deleted_device_ids"] == ["gone1"]
    assert result["api_requests"]["requests"] == 2


def test_changed_within_leaves_out_a_device_details_no_longer_knows(module_harness):
    expect_changes(module_harness)
    module_harness.expect("POST", DETAILS, body=DETAILED[:1])
    result = module_harness.run(main, changed_within=600, fields=["device_type"])
    assert result["devices"] == [{"device_id": "d3", "device_type": "server"}]


def test_changed_within_applies_the_filters_to_the_fresh_records(module_harness):
    expect_changes(module_harness)
    result = module_harness.run(main, changed_within=600, severity=["critical"], group_name=["Default", "Nope"],
                                fields=["status"])
    assert result["devices"] == [{"device_id": "d2", "status": "non_compliant"}]
    assert result["api_requests"]["requests"] == 1  # no group look-up, no details


def test_a_status_filter_needs_the_details(module_harness):
    # The change record says non-compliant for a device a listing calls quarantined: the filter reads the details.
    expect_changes(module_harness)
    module_harness.expect("POST", DETAILS, body=[dict(DETAILED[1], status="quarantined"), DETAILED[0]])
    result = module_harness.run(main, changed_within=600, status=["non_compliant", "quarantined"], fields=["status"])
    assert result["devices"] == [{"device_id": "D2", "status": "quarantined"}]
    assert result["api_requests"]["requests"] == 2


def test_a_device_type_filter_needs_the_details(module_harness):
    expect_changes(module_harness)
    module_harness.expect("POST", DETAILS, body=DETAILED)
    result = module_harness.run(main, changed_within=600, device_type=["server"], fields=["status"])
    assert result["devices"] == [{"device_id": "d3", "status": "compliant"}]


def test_no_change_sends_no_details_request(module_harness):
    expect_changes(module_harness, age=86400, monitored=[], deleted=[])
    result = module_harness.run(main, changed_within=86400)
    assert (result["devices"], result["deleted_device_ids"], result["count"]) == ([], [], 0)
    assert result["api_requests"]["requests"] == 1


def test_a_listing_returns_no_deleted_device_ids(module_harness):
    expect_fleet(module_harness)
    assert "deleted_device_ids" not in module_harness.run(main)


@pytest.mark.parametrize("params, words", [
    (dict(changed_within=0), "from 1 to 86400"),
    (dict(changed_within=86401), "from 1 to 86400"),
    (dict(changed_within=-5), "from 1 to 86400"),
    (dict(changed_within=True), "not a boolean"),
    (dict(changed_within="ten"), "changed_within"),
    (dict(changed_within=60, device_ids=["d1"]), "cannot be combined with device_ids"),
    (dict(changed_within=60, macs=["aa:bb:cc:dd:ee:ff"]), "cannot be combined with macs"),
    (dict(changed_within=60, max_devices=5), "cannot be combined with max_devices"),
])
def test_changed_within_bad_input_fails_before_any_request(module_harness, params, words):
    result = module_harness.run(main, **params)
    assert result.exit_code == 1
    assert result["msg"].startswith("changed_within") or "changed_within" in result["msg"]
    assert words in result["msg"]
    assert module_harness.transport.calls == []


def test_a_change_page_failing_mid_way_fails_the_task(module_harness):
    full_page = [dict(CHANGES[0], device_id="d%d" % number) for number in range(50)]
    module_harness.expect("POST", STATUS_CHANGES, body=full_page)
    for _attempt in range(4):
        module_harness.expect("POST", STATUS_CHANGES, status=502)
    result = module_harness.run(main, changed_within=600, fields=["status"])
    assert result.exit_code == 1
    assert "HTTP 502" in result["msg"] and "after 3 retries" in result["msg"]
    assert "devices" not in result and "deleted_device_ids" not in result
    assert result["api_requests"]["requests"] == 5
    assert result.leaked() == []


def test_a_change_record_with_an_unknown_status_fails_the_task_naming_it(module_harness):
    expect_changes(module_harness, monitored=[CHANGES[0], dict(CHANGES[1], status="melting")])
    result = module_harness.run(main, changed_within=600, fields=["status"])
    assert result.exit_code == 1
    assert "monitored_devices[1].status is 'melting'" in result["msg"]
