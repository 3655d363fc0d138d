# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Device Details v3.2-v3.8: lookups by id and MAC, unknown ids, 404, the two answer shapes and issue keys."""

import pytest

from sim_helpers import check


def _known(api, count):
    return [device["device_id"] for device in api.sim.fleet.devices[:count]]


def test_detail_by_ids_keeps_request_order(api):
    ids = _known(api, 5)[::-1]
    answer = check("detail.response.json", api.detail(ids))
    assert [device["device_id"] for device in answer] == ids
    assert set(answer[0]["issue"]) == {"total_issue", "total_critical_issue", "total_warning_issue"}
    assert "host_name" in answer[0] and "public_ip" in answer[0]


def test_detail_by_mac_in_any_notation(api):
    device = api.sim.fleet.devices[1]
    mac = device["network_info"][0]["mac"]
    for notation in (mac, mac.upper(), mac.replace(":", "-"), mac.replace(":", "")):
        answer = check("detail.response.json", api.detail([notation]))
        assert [item["device_id"] for item in answer] == [device["device_id"]]


def test_unknown_ids_are_omitted(api):
    ids = _known(api, 2)
    answer = check("detail.response.json", api.detail([ids[0], "f" * 32, "not-a-device", ids[1], ids[0]]))
    assert [device["device_id"] for device in answer] == ids


def test_no_known_id_is_404(api):
    answer = check("error.response.json", api.detail(["f" * 32, "00:00:00:00:00:00"]), 404)
    assert answer == {"error": "Device not found"}
    # opt 1 looks up third-party ids, of which the simulated account has none.
    check("error.response.json", api.detail(_known(api, 1), opt=1), 404)


@pytest.mark.parametrize("body, field", [
    ({"ids": []}, "ids"), ({"ids": ["a"] * 51}, "ids"), ({}, "ids"), ({"ids": "abc"}, "ids"), ({"ids": ["a"], "opt": 2}, "opt"),
    ({"ids": ["a"], "verbose": {"categories": 2}}, "verbose.categories"),
])
def test_invalid_bodies(api, body, field):
    answer = check("error.response.json", api.post("/o/api/v3.8/devices/detail", body), 400)
    assert field in answer["error"]


def test_verbose_is_accepted(api):
    check("detail.response.json", api.detail(_known(api, 1), verbose={"system_info": 1, "categories": 1, "detected_patches": 0}))


@pytest.mark.parametrize("version", ["3.2", "3.3", "3.4", "3.5", "3.6", "3.7", "3.8"])
def test_fields_by_version(api, version):
    device = check("detail.response.json", api.detail(_known(api, 1), version=version))[0]
    assert ("enrolled_at" in device) == (version != "3.2")
    assert ("host_name" in device) == (version == "3.8")


def test_object_shape(make_api):
    api = make_api(detail_shape="object")
    answer = check("detail.object.response.json", api.detail(_known(api, 3)))
    assert len(answer["devices"]) == 3


@pytest.mark.parametrize("keys, expected", [
    ("list", {"total_issue", "total_critical", "total_warning"}),
    ("both", {"total_issue", "total_critical", "total_warning", "total_critical_issue", "total_warning_issue"}),
])
def test_issue_key_spellings(make_api, keys, expected):
    api = make_api(detail_issue_keys=keys)
    device = check("detail.response.json", api.detail(_known(api, 1)))[0]
    assert set(device["issue"]) == expected


def test_detail_matches_list(api):
    listed = api.devices({"limit": 5}, version="3.7").json()["devices"]
    detailed = api.detail([device["device_id"] for device in listed], version="3.8").json()
    for one, other in zip(listed, detailed):
        assert one["status"] == other["status"] and one["device_name"] == other["device_name"]
        assert one["issue"]["total_critical"] == other["issue"]["total_critical_issue"]


def test_ids_match_in_any_case_unless_case_sensitive(make_api):
    insensitive = make_api()
    device_id = insensitive.sim.fleet.devices[0]["device_id"]
    answer = check("detail.response.json", insensitive.detail([device_id.upper()]))
    assert [device["device_id"] for device in answer] == [device_id]

    sensitive = make_api(case_sensitive_ids=True)
    device_id = sensitive.sim.fleet.devices[0]["device_id"]
    assert device_id != device_id.upper()
    check("error.response.json", sensitive.detail([device_id.upper()]), 404)
    assert [device["device_id"] for device in check("detail.response.json", sensitive.detail([device_id]))] == [device_id]
