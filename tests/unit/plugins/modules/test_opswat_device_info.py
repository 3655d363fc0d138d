# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_info through main(), on the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_device_info import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import DETAILS, DEVICES

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
