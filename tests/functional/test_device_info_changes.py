# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_device_info changed_within against the simulator's Status Change: never a listing, the exact number of
change pages and Device Details requests, a listing's record shape, the answer's shapes and a page failing."""

from __future__ import absolute_import, division, print_function

import math

import pytest

from conftest import requests_by_endpoint


def ids_of(devices):
    return [device["device_id"] for device in devices]


def fleet_by_id(sim):
    return dict((device["device_id"], device) for device in sim.fleet.devices)


@pytest.fixture
def changed(simulator):
    """100 devices of the 1,200 changed status and 5 deleted, a minute ago; the request log starts empty."""
    picked = simulator.random_changes(100, seed=7, deletions=5, seconds_ago=60)
    simulator.clear_log()
    return picked


def test_fields_of_the_change_records_cost_the_change_pages_only(simulator, run_module, changed):
    result = run_module("device_info", changed_within=600, fields=["status", "group_name", "device_name"])

    assert sorted(ids_of(result["devices"])) == sorted(changed["changed"])
    assert sorted(result["deleted_device_ids"]) == sorted(changed["deleted"])
    fleet = fleet_by_id(simulator)
    for device in result["devices"]:
        expected = fleet[device["device_id"]]
        assert device == dict((name, expected[name]) for name in ("device_id", "status", "group_name", "device_name"))
    assert requests_by_endpoint(simulator, "devices") == []
    assert requests_by_endpoint(simulator, "detail") == []
    pages = requests_by_endpoint(simulator, "status_changed")
    # 50 changes and 5 deletions, 50 changes, then 413: two full pages and one that ends the paging.
    assert [(entry["body"]["page"], entry["body"]["limit"], entry["status"]) for entry in pages] == [
        (1, 50, 200), (2, 50, 200), (3, 50, 413)]
    assert all(entry["body"]["age"] == 600 for entry in pages)
    assert [entry for entry in simulator.request_log() if entry["status"] == 429] == []


def test_the_devices_have_a_listing_record_shape(simulator, run_module, changed):
    result = run_module("device_info", changed_within=600)
    listing = dict((device["device_id"], device) for device in run_module("device_info")["devices"])

    assert sorted(ids_of(result["devices"])) == sorted(changed["changed"])
    for device in result["devices"]:
        listed = listing[device["device_id"]]
        # Device Details also says agent_type, which a listing does not; every listed field is the same.
        assert dict((name, value) for name, value in device.items() if name != "agent_type") == listed
    details = requests_by_endpoint(simulator, "detail")
    assert len(details) == math.ceil(100 / 50.0)
    assert sum(entry["ids_count"] for entry in details) == 100
    assert len(requests_by_endpoint(simulator, "status_changed")) == 3


def test_the_filters_apply_to_the_fresh_records(simulator, run_module, changed):
    result = run_module("device_info", changed_within=600, status=["non_compliant"], device_type=["laptop", "desktop"],
                        fields=["status", "device_type"])
    fleet = fleet_by_id(simulator)
    expected = [device_id for device_id in changed["changed"]
                if fleet[device_id]["status"] == "non_compliant" and fleet[device_id]["device_type"] in ("laptop", "desktop")]
    assert expected and sorted(ids_of(result["devices"])) == sorted(expected)
    assert requests_by_endpoint(simulator, "groups") == []
    assert requests_by_endpoint(simulator, "devices") == []


def test_only_the_changes_within_the_window(simulator, run_module):
    devices = simulator.fleet.devices
    old = simulator.change_status(devices[0]["device_id"], "exempted", seconds_ago=7200)
    recent = simulator.change_status(devices[1]["device_id"], "non_compliant" if devices[1]["status"] == "compliant"
                                     else "compliant", seconds_ago=30)
    gone = simulator.delete_device(devices[2]["device_id"], seconds_ago=30)
    result = run_module("device_info", changed_within=3600, fields=["status"])
    assert ids_of(result["devices"]) == [recent]
    assert old not in ids_of(result["devices"])
    assert result["deleted_device_ids"] == [gone]
    assert len(requests_by_endpoint(simulator, "status_changed")) == 1  # a short page ends the paging


def test_no_change_costs_one_request(simulator, run_module):
    result = run_module("device_info", changed_within=86400)
    assert (result["devices"], result["deleted_device_ids"], result["count"]) == ([], [], 0)
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "status_changed"]


@pytest.mark.parametrize("settings", [
    dict(shape="list"),
    dict(shape="no_deleted"),
    dict(shape="no_monitored"),
    dict(deleted_format="ids"),
    dict(deleted_format="ids", deleted_paging="spread"),
])
def test_every_shape_of_the_answer(simulator, run_module, changed, settings):
    simulator.set_status_changed(**settings)
    result = run_module("device_info", changed_within=600, fields=["status"])
    shape = settings.get("shape")
    assert sorted(ids_of(result["devices"])) == ([] if shape == "no_monitored" else sorted(changed["changed"]))
    assert sorted(result["deleted_device_ids"]) == ([] if shape in ("list", "no_deleted") else sorted(changed["deleted"]))
    assert all(device["status"] in ("compliant", "non_compliant") for device in result["devices"])
    assert len(requests_by_endpoint(simulator, "status_changed")) <= 3


def test_a_change_page_failing_mid_way_fails_the_task(simulator, run_module, changed):
    simulator.add_fault("status", count=4, code=503, endpoint="status_changed", after=1)
    result = run_module("device_info", changed_within=600, fields=["status"])
    assert result.failed
    assert "HTTP 503" in result.msg and "/o/api/v3/devices/status_changed" in result.msg
    assert "devices" not in result.result and "deleted_device_ids" not in result.result
    pages = requests_by_endpoint(simulator, "status_changed")
    assert [(entry["body"]["page"], entry["status"]) for entry in pages] == [(1, 200)] + [(2, 503)] * 4
    assert requests_by_endpoint(simulator, "detail") == []


@pytest.mark.parametrize("options", [
    dict(changed_within=0), dict(changed_within=86401), dict(changed_within=True),
    dict(changed_within=60, device_ids=["d1"]), dict(changed_within=60, max_devices=10),
])
def test_bad_input_fails_before_any_request(simulator, run_module, options):
    result = run_module("device_info", **options)
    assert result.failed and "changed_within" in result.msg
    assert simulator.request_log() == []
