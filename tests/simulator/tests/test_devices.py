# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Devices v3.5-v3.7: cursor paging, the four end-signal knobs, validation, and cursors under deletion."""

import pytest

from sim_helpers import check


def _ids(devices):
    return [device["device_id"] for device in devices]


def test_pages_cover_the_fleet_in_enrolment_order(api):
    devices = api.all_devices(limit=7)
    assert _ids(devices) == _ids(api.sim.fleet.devices)
    enrolled = [device["enrolled_at"] for device in devices]
    assert enrolled == sorted(enrolled) and len(set(enrolled)) == len(enrolled)


def test_default_limit_and_page_shape(api):
    page = check("devices.response.json", api.devices({}))
    assert len(page["devices"]) == 20
    assert isinstance(page["next_token"], str) and page["next_token"]
    page = check("devices.response.json", api.devices({"token": None, "limit": 50}))
    assert len(page["devices"]) == 50


@pytest.mark.parametrize("version, extra", [("3.5", set()), ("3.6", {"host_name"}), ("3.7", {"host_name", "public_ip"})])
def test_fields_by_version(api, version, extra):
    device = check("devices.response.json", api.devices({"limit": 1}, version=version))["devices"][0]
    seed_fields = {"device_id", "severity", "enrolled_at", "status", "device_name", "nickname", "device_type", "last_seen",
                   "last_reboot", "agent_version", "remediation_link", "group_name", "geo_info", "network_info", "os_info",
                   "cves", "link_user", "user_info", "issue", "in_grace_period"}
    assert set(device) == seed_fields | extra
    assert set(device["issue"]) == {"total_issue", "total_critical", "total_warning"}


@pytest.mark.parametrize("body, field", [
    ({"limit": 0}, "limit"), ({"limit": 51}, "limit"), ({"limit": "5"}, "limit"),
    ({"token": "garbage"}, "token"), ({"token": ""}, "token"), ({"token": "0" * 24}, "token"), ({"filter": {}}, "filter"),
])
def test_invalid_bodies(api, body, field):
    answer = check("error.response.json", api.devices(body), 400)
    assert field in answer["error"]


def test_cursor_of_another_fleet_is_refused(api, make_api):
    other = make_api(seed=2)
    token = other.devices({"limit": 3}).json()["next_token"]
    check("error.response.json", api.devices({"token": token}), 400)


def test_wrong_verb_media_type_and_json(api):
    check("error.response.json", api.get("/o/api/v3.7/devices"), 405)
    response = api.post("/o/api/v3.7/devices", data="limit=5", headers={"Content-Type": "application/x-www-form-urlencoded"})
    check("error.response.json", response, 415)
    response = api.post("/o/api/v3.7/devices", data='{"limit": 5', headers={"Content-Type": "application/json"})
    check("error.response.json", response, 400)
    response = api.post("/o/api/v3.7/devices", data="[1, 2]", headers={"Content-Type": "application/json; charset=utf-8"})
    check("error.response.json", response, 400)


def _walk(api, limit):
    pages, token = [], None
    while True:
        body = {"limit": limit}
        if token is not None:
            body["token"] = token
        page = check("devices.response.json", api.devices(body))
        pages.append(page)
        if "next_token" not in page or not page["next_token"] or not page["devices"]:
            return pages
        token = page["next_token"]
        assert len(pages) < 100


def test_end_signal_missing(make_api):
    pages = _walk(make_api(devices=40, end_signal="missing"), 20)
    assert [len(page["devices"]) for page in pages] == [20, 20]
    assert "next_token" in pages[0] and "next_token" not in pages[-1]


def test_end_signal_null(make_api):
    pages = _walk(make_api(devices=45, end_signal="null"), 20)
    assert [len(page["devices"]) for page in pages] == [20, 20, 5]
    assert pages[-1]["next_token"] is None


def test_end_signal_empty_string(make_api):
    pages = _walk(make_api(devices=45, end_signal="empty_string"), 20)
    assert pages[-1]["next_token"] == ""
    assert sum(len(page["devices"]) for page in pages) == 45


def test_end_signal_empty_page(make_api):
    api = make_api(devices=40, end_signal="empty_page")
    pages = _walk(api, 20)
    assert [len(page["devices"]) for page in pages] == [20, 20, 0]
    assert all(page["next_token"] for page in pages)
    # The empty page hands back the cursor it was given: a client that keeps going would loop.
    assert pages[-1]["next_token"] == pages[-2]["next_token"]


def test_empty_fleet(make_api):
    page = check("devices.response.json", make_api(devices=0).devices({}))
    assert page == {"devices": []}


def test_short_page_is_not_the_end(make_api):
    # With end_signal=empty_page even a page shorter than the limit carries a next_token: only the empty
    # page that follows ends the listing.
    api = make_api(devices=45, end_signal="empty_page")
    pages = _walk(api, 20)
    assert [len(page["devices"]) for page in pages] == [20, 20, 5, 0]
    assert pages[2]["next_token"]


def test_cursor_survives_deletion(api):
    first = api.devices({"limit": 10}).json()
    fleet_ids = _ids(api.sim.fleet.devices)
    # Delete the last device of the page the cursor points after, and the two that would come next.
    doomed = [fleet_ids[9], fleet_ids[10], fleet_ids[11]]
    results = api.action("delete", ids=doomed).json()
    assert [result["status"] for result in results] == [1, 1, 1]
    second = check("devices.response.json", api.devices({"limit": 10, "token": first["next_token"]}))
    assert _ids(second["devices"]) == fleet_ids[12:22]
    rest = []
    token = second["next_token"]
    while token:
        page = api.devices({"limit": 50, "token": token}).json()
        rest.extend(page["devices"])
        token = page.get("next_token")
    seen = _ids(first["devices"]) + _ids(second["devices"]) + _ids(rest)
    assert len(seen) == len(set(seen)) == len(fleet_ids) - 2  # the first page still held fleet_ids[9]
    assert [device_id for device_id in fleet_ids if device_id not in doomed] == [i for i in seen if i not in doomed]
