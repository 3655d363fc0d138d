# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Groups v3.0: paging, 406 and 413 (or the empty-list knob), search, sort and live device counts."""

import collections

import pytest

from sim_helpers import check


def test_default_page(api):
    answer = check("groups.response.json", api.groups())
    names = [group["group_name"] for group in answer]
    assert names == sorted(names, key=str.casefold)
    default = next(group for group in answer if group["group_id"] == "default")
    assert default["group_name"] == "Default"


def test_paging_and_413(api):
    total = len(api.sim.fleet.groups)
    seen = []
    page = 1
    while True:
        response = api.groups({"page": page, "limit": 3})
        if response.status_code == 413:
            check("error.response.json", response, 413)
            break
        seen.extend(group["group_id"] for group in check("groups.response.json", response))
        page += 1
    assert len(seen) == len(set(seen)) == total
    assert page == -(-total // 3) + 1


def test_past_end_empty_knob(make_api):
    api = make_api(groups_past_end="empty")
    assert check("groups.response.json", api.groups({"page": 99, "limit": 50})) == []


def test_limit_above_50_is_406(api):
    check("error.response.json", api.groups({"limit": 51}), 406)


@pytest.mark.parametrize("body, field", [
    ({"limit": 0}, "limit"), ({"page": 0}, "page"), ({"sort": {"field": "color"}}, "sort.field"),
    ({"sort": {"order": "up"}}, "sort.order"), ({"search": 3}, "search"),
])
def test_invalid_bodies(api, body, field):
    answer = check("error.response.json", api.groups(body), 400)
    assert field in answer["error"]


def test_search_by_group_or_policy_name(api):
    assert [group["group_name"] for group in api.groups({"search": "sales"}).json()] == ["Sales Laptops"]
    by_policy = {group["group_name"] for group in api.groups({"search": "DEFAULT POLICY", "limit": 50}).json()}
    assert by_policy == {"Default", "Kiosks"}
    assert api.groups({"search": "no such group"}).status_code == 413


def test_sort(api):
    answer = api.groups({"limit": 50, "sort": {"field": "number_of_devices", "order": "desc"}}).json()
    counts = [group["number_of_devices"] for group in answer]
    assert counts == sorted(counts, reverse=True)
    answer = api.groups({"limit": 50, "sort": {"field": "last_update", "order": "asc"}}).json()
    stamps = [group["last_modified"] for group in answer]
    assert stamps == sorted(stamps)


def test_counts_follow_the_fleet(api):
    def counts():
        return {group["group_name"]: group["number_of_devices"] for group in api.groups({"limit": 50}).json()}

    expected = collections.Counter(device["group_name"] for device in api.sim.fleet.devices)
    assert counts() == {group["group_name"]: expected.get(group["group_name"], 0) for group in api.sim.fleet.groups}
    before = counts()
    kiosks = next(group for group in api.sim.fleet.groups if group["group_name"] == "Kiosks")
    device = next(device for device in api.sim.fleet.devices
                  if device["group_name"] == "Finance" and device["_sim"]["agent"] != "domain_controller")
    result = api.action("assign_to_group", ids=[device["device_id"]], params={"group_id": kiosks["group_id"]}).json()
    assert result[0]["status"] == 1
    after = counts()
    assert after["Kiosks"] == before["Kiosks"] + 1 and after["Finance"] == before["Finance"] - 1
