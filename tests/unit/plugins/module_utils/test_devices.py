# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MAC normalisation and device filters."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import devices
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError


@pytest.mark.parametrize("spelling", [
    "aa:bb:cc:dd:ee:0f", "AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f", "AA-BB-CC-DD-EE-0F",
    "aabb.ccdd.ee0f", "AABB.CCDD.EE0F", "aabbccddee0f", " aa:bb:cc:dd:ee:0f ",
])
def test_usual_mac_spellings_normalise(spelling):
    assert devices.normalize_mac(spelling) == "aa:bb:cc:dd:ee:0f"


@pytest.mark.parametrize("bad", [
    "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:gg", "aa:bb-cc:dd:ee:ff", "aabb.ccdd", "", "aa:bb:cc:dd:ee:ff:00", 12,
])
def test_invalid_macs_are_rejected_naming_the_option(bad):
    with pytest.raises(InputError) as error:
        devices.normalize_mac(bad, option="macs")
    assert error.value.option == "macs"


def test_normalize_macs_removes_duplicates_keeping_order():
    assert devices.normalize_macs(["AA-BB-CC-DD-EE-02", "aa:bb:cc:dd:ee:01", "aabb.ccdd.ee02"]) == [
        "aa:bb:cc:dd:ee:02", "aa:bb:cc:dd:ee:01"]


DEVICE = {
    "device_id": "1", "status": "non_compliant", "severity": "critical", "device_type": "laptop",
    "group_name": "Finance", "os_info": {"type": "windows"},
    "network_info": [{"mac": "AA:BB:CC:DD:EE:01"}, {"mac": "N/A"}, {}],
}


@pytest.mark.parametrize("filters, expected", [
    ({}, True),
    ({"status": ["non_compliant"]}, True),
    ({"status": ["compliant", "non_compliant"]}, True),  # OR within a filter
    ({"status": ["non_compliant"], "severity": ["warning"]}, False),  # AND across filters
    ({"os_type": ["windows"], "device_type": ["laptop"]}, True),
    ({"group_name": ["finance"]}, False),  # exact, case-sensitive
])
def test_filters(filters, expected):
    assert devices.matches(DEVICE, devices.validate_filters(filters)) is expected


def test_os_info_as_a_list_is_understood():
    device = dict(DEVICE, os_info=[{"type": "linux"}, {"type": "windows"}])
    assert devices.matches(device, devices.validate_filters({"os_type": ["linux"]}))


def test_unknown_filter_values_are_rejected_with_the_choices():
    with pytest.raises(InputError) as error:
        devices.validate_filters({"status": ["non-compliant"]})
    assert error.value.option == "status" and "non_compliant" in error.value.message


def test_device_macs_skips_unusable_entries():
    assert devices.device_macs(DEVICE) == ["aa:bb:cc:dd:ee:01"]
