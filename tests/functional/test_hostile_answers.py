# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Answers a real service should never send, over real HTTP: listings that never end, and fields of the wrong type.

The simulator's ``status`` fault with code 200 sends a scripted body in place of the real answer; faults queue up,
so a run of them scripts a listing page by page. Every module, and the inventory plugin, must fail with a clear
"unexpected answer" that names the request and the field, send no write, and never show a Python error.
"""

from __future__ import absolute_import, division, print_function

from conftest import (REQUESTS_PER_MINUTE, STATIC_TOKEN, WINDOW, ansible_runs, connection_vars, requests_by_endpoint,
                      secrets_of, write_entries)

DEVICES = "POST /o/api/v3.7/devices"
DETAILS = "POST /o/api/v3.8/devices/detail"
GROUPS = "POST /o/api/v3/groups"
ACCOUNT = "POST /o/api/v3.2/account"


def device(number, **fields):
    record = dict(device_id="hostile%04d" % number, device_name="host-%d" % number, status="compliant",
                  severity="no_issues", device_type="laptop", group_name="Default", agent_type="persistent",
                  agent_version="7.7.0.0", os_info={"type": "windows"}, network_info=[])
    record.update(fields)
    return record


def answer(sim, endpoint, body, count=1):
    sim.add_fault("status", count=count, endpoint=endpoint, code=200, body=body)


def assert_clear_failure(run, expected):
    assert run.failed, run.result
    assert expected in run.msg
    assert "unhashable" not in run.stdout and "Traceback" not in run.stdout


# ---------------------------------------------------------------------------------------------- listings


def test_a_device_listing_handing_out_fresh_cursors_over_the_same_devices_stops_at_once(simulator, run_module):
    page = [device(number) for number in range(1, 51)]
    for cursor in range(1, 9):
        answer(simulator, "devices", {"devices": page, "next_token": "fresh-cursor-%d" % cursor})
    result = run_module("device_info")

    assert_clear_failure(result, DEVICES + ": unexpected answer: page 2 holds no device that an earlier page did not:"
                                           " the listing would loop")
    assert len(requests_by_endpoint(simulator, "devices")) == 2
    assert len(simulator.pending_faults()) == 6


def test_a_device_listing_stops_at_max_listing_pages(simulator, run_module):
    result = run_module("device_info", max_listing_pages=3)  # the fleet's 1200 devices take 24 pages

    assert_clear_failure(result, DEVICES + ": the listing reached max_listing_pages (3 pages, 150 devices)")
    assert len(requests_by_endpoint(simulator, "devices")) == 3


def test_groups_whose_pages_alternate_stop_at_the_third_page(simulator, run_module):
    page_a = [dict(group_id="a%d" % number, group_name="A%d" % number) for number in range(50)]
    page_b = [dict(group_id="b%d" % number, group_name="B%d" % number) for number in range(50)]
    for body in (page_a, page_b) * 4:
        answer(simulator, "groups", body)
    result = run_module("group_info")

    assert_clear_failure(result, GROUPS + ": unexpected answer: page 3 repeats page 1: the listing would loop")
    assert len(requests_by_endpoint(simulator, "groups")) == 3


# ---------------------------------------------------------------------------------------------- fields


def test_device_info_listing_with_a_status_that_is_a_list(simulator, run_module):
    answer(simulator, "devices", {"devices": [device(1), device(2, status=["compliant"])]})
    result = run_module("device_info", status=["compliant"])

    assert_clear_failure(result, DEVICES + ": unexpected answer: devices[1].status is a JSON array, expected a string")


def test_device_info_lookup_with_a_device_id_that_is_a_list(simulator, run_module):
    answer(simulator, "detail", [device(1, device_id=["hostile0001"])])
    result = run_module("device_info", device_ids=["hostile0001"])

    assert_clear_failure(result, DETAILS + ": unexpected answer: devices[0].device_id is a JSON array,"
                                           " expected a string")


def test_device_action_reads_a_device_id_that_is_a_list_and_writes_nothing(simulator, run_module):
    answer(simulator, "detail", [device(1, device_id=["hostile0001"])])
    result = run_module("device_action", action="delete", device_ids=["hostile0001"])

    assert_clear_failure(result, DETAILS + ": unexpected answer: devices[0].device_id is a JSON array")
    assert write_entries(simulator) == []


def test_a_list_of_actions_reads_an_os_type_that_is_an_object_and_write_nothing(simulator, run_module):
    answer(simulator, "detail", {"devices": [device(1, os_info=[{"type": {"name": "windows"}}])]})
    result = run_module("device_action", actions=[dict(action="scan_threats", full_scan=True,
                                                       device_ids=["hostile0001"])])

    assert_clear_failure(result, DETAILS + ": unexpected answer: devices[0].os_info[0].type is a JSON object,"
                                           " expected a string")
    assert write_entries(simulator) == []


def test_group_info_with_a_group_name_that_is_a_list(simulator, run_module):
    answer(simulator, "groups", [dict(group_id="default", group_name="Default"),
                                 dict(group_id="g2", group_name=["Finance"])])
    # ``name`` is also run_module's own parameter: the option goes with the connection.
    result = run_module("group_info", connection=dict(connection_vars(simulator), name="Finance"))

    assert_clear_failure(result, GROUPS + ": unexpected answer: groups[1].group_name is a JSON array,"
                                          " expected a string")


def test_account_info_with_a_license_key_that_is_not_a_string_never_shows_it(simulator, run_module):
    answer(simulator, "account", {"devices_used": 3, "license_key": [simulator.license_key]})
    result = run_module("account_info")  # the fixture also searches the result for the license key

    assert_clear_failure(result, ACCOUNT + ": unexpected answer: license_key is a JSON array, expected a string")


# ---------------------------------------------------------------------------------------------- the inventory


def run_inventory(sim, tmp_path, **options):
    config = {"plugin": "opswat.it_access.devices", "api_url": sim.url, "access_token": STATIC_TOKEN,
              "requests_per_minute": REQUESTS_PER_MINUTE, "rate_limit_window": WINDOW, "timeout": 10}
    config.update(options)
    command_run, _data = ansible_runs.run_inventory(tmp_path, {"devices.opswat.yml": config}, secrets_of(sim),
                                                    env=dict(ANSIBLE_INVENTORY_ENABLED="opswat.it_access.devices",
                                                             ANSIBLE_INVENTORY_UNPARSED_FAILED="1"), verbosity=0)
    assert command_run.returncode == 1, command_run.output[-4000:]
    assert "unhashable" not in command_run.output and "Traceback" not in command_run.output
    return " ".join(command_run.output.split())


def test_the_inventory_fails_clearly_on_an_os_type_that_is_an_object(simulator, tmp_path):
    answer(simulator, "devices", {"devices": [device(1), device(2, os_info={"type": {"name": "mac"}})]})
    output = run_inventory(simulator, tmp_path, os_type=["windows"])

    assert DEVICES + ": unexpected answer: devices[1].os_info.type is a JSON object, expected a string" in output


def test_the_inventory_fails_clearly_on_a_listing_that_loops(simulator, tmp_path):
    page = [device(number) for number in range(1, 51)]
    for cursor in range(1, 6):
        answer(simulator, "devices", {"devices": page, "next_token": "fresh-cursor-%d" % cursor})
    output = run_inventory(simulator, tmp_path)

    assert DEVICES + ": unexpected answer: page 2 holds no device that an earlier page did not" in output
    assert len(requests_by_endpoint(simulator, "devices")) == 2
