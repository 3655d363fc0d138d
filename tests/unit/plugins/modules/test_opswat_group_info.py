# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_group_info through main(), on the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_group_info import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import GROUPS

GROUP_LIST = [
    {"group_id": "default", "group_name": "Default", "number_of_devices": 3},
    {"group_id": "g2", "group_name": "Quarantine", "number_of_devices": 1},
]


def expect_groups(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=GROUP_LIST)


def test_lists_every_group_in_one_request(module_harness):
    expect_groups(module_harness)
    result = module_harness.run(main)
    assert result.exit_code == 0
    assert result["changed"] is False
    assert result["groups"] == GROUP_LIST
    assert result["api_requests"] == dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)
    assert result.leaked() == []


@pytest.mark.parametrize("option", ["name", "group_name"])
def test_name_and_its_alias_keep_the_exact_match(module_harness, option):
    expect_groups(module_harness)
    assert module_harness.run(main, **{option: "Quarantine"})["groups"] == GROUP_LIST[1:]


def test_names_match_case_sensitively_and_no_match_is_empty(module_harness):
    expect_groups(module_harness)
    result = module_harness.run(main, name="quarantine")
    assert result.exit_code == 0
    assert result["groups"] == []


def test_check_mode_lists_the_same_groups(module_harness):
    expect_groups(module_harness)
    result = module_harness.run(main, check_mode=True, name="Default")
    assert result["changed"] is False
    assert result["groups"] == GROUP_LIST[:1]


def test_a_server_error_fails_after_the_retries_with_the_requests_counted(module_harness):
    for _attempt in range(4):
        module_harness.expect("POST", GROUPS, status=503)
    result = module_harness.run(main)
    assert result.exit_code == 1
    assert "503" in result["msg"]
    assert result["api_requests"]["requests"] == 4
    assert result["api_requests"]["retries"] == 3
    assert result.leaked() == []
