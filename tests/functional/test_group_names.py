# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Group names: opswat_group_info's group_name alias, and opswat_device_info's check of the group_name filter."""

from __future__ import absolute_import, division, print_function

from conftest import requests_by_endpoint


def test_group_info_accepts_group_name_as_the_other_modules_spell_it(simulator, run_module):
    by_alias = run_module("group_info", group_name="Quarantine")
    assert not by_alias.failed, by_alias.msg
    assert [group["group_name"] for group in by_alias["groups"]] == ["Quarantine"]
    assert run_module("group_info", group_name="quarantine")["groups"] == []


def test_device_info_warns_about_a_group_that_does_not_exist_and_skips_the_listing(simulator, run_module):
    result = run_module("device_info", group_name=["Quarantaine"])
    assert not result.failed, result.msg
    assert result["devices"] == [] and result["count"] == 0
    assert [warning for warning in result.warnings if "'Quarantaine'" in warning and "no group" in warning], \
        result.warnings
    # One look-up of the groups instead of the whole fleet's pages.
    assert requests_by_endpoint(simulator, "devices") == []
    assert len(requests_by_endpoint(simulator, "groups")) == 1


def test_device_info_lists_the_groups_that_exist_and_warns_about_the_others(simulator, run_module):
    in_servers = [device["device_id"] for device in simulator.fleet.devices if device["group_name"] == "Servers"]
    assert in_servers, "the test fleet should have devices in Servers"
    result = run_module("device_info", group_name=["Servers", "Severs"])
    assert [device["device_id"] for device in result["devices"]] == in_servers
    assert len([warning for warning in result.warnings if "'Severs'" in warning]) == 1
    assert not [warning for warning in result.warnings if "'Servers'" in warning]
    assert len(requests_by_endpoint(simulator, "groups")) == 1


def test_device_info_by_id_does_not_look_the_groups_up(simulator, run_module):
    device = simulator.fleet.devices[0]
    result = run_module("device_info", device_ids=[device["device_id"]], group_name=["Nowhere"])
    assert result["devices"] == [] and result.warnings == []
    assert requests_by_endpoint(simulator, "groups") == []
