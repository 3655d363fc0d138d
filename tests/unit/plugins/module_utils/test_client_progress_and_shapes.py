# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Listings that stop making progress, the page ceiling (max_listing_pages), and API fields of the wrong type."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCOUNT, ACTION, DETAILS, DEVICES, GROUPS, LICENSE_KEY, Harness)


def devices(first, count):
    return [{"device_id": "d%d" % number} for number in range(first, first + count)]


def groups(first, count):
    return [{"group_id": "g%d" % number, "group_name": "G%d" % number} for number in range(first, first + count)]


def ids_of(items):
    return [item["device_id"] for item in items]


# ---------------------------------------------------------------------- progress: Get Devices


def test_fresh_cursors_over_the_same_devices_stop_at_the_second_page(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 3), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"},
                   body={"devices": devices(1, 3), "next_token": "c2"})
    client = harness.client()
    with pytest.raises(UnexpectedResponseError) as caught:
        list(client.iter_devices())
    assert str(caught.value) == ("POST %s: unexpected answer: page 2 holds no device that an earlier page did not:"
                                 " the listing would loop" % DEVICES)
    assert client.metrics["requests"] == 2


def test_a_page_of_devices_listed_pages_before_is_no_progress(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": devices(3, 2), "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": devices(1, 1) + devices(4, 1), "next_token": "c3"})
    with pytest.raises(UnexpectedResponseError, match="page 3 holds no device"):
        list(harness.client().iter_devices())


def test_devices_without_an_id_are_told_apart_by_their_record(harness):
    page = [{"device_name": "a"}, {"device_name": "b"}]
    harness.expect("POST", DEVICES, body={"devices": page, "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": [{"device_name": "c"}], "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": list(page), "next_token": "c3"})
    listing = harness.client().iter_devices()
    assert [next(listing)["device_name"] for _step in range(3)] == ["a", "b", "c"]
    with pytest.raises(UnexpectedResponseError, match="page 3 holds no device"):
        next(listing)


def test_a_device_listed_again_is_left_out_and_the_listing_goes_on(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": devices(2, 2) + devices(3, 1), "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": devices(4, 1)})
    assert ids_of(harness.client().iter_devices()) == ["d1", "d2", "d3", "d4"]


def test_max_devices_counts_each_device_once(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 3}, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 1, "token": "c1"},
                   body={"devices": devices(2, 1) + devices(3, 1), "next_token": "c2"})
    assert ids_of(harness.client().iter_devices(max_devices=3)) == ["d1", "d2", "d3"]


# ---------------------------------------------------------------------- progress: Get Groups


def test_groups_alternating_two_pages_stop_at_the_third(harness):
    page_a, page_b = groups(1, 50), groups(51, 50)
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=page_a)
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body=page_b)
    harness.expect("POST", GROUPS, json_body={"page": 3, "limit": 50}, body=page_a)
    client = harness.client()
    with pytest.raises(UnexpectedResponseError) as caught:
        client.list_groups()
    assert str(caught.value) == "POST %s: unexpected answer: page 3 repeats page 1: the listing would loop" % GROUPS
    assert client.metrics["requests"] == 3


def test_groups_pages_that_differ_go_on(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=groups(2, 50))  # overlaps page 1 but is not page 1
    harness.expect("POST", GROUPS, body=groups(200, 1))
    assert len(harness.client().list_groups()) == 101


# ---------------------------------------------------------------------- the page ceiling


def test_a_device_listing_never_asks_more_than_max_listing_pages(harness):
    for page in range(1, 4):
        harness.expect("POST", DEVICES, body={"devices": devices(page * 10, 2), "next_token": "c%d" % page})
    client = harness.client(max_listing_pages=3)
    with pytest.raises(UnexpectedResponseError) as caught:
        list(client.iter_devices())
    assert str(caught.value) == (
        "POST %s: the listing reached max_listing_pages (3 pages, 6 devices) and the API has not signalled its end;"
        " raise max_listing_pages if the account really has more devices" % DEVICES)
    assert client.metrics["requests"] == 3


def test_a_listing_that_ends_on_the_last_allowed_page_succeeds(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": devices(3, 2)})
    assert ids_of(harness.client(max_listing_pages=2).iter_devices()) == ["d1", "d2", "d3", "d4"]


def test_a_group_listing_never_asks_more_than_max_listing_pages(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body=groups(51, 50))
    with pytest.raises(UnexpectedResponseError, match=r"max_listing_pages \(2 pages, 100 groups\)"):
        harness.client(max_listing_pages=2).list_groups()


def test_the_default_ceiling_is_beyond_a_large_account():
    harness = Harness()
    # 100,000 devices at 50 a page: 2,000 pages.
    assert harness.client()._config.max_listing_pages >= 2 * 100000 // 50


# ---------------------------------------------------------------------- fields of the wrong type

WRONG_DEVICE_FIELDS = [
    (dict(status=["compliant"]), "status is a JSON array"),
    (dict(device_id=["d2"]), "device_id is a JSON array"),
    (dict(severity={"level": "critical"}), "severity is a JSON object"),
    (dict(device_type=["laptop"]), "device_type is a JSON array"),
    (dict(group_name={"name": "Default"}), "group_name is a JSON object"),
    (dict(agent_type=["persistent"]), "agent_type is a JSON array"),
    (dict(agent_version=[7, 6]), "agent_version is a JSON array"),
    (dict(os_info={"type": {"name": "windows"}}), "os_info.type is a JSON object"),
    (dict(os_info=[{"type": "windows"}, {"type": ["mac"]}]), "os_info[1].type is a JSON array"),
    (dict(network_info=[{"mac": ["aa:bb:cc:dd:ee:ff"]}]), "network_info[0].mac is a JSON array"),
]


@pytest.mark.parametrize("fields, what", WRONG_DEVICE_FIELDS)
def test_a_listed_device_field_of_the_wrong_type_is_an_unexpected_answer(harness, fields, what):
    harness.expect("POST", DEVICES, body={"devices": [{"device_id": "d1"}, dict({"device_id": "d2"}, **fields)]})
    with pytest.raises(UnexpectedResponseError) as caught:
        list(harness.client().iter_devices())
    assert str(caught.value).startswith("POST %s: unexpected answer: devices[1].%s, expected a string" % (DEVICES, what))


@pytest.mark.parametrize("fields, what", WRONG_DEVICE_FIELDS)
def test_a_device_detail_field_of_the_wrong_type_is_an_unexpected_answer(harness, fields, what):
    harness.expect("POST", DETAILS, body=[dict({"device_id": "d1"}, **fields)])
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().get_device_details(["d1"])
    assert str(caught.value) == "POST %s: unexpected answer: devices[0].%s, expected a string" % (DETAILS, what)


def test_single_values_of_any_json_type_are_accepted(harness):
    device = dict(device_id=17, status=None, severity="critical", agent_version="7.6.1", os_info="windows",
                  network_info=[{"mac": None}, "not an adapter"], notes=[{"free": "form"}])
    harness.expect("POST", DETAILS, body={"devices": [device]})
    assert harness.client().get_device_details(["17"]) == [device]


@pytest.mark.parametrize("fields, what", [
    (dict(group_name=["Default"]), "group_name is a JSON array"),
    (dict(group_id={"id": "g1"}), "group_id is a JSON object"),
])
def test_a_group_field_of_the_wrong_type_is_an_unexpected_answer(harness, fields, what):
    harness.expect("POST", GROUPS, body={"groups": groups(1, 2) + [dict(groups(3, 1)[0], **fields)]})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().list_groups()
    assert str(caught.value) == "POST %s: unexpected answer: groups[2].%s, expected a string" % (GROUPS, what)


@pytest.mark.parametrize("item, what", [
    ({"id": ["d1"], "status": 1}, "results[0].id is a JSON array"),
    ({"id": "d1", "status": 1, "command_id": {"id": 4}}, "results[0].command_id is a JSON object"),
])
def test_an_action_result_field_of_the_wrong_type_is_an_unexpected_answer(harness, item, what):
    harness.expect("POST", ACTION, body=[item])
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().device_action("exempt", ids=["d1"])
    assert str(caught.value).startswith("POST %s: unexpected answer: %s, expected a string. The action may have been"
                                        " applied" % (ACTION, what))
    assert caught.value.failed_batch_ids == ["d1"]


@pytest.mark.parametrize("license_key", [[LICENSE_KEY], {"key": LICENSE_KEY}, 123456789])
def test_a_license_key_that_is_not_a_string_is_an_unexpected_answer_that_never_quotes_it(harness, license_key):
    harness.expect("POST", ACCOUNT, body={"license_key": license_key, "devices_used": 3})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().get_account()
    assert str(caught.value).startswith("POST %s: unexpected answer: license_key is a JSON " % ACCOUNT)
    assert "expected a string" in str(caught.value)
    failure = repr(caught.value.to_fail_json())
    assert LICENSE_KEY not in failure and "123456789" not in failure
