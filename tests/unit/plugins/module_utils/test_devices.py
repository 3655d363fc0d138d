# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MAC normalisation, device filters, and DevicesClient: the cursor listing, Device Details and Device Action."""

from __future__ import absolute_import, division, print_function

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import devices
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, InputError, RateLimitError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.transport import TIMEOUT
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import ACTION, DETAILS, DEVICES


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


# ---------------------------------------------------------------------- DevicesClient: Get Devices


def device_records(first, count):
    return [{"device_id": "d%d" % number} for number in range(first, first + count)]


def ids_of(items):
    return [item.get("device_id") or item.get("id") for item in items]


@pytest.mark.parametrize("end_page", [
    {"devices": device_records(3, 1)},  # next_token missing
    {"devices": device_records(3, 1), "next_token": None},
    {"devices": device_records(3, 1), "next_token": ""},
], ids=["missing", "null", "empty"])
def test_listing_ends_on_a_documented_end_signal(harness, end_page):
    harness.expect("POST", DEVICES, json_body={"limit": 50}, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"}, body=end_page)
    assert ids_of(harness.client().devices.list()) == ["d1", "d2", "d3"]


def test_listing_ends_on_an_empty_page_even_with_a_cursor(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": [], "next_token": "c2"})
    assert ids_of(harness.client().devices.list()) == ["d1", "d2"]


def test_a_short_page_is_not_the_end(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 10}, body={"devices": device_records(1, 3), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 10, "token": "c1"},
                   body={"devices": device_records(4, 2), "next_token": "c2"})
    harness.expect("POST", DEVICES, json_body={"limit": 10, "token": "c2"}, body={"devices": device_records(6, 1)})
    assert ids_of(harness.client().devices.list(page_size=10)) == ["d1", "d2", "d3", "d4", "d5", "d6"]


def test_a_repeated_cursor_is_an_error(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 1), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"},
                   body={"devices": device_records(2, 1), "next_token": "c2"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c2"},
                   body={"devices": device_records(3, 1), "next_token": "c1"})
    listing = harness.client().devices.list()
    with pytest.raises(UnexpectedResponseError, match="a cursor it had already returned: the listing would loop"):
        list(listing)


def test_a_cursor_returned_twice_in_a_row_is_an_error(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 1), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": device_records(2, 1), "next_token": "c1"})
    with pytest.raises(UnexpectedResponseError, match="already returned"):
        list(harness.client().devices.list())


def test_max_devices_stops_requesting(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 50}, body={"devices": device_records(1, 50), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 20, "token": "c1"},
                   body={"devices": device_records(51, 20), "next_token": "c2"})
    client = harness.client()
    found = list(client.devices.list(max_devices=70))
    assert len(found) == 70
    assert client.metrics["requests"] == 2


def test_max_devices_smaller_than_a_page(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 2}, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 1, "token": "c1"},
                   body={"devices": device_records(3, 1), "next_token": "c2"})
    assert ids_of(harness.client().devices.list(page_size=2, max_devices=3)) == ["d1", "d2", "d3"]


def test_max_devices_when_the_api_sends_more_than_asked(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 5}, body={"devices": device_records(1, 9), "next_token": "c1"})
    assert len(list(harness.client().devices.list(max_devices=5))) == 5


def test_max_devices_zero_sends_nothing(harness):
    assert not list(harness.client().devices.list(max_devices=0))


def test_listing_is_lazy(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 2), "next_token": "c1"})
    listing = harness.client().devices.list()
    assert next(listing) == {"device_id": "d1"}
    listing.close()  # the caller has what it needs: no second page is asked for


@pytest.mark.parametrize("page_size", [0, 51, -1, "10", 10.0, True, None])
def test_page_size_is_validated_before_any_request(harness, page_size):
    with pytest.raises(InputError) as caught:
        harness.client().devices.list(page_size=page_size)
    assert caught.value.option == "page_size"


@pytest.mark.parametrize("max_devices", [-1, "5", 2.5, False])
def test_max_devices_is_validated(harness, max_devices):
    with pytest.raises(InputError) as caught:
        harness.client().devices.list(max_devices=max_devices)
    assert caught.value.option == "max_devices"


@pytest.mark.parametrize("answer", [[{"device_id": "d1"}], {"items": []}, {"devices": "x"}, "text", None,
                                    {"devices": ["d1"]}])
def test_listing_answer_must_be_an_object_with_a_devices_list(harness, answer):
    harness.expect("POST", DEVICES, body=answer, text="null" if answer is None else None)
    with pytest.raises(UnexpectedResponseError):
        list(harness.client().devices.list())


@pytest.mark.parametrize("cursor", [{"a": 1}, ["c"], True])
def test_a_cursor_that_is_not_a_string_is_an_error(harness, cursor):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 1), "next_token": cursor})
    with pytest.raises(UnexpectedResponseError, match="next_token"):
        list(harness.client().devices.list())


# ---------------------------------------------------------------------- DevicesClient: progress and the page ceiling


def test_fresh_cursors_over_the_same_devices_stop_at_the_second_page(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 3), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 50, "token": "c1"},
                   body={"devices": device_records(1, 3), "next_token": "c2"})
    client = harness.client()
    with pytest.raises(UnexpectedResponseError) as caught:
        list(client.devices.list())
    assert str(caught.value) == ("POST %s: unexpected answer: page 2 holds no device that an earlier page did not:"
                                 " the listing would loop" % DEVICES)
    assert client.metrics["requests"] == 2


def test_a_page_of_devices_listed_pages_before_is_no_progress(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": device_records(3, 2), "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 1) + device_records(4, 1), "next_token": "c3"})
    with pytest.raises(UnexpectedResponseError, match="page 3 holds no device"):
        list(harness.client().devices.list())


def test_devices_without_an_id_are_told_apart_by_their_record(harness):
    page = [{"device_name": "a"}, {"device_name": "b"}]
    harness.expect("POST", DEVICES, body={"devices": page, "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": [{"device_name": "c"}], "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": list(page), "next_token": "c3"})
    listing = harness.client().devices.list()
    assert [next(listing)["device_name"] for _step in range(3)] == ["a", "b", "c"]
    with pytest.raises(UnexpectedResponseError, match="page 3 holds no device"):
        next(listing)


def test_a_device_listed_again_is_left_out_and_the_listing_goes_on(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": device_records(2, 2) + device_records(3, 1), "next_token": "c2"})
    harness.expect("POST", DEVICES, body={"devices": device_records(4, 1)})
    assert ids_of(harness.client().devices.list()) == ["d1", "d2", "d3", "d4"]


def test_max_devices_counts_each_device_once(harness):
    harness.expect("POST", DEVICES, json_body={"limit": 3}, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, json_body={"limit": 1, "token": "c1"},
                   body={"devices": device_records(2, 1) + device_records(3, 1), "next_token": "c2"})
    assert ids_of(harness.client().devices.list(max_devices=3)) == ["d1", "d2", "d3"]


def test_a_device_listing_never_asks_more_than_max_listing_pages(harness):
    for page in range(1, 4):
        harness.expect("POST", DEVICES, body={"devices": device_records(page * 10, 2), "next_token": "c%d" % page})
    client = harness.client(max_listing_pages=3)
    with pytest.raises(UnexpectedResponseError) as caught:
        list(client.devices.list())
    assert str(caught.value) == (
        "POST %s: the listing reached max_listing_pages (3 pages, 6 devices) and the API has not signalled its end;"
        " raise max_listing_pages if the account really has more devices" % DEVICES)
    assert client.metrics["requests"] == 3


def test_a_listing_that_ends_on_the_last_allowed_page_succeeds(harness):
    harness.expect("POST", DEVICES, body={"devices": device_records(1, 2), "next_token": "c1"})
    harness.expect("POST", DEVICES, body={"devices": device_records(3, 2)})
    assert ids_of(harness.client(max_listing_pages=2).devices.list()) == ["d1", "d2", "d3", "d4"]


# ---------------------------------------------------------------------- DevicesClient: Device Details


def test_details_bare_list(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["d1", "d2"], "opt": 0}, body=device_records(1, 2))
    assert ids_of(harness.client().devices.details(["d1", "d2"])) == ["d1", "d2"]


def test_details_object_holding_devices_and_unknown_ids_absent(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["d1", "zz"], "opt": 0}, body={"devices": device_records(1, 1)})
    assert ids_of(harness.client().devices.details(["d1", "zz"])) == ["d1"]


def test_details_404_means_none_known(harness):
    harness.expect("POST", DETAILS, status=404, text='{"error": "not found"}')
    assert harness.client().devices.details(["zz"]) == []


def test_details_dedupes_ids_and_keeps_their_order(harness):
    harness.expect("POST", DETAILS, json_body={"ids": ["b", "a", "c"], "opt": 0}, body=[])
    assert harness.client().devices.details(["b", "a", "b", "c", "a"]) == []


def test_details_batches_120_ids_into_3_requests(harness):
    wanted = ["d%d" % number for number in range(1, 121)]
    harness.expect("POST", DETAILS, json_body={"ids": wanted[:50], "opt": 0}, body=device_records(1, 50))
    harness.expect("POST", DETAILS, json_body={"ids": wanted[50:100], "opt": 0}, status=404)
    harness.expect("POST", DETAILS, json_body={"ids": wanted[100:], "opt": 0}, body={"devices": device_records(101, 20)})
    client = harness.client()
    assert ids_of(client.devices.details(wanted)) == wanted[:50] + wanted[100:]
    assert client.metrics["requests"] == 3


def test_details_of_no_ids_sends_nothing(harness):
    assert harness.client().devices.details([]) == []


@pytest.mark.parametrize("ids", ["d1", None, ["d1", 5], ["d1", ""], {"d1": 1}])
def test_details_ids_are_validated(harness, ids):
    with pytest.raises(InputError) as caught:
        harness.client().devices.details(ids)
    assert caught.value.option == "ids"


@pytest.mark.parametrize("answer", [{"device": {}}, "x", [1, 2], 5])
def test_details_unexpected_shape(harness, answer):
    harness.expect("POST", DETAILS, body=answer)
    with pytest.raises(UnexpectedResponseError):
        harness.client().devices.details(["d1"])


def test_details_are_a_read_and_are_retried(harness):
    harness.expect("POST", DETAILS, fail=(TIMEOUT, "slow"))
    harness.expect("POST", DETAILS, body=device_records(1, 1))
    assert ids_of(harness.client().devices.details(["d1"])) == ["d1"]


# ---------------------------------------------------------------------- DevicesClient: Device Action


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
    found = client.devices.action("exempt", ids=wanted, params=params)
    assert [item["id"] for item in found] == wanted
    assert all(item == {"id": item["id"], "status": 1, "command_id": None} for item in found)
    assert client.metrics["requests"] == 3


def test_action_by_mac_without_params(harness):
    harness.expect("POST", ACTION, json_body={"types": "dhcprenew", "macs": ["aa:bb:cc:dd:ee:ff"]},
                   body=[{"id": "aa:bb:cc:dd:ee:ff", "status": -1, "command_id": None}])
    assert harness.client().devices.action("dhcprenew", macs=["aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff"]) == [
        {"id": "aa:bb:cc:dd:ee:ff", "status": -1, "command_id": None}]


def test_action_command_id_is_kept(harness):
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": "1", "command_id": "cmd-9"},
                                         {"id": "d2", "status": 0.0}])
    assert harness.client().devices.action("fetch_agent_log", ids=["d1", "d2"]) == [
        {"id": "d1", "status": 1, "command_id": "cmd-9"}, {"id": "d2", "status": 0, "command_id": None}]


def test_action_v30_keyed_answer_is_normalised(harness):
    harness.expect("POST", ACTION, body={"d1": 1, "d2": -1, "d3": "0"})
    assert harness.client().devices.action("exempt", ids=["d1", "d2", "d3"]) == [
        {"id": "d1", "status": 1, "command_id": None},
        {"id": "d2", "status": -1, "command_id": None},
        {"id": "d3", "status": 0, "command_id": None}]


def test_action_partial_failure_keeps_completed_results(harness):
    wanted = ["d%d" % number for number in range(1, 121)]
    harness.expect("POST", ACTION, json_body={"types": "delete", "ids": wanted[:50]}, body=results(wanted[:50]))
    harness.expect("POST", ACTION, json_body={"types": "delete", "ids": wanted[50:100]}, status=500, text="boom")
    client = harness.client()
    with pytest.raises(ApiError) as caught:
        client.devices.action("delete", ids=wanted)
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
        harness.client().devices.action("delete", ids=wanted)
    assert len(caught.value.completed_results) == 50
    assert caught.value.failed_batch_ids == ["d51"]


@pytest.mark.parametrize("answer", [{"d1": "yes"}, [{"status": 1}], [{"id": "d1", "status": "x"}], "ok", [5]])
def test_action_unexpected_answer(harness, answer):
    harness.expect("POST", ACTION, body=answer)
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().devices.action("exempt", ids=["d1"])
    assert "may have been applied" in str(caught.value)
    assert caught.value.completed_results == []


def test_action_timeout_in_the_first_batch(harness):
    harness.expect("POST", ACTION, fail=(TIMEOUT, "slow"))
    with pytest.raises(TransportError) as caught:
        harness.client().devices.action("exempt", ids=["d1", "d2"])
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
        harness.client().devices.action(**arguments)
    assert caught.value.option == option


def test_action_on_no_devices_sends_nothing(harness):
    assert harness.client().devices.action("exempt", ids=[]) == []


# ---------------------------------------------------------------------- DevicesClient: fields of the wrong type


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
        list(harness.client().devices.list())
    assert str(caught.value).startswith("POST %s: unexpected answer: devices[1].%s, expected a string" % (DEVICES, what))


@pytest.mark.parametrize("fields, what", WRONG_DEVICE_FIELDS)
def test_a_device_detail_field_of_the_wrong_type_is_an_unexpected_answer(harness, fields, what):
    harness.expect("POST", DETAILS, body=[dict({"device_id": "d1"}, **fields)])
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().devices.details(["d1"])
    assert str(caught.value) == "POST %s: unexpected answer: devices[0].%s, expected a string" % (DETAILS, what)


def test_single_values_of_any_json_type_are_accepted(harness):
    device = dict(device_id=17, status=None, severity="critical", agent_version="7.6.1", os_info="windows",
                  network_info=[{"mac": None}, "not an adapter"], notes=[{"free": "form"}])
    harness.expect("POST", DETAILS, body={"devices": [device]})
    assert harness.client().devices.details(["17"]) == [device]


@pytest.mark.parametrize("item, what", [
    ({"id": ["d1"], "status": 1}, "results[0].id is a JSON array"),
    ({"id": "d1", "status": 1, "command_id": {"id": 4}}, "results[0].command_id is a JSON object"),
])
def test_an_action_result_field_of_the_wrong_type_is_an_unexpected_answer(harness, item, what):
    harness.expect("POST", ACTION, body=[item])
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().devices.action("exempt", ids=["d1"])
    assert str(caught.value).startswith("POST %s: unexpected answer: %s, expected a string. The action may have been"
                                        " applied" % (ACTION, what))
    assert caught.value.failed_batch_ids == ["d1"]


# ---------------------------------------------------------------------- spellings of other endpoints


@pytest.mark.parametrize("status, spelled", [
    ("non-compliant", "non_compliant"), (" EXEMPTED ", "exempted"), ("out-of-license-usage", "out_of_license_usage"),
    ("gone", None), (None, None), (3, None)])
def test_listing_status_is_get_devices_spelling_or_none(status, spelled):
    assert devices.listing_status(status) == spelled


def test_as_listed_gives_a_device_of_device_details_the_listing_spellings():
    detail = {"device_id": "d1", "status": "non-compliant", "nick_name": "Ann's laptop", "agent_type": "persistent",
              "issue": {"total_issue": 3, "total_critical_issue": 2, "total_warning_issue": 1}}
    assert devices.as_listed(detail) == {
        "device_id": "d1", "status": "non_compliant", "nickname": "Ann's laptop", "agent_type": "persistent",
        "issue": {"total_issue": 3, "total_critical": 2, "total_warning": 1}}
    assert detail["issue"]["total_critical_issue"] == 2  # the record given is left as it is


def test_as_listed_keeps_the_listing_spelling_when_both_are_there():
    both = {"device_id": "d1", "status": "compliant", "nickname": "a", "nick_name": "b",
            "issue": {"total_critical": 2, "total_critical_issue": 9}}
    assert devices.as_listed(both) == {"device_id": "d1", "status": "compliant", "nickname": "a",
                                       "issue": {"total_critical": 2}}


@pytest.mark.parametrize("device_id, mac, sent", [
    ("D1", None, "D1"), ("  d1 ", None, "d1"), (None, "AA-BB-CC-DD-EE-FF", "aa:bb:cc:dd:ee:ff"),
    (None, "aabb.ccdd.eeff", "aa:bb:cc:dd:ee:ff")])
def test_one_device_is_the_id_as_given_or_the_mac_normalised(device_id, mac, sent):
    assert devices.one_device(device_id, mac) == sent


@pytest.mark.parametrize("device_id, mac, option, words", [
    ("d1", "aa:bb:cc:dd:ee:ff", "device_id", "not both"), (None, None, "device_id", "give device_id or mac"),
    ("  ", None, "device_id", "non-empty"), (None, "aa:bb", "mac", "not a MAC address")])
def test_one_device_bad_input_names_the_option(device_id, mac, option, words):
    with pytest.raises(InputError, match=words) as caught:
        devices.one_device(device_id, mac)
    assert caught.value.option == option
