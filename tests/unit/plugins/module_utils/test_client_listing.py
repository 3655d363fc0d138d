# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Paging, batching and answer shapes: devices, device details, groups and device actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, InputError, RateLimitError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.transport import TIMEOUT
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import ACTION, DETAILS, DEVICES, GROUPS


def devices(first, count):
    return [{"device_id": "d%d" % number} for number in range(first, first + count)]


def ids_of(items):
    return [item.get("device_id") or item.get("id") for item in items]


# ---------------------------------------------------------------------- Get Devices


@pytest.mark.parametrize("end_page", [
    {"devices": devices(3, 1)},  # next_token missing
    {"devices": devices(3, 1), "next_token": None},
    {"devices": devices(3, 1), "next_token": ""},
], ids=["missing", "null", "empty"])
def test_listing_ends_on_a_documented_end_signal(harness, end_page):
    harness.expect("POST", DEVICES, json_body={"limit": 50}, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"}, body=end_page)
    assert ids_of(harness.client().iter_devices()) == ["d1", "d2", "d3"]


def test_listing_ends_on_an_empty_page_even_with_a_cursor(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": [], "next_token": "c2"})
    assert ids_of(harness.client().iter_devices()) == ["d1", "d2"]


def test_a_short_page_is_not_the_end(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 10}, body={"devices": devices(1, 3), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 10, "token": "c1"},
                   body={"devices": devices(4, 2), "next_token": "c2"})
    harness.expect("POST", DEVICES, json_body={"limit": 10, "token": "c2"}, body={"devices": devices(6, 1)})
    assert ids_of(harness.client().iter_devices(page_size=10)) == ["d1", "d2", "d3", "d4", "d5", "d6"]


def test_a_repeated_cursor_is_an_error(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 1), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"},
                   body={"devices": devices(2, 1), "next_token": "c2"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c2"},
                   body={"devices": devices(3, 1), "next_token": "c1"})
    listing = harness.client().iter_devices()
    with pytest.raises(UnexpectedResponseError, match="a cursor it had already returned: the listing would loop"):
        list(listing)


def test_a_cursor_returned_twice_in_a_row_is_an_error(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 1), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": devices(2, 1), "next_token": "c1"})
    with pytest.raises(UnexpectedResponseError, match="already returned"):
        list(harness.client().iter_devices())


def test_max_devices_stops_requesting(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 50}, body={"devices": devices(1, 50), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 20, "token": "c1"},
                   body={"devices": devices(51, 20), "next_token": "c2"})
    client = harness.client()
    found = list(client.iter_devices(max_devices=70))
    assert len(found) == 70
    assert client.metrics["requests"] == 2


def test_max_devices_smaller_than_a_page(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 2}, body={"devices": devices(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 1, "token": "c1"},
                   body={"devices": devices(3, 1), "next_token": "c2"})
    assert ids_of(harness.client().iter_devices(page_size=2, max_devices=3)) == ["d1", "d2", "d3"]


def test_max_devices_when_the_api_sends_more_than_asked(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 5}, body={"devices": devices(1, 9), "next_token": "c1"})
    assert len(list(harness.client().iter_devices(max_devices=5))) == 5


def test_max_devices_zero_sends_nothing(harness):
    assert not list(harness.client().iter_devices(max_devices=0))


def test_listing_is_lazy(harness):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 2), "next_token": "c1"})
    listing = harness.client().iter_devices()
    assert next(listing) == {"device_id": "d1"}
    listing.close()  # the caller has what it needs: no second page is asked for


@pytest.mark.parametrize("page_size", [0, 51, -1, "10", 10.0, True, None])
def test_page_size_is_validated_before_any_request(harness, page_size):
    with pytest.raises(InputError) as caught:
        harness.client().iter_devices(page_size=page_size)
    assert caught.value.option == "page_size"


@pytest.mark.parametrize("max_devices", [-1, "5", 2.5, False])
def test_max_devices_is_validated(harness, max_devices):
    with pytest.raises(InputError) as caught:
        harness.client().iter_devices(max_devices=max_devices)
    assert caught.value.option == "max_devices"


@pytest.mark.parametrize("answer", [[{"device_id": "d1"}], {"items": []}, {"devices": "x"}, "text", None,
                                    {"devices": ["d1"]}])
def test_listing_answer_must_be_an_object_with_a_devices_list(harness, answer):
    harness.expect("POST", DEVICES, body=answer, text="null" if answer is None else None)
    with pytest.raises(UnexpectedResponseError):
        list(harness.client().iter_devices())


@pytest.mark.parametrize("cursor", [{"a": 1}, ["c"], True])
def test_a_cursor_that_is_not_a_string_is_an_error(harness, cursor):
    harness.expect("POST", DEVICES, body={"devices": devices(1, 1), "next_token": cursor})
    with pytest.raises(UnexpectedResponseError, match="next_token"):
        list(harness.client().iter_devices())


# ---------------------------------------------------------------------- Device Details


def test_details_bare_list(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["d1", "d2"], "opt": 0}, body=devices(1, 2))
    assert ids_of(harness.client().get_device_details(["d1", "d2"])) == ["d1", "d2"]


def test_details_object_holding_devices_and_unknown_ids_absent(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["d1", "zz"], "opt": 0}, body={"devices": devices(1, 1)})
    assert ids_of(harness.client().get_device_details(["d1", "zz"])) == ["d1"]


def test_details_404_means_none_known(harness):
    harness.expect("POST", DETAILS, status=404, text='{"error": "not found"}')
    assert harness.client().get_device_details(["zz"]) == []


def test_details_dedupes_ids_and_keeps_their_order(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["b", "a", "c"], "opt": 0}, body=[])
    assert harness.client().get_device_details(["b", "a", "b", "c", "a"]) == []


def test_details_batches_120_ids_into_3_requests(harness):
    wanted = ["d%d" % number for number in range(1, 121)]
    harness.expect("POST", DETAILS, json_body={"ids": wanted[:50], "opt": 0}, body=devices(1, 50))
    harness.expect("POST", DETAILS, json_body={"ids": wanted[50:100], "opt": 0}, status=404)
    harness.expect("POST", DETAILS, json_body={"ids": wanted[100:], "opt": 0}, body={"devices": devices(101, 20)})
    client = harness.client()
    assert ids_of(client.get_device_details(wanted)) == wanted[:50] + wanted[100:]
    assert client.metrics["requests"] == 3


def test_details_of_no_ids_sends_nothing(harness):
    assert harness.client().get_device_details([]) == []


@pytest.mark.parametrize("ids", ["d1", None, ["d1", 5], ["d1", ""], {"d1": 1}])
def test_details_ids_are_validated(harness, ids):
    with pytest.raises(InputError) as caught:
        harness.client().get_device_details(ids)
    assert caught.value.option == "ids"


@pytest.mark.parametrize("answer", [{"device": {}}, "x", [1, 2], 5])
def test_details_unexpected_shape(harness, answer):
    harness.expect("POST", DETAILS, body=answer)
    with pytest.raises(UnexpectedResponseError):
        harness.client().get_device_details(["d1"])


def test_details_are_a_read_and_are_retried(harness):
    harness.expect("POST", DETAILS, fail=(TIMEOUT, "slow"))
    harness.expect("POST", DETAILS, body=devices(1, 1))
    assert ids_of(harness.client().get_device_details(["d1"])) == ["d1"]


# ---------------------------------------------------------------------- Groups


def groups(first, count):
    return [{"group_id": "g%d" % number, "group_name": "G%d" % number} for number in range(first, first + count)]


def test_groups_single_short_page(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 3))
    assert len(harness.client().list_groups()) == 3


def test_groups_full_page_then_413(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, status=413, text="")
    assert len(harness.client().list_groups()) == 50


def test_groups_pages_until_a_short_page(harness):
    harness.expect("POST", GROUPS, json_body={"page": 1, "limit": 50}, body=groups(1, 50))
    harness.expect("POST", GROUPS, json_body={"page": 2, "limit": 50}, body={"groups": groups(51, 50)})
    harness.expect("POST", GROUPS, json_body={"page": 3, "limit": 50}, body=groups(101, 10))
    found = harness.client().list_groups()
    assert [group["group_id"] for group in found] == ["g%d" % number for number in range(1, 111)]


def test_groups_full_page_then_empty_list(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=[])
    assert len(harness.client().list_groups()) == 50


def test_groups_413_on_the_first_page(harness):
    harness.expect("POST", GROUPS, status=413)
    assert harness.client().list_groups() == []


def test_groups_api_ignoring_the_page_number_is_an_error(harness):
    harness.expect("POST", GROUPS, body=groups(1, 50))
    harness.expect("POST", GROUPS, body=groups(1, 50))
    with pytest.raises(UnexpectedResponseError, match="would loop"):
        harness.client().list_groups()


def test_groups_unexpected_shape(harness):
    harness.expect("POST", GROUPS, body={"data": []})
    with pytest.raises(UnexpectedResponseError, match="groups list"):
        harness.client().list_groups()


# ---------------------------------------------------------------------- Device Action


def results(wanted, status=1):
    return [{"id": device_id, "status": status, "command_id": ""} for device_id in wanted]


def test_action_batches_of_50_with_params(harness):
    wanted = ["d%d" % number for number in range(1, 121)]
    params = {"exempt_time": 24}
    for start in (0, 50, 100):
        batch = wanted[start:start + 50]
        harness.expect("POST", ACTION, json_body={"types": "exempt", "ids": batch, "params": params},
                       body=results(batch))
    client = harness.client()
    found = client.device_action("exempt", ids=wanted, params=params)
    assert [item["id"] for item in found] == wanted
    assert all(item == {"id": item["id"], "status": 1, "command_id": None} for item in found)
    assert client.metrics["requests"] == 3


def test_action_by_mac_without_params(harness):
    harness.expect("POST", ACTION, json_body={"types": "dhcprenew", "macs": ["aa:bb:cc:dd:ee:ff"]},
                   body=[{"id": "aa:bb:cc:dd:ee:ff", "status": -1, "command_id": None}])
    assert harness.client().device_action("dhcprenew", macs=["aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff"]) == [
        {"id": "aa:bb:cc:dd:ee:ff", "status": -1, "command_id": None}]


def test_action_command_id_is_kept(harness):
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": "1", "command_id": "cmd-9"},
                                         {"id": "d2", "status": 0.0}])
    assert harness.client().device_action("fetch_agent_log", ids=["d1", "d2"]) == [
        {"id": "d1", "status": 1, "command_id": "cmd-9"}, {"id": "d2", "status": 0, "command_id": None}]


def test_action_v30_keyed_answer_is_normalised(harness):
    harness.expect("POST", ACTION, body={"d1": 1, "d2": -1, "d3": "0"})
    assert harness.client().device_action("exempt", ids=["d1", "d2", "d3"]) == [
        {"id": "d1", "status": 1, "command_id": None},
        {"id": "d2", "status": -1, "command_id": None},
        {"id": "d3", "status": 0, "command_id": None}]


def test_action_partial_failure_keeps_completed_results(harness):
    wanted = ["d%d" % number for number in range(1, 121)]
    harness.expect("POST", ACTION, json_body={"types": "delete", "ids": wanted[:50]}, body=results(wanted[:50]))
    harness.expect("POST", ACTION, json_body={"types": "delete", "ids": wanted[50:100]}, status=500, text="boom")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.device_action("delete", ids=wanted)
    error = caught.value
    assert [item["id"] for item in error.completed_results] == wanted[:50]
    assert error.failed_batch_ids == wanted[50:100]
    assert error.unsent_ids == wanted[100:]
    assert "may have been applied" in str(error)
    assert client.metrics["requests"] == 2


def test_action_rate_limit_failure_keeps_completed_results(harness):
    wanted = ["d%d" % number for number in range(1, 52)]
    harness.expect("POST", ACTION, body=results(wanted[:50]))
    harness.expect("POST", ACTION, status=429, headers={"Retry-After": "1000"})
    with pytest.raises(RateLimitError) as caught:
        harness.client().device_action("delete", ids=wanted)
    assert len(caught.value.completed_results) == 50
    assert caught.value.failed_batch_ids == ["d51"]


@pytest.mark.parametrize("answer", [{"d1": "yes"}, [{"status": 1}], [{"id": "d1", "status": "x"}], "ok", [5]])
def test_action_unexpected_answer(harness, answer):
    harness.expect("POST", ACTION, body=answer)
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().device_action("exempt", ids=["d1"])
    assert "may have been applied" in str(caught.value)
    assert caught.value.completed_results == []


def test_action_timeout_in_the_first_batch(harness):
    harness.expect("POST", ACTION, fail=(TIMEOUT, "slow"))
    with pytest.raises(TransportError) as caught:
        harness.client().device_action("exempt", ids=["d1", "d2"])
    assert caught.value.completed_results == []
    assert caught.value.failed_batch_ids == ["d1", "d2"]
    assert caught.value.unsent_ids == []


@pytest.mark.parametrize("arguments, option", [
    (dict(action="", ids=["d1"]), "action"),
    (dict(action=None, ids=["d1"]), "action"),
    (dict(action="exempt", ids=["d1"], macs=["aa"]), "ids"),
    (dict(action="exempt"), "ids"),
    (dict(action="exempt", ids="d1"), "ids"),
    (dict(action="exempt", macs=[1]), "macs"),
    (dict(action="exempt", ids=["d1"], params=["x"]), "params"),
])
def test_action_arguments_are_validated_before_any_request(harness, arguments, option):
    with pytest.raises(InputError) as caught:
        harness.client().device_action(**arguments)
    assert caught.value.option == option


def test_action_on_no_devices_sends_nothing(harness):
    assert harness.client().device_action("exempt", ids=[]) == []
