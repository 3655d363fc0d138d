# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_threat_info through main(), on the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_threat_info import main

THREATS = "/o/api/v3/get_threats"
DEVICE = "0123456789abcdef0123456789abcdef"
VERBOSE = {"antimalware_scan": 1, "local_antimalware_threats": 0}
FOUND = [{"file": "C:\\x.exe", "hash": "ab" * 32, "critical": True, "scan_time": "2025-06-01T00:00:00Z"}]


def test_threats_of_a_device(module_harness):
    module_harness.expect("POST", THREATS, json_body={"id": DEVICE, "verbose": VERBOSE, "page": 1, "limit": 50},
                          body={"antimalware_scan": FOUND})
    result = module_harness.run(main, device_id=DEVICE)
    assert result.exit_code == 0
    assert result["changed"] is False and result["found"] is True
    assert result["threats"] == FOUND and result["count"] == 1
    assert result["api_requests"]["requests"] == 1
    assert result.leaked() == []


def test_by_mac_in_check_mode(module_harness):
    module_harness.expect("POST", THREATS, json_body={"id": "aa:bb:cc:dd:ee:ff", "verbose": VERBOSE, "page": 1,
                                                      "limit": 50}, body={"antimalware_scan": []})
    result = module_harness.run(main, check_mode=True, mac="aabb.ccdd.eeff")
    assert result["changed"] is False and result["threats"] == [] and result["found"] is True


def test_an_unknown_device_is_not_found(module_harness):
    module_harness.expect("POST", THREATS, status=404, body={"error": "Device not found"})
    result = module_harness.run(main, device_id=DEVICE)
    assert result.exit_code == 0 and result["found"] is False and result["threats"] == []


@pytest.mark.parametrize("params, option, words", [
    (dict(), "device_id", "one of the following is required"),
    (dict(device_id=DEVICE, mac="aa:bb:cc:dd:ee:ff"), "device_id", "mutually exclusive"),
    (dict(mac="zz"), "mac", "is not a MAC address"),
    (dict(device_id=""), "device_id", "non-empty"),
    (dict(device_id=DEVICE, max_entries=0), "max_entries", "1 or more"),
])
def test_bad_input_fails_before_any_request(module_harness, params, option, words):
    result = module_harness.run(main, **params)
    assert result.exit_code == 1
    assert option in result["msg"] and words in result["msg"]
    assert module_harness.transport.calls == []


def test_a_server_error_fails_after_the_retries(module_harness):
    for _attempt in range(4):
        module_harness.expect("POST", THREATS, status=503)
    result = module_harness.run(main, device_id=DEVICE)
    assert result.exit_code == 1
    assert "HTTP 503" in result["msg"] and "threats" not in result
    assert result["api_requests"]["requests"] == 4 and result["api_requests"]["retries"] == 3
