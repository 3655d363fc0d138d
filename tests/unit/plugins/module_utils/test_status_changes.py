# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""StatusChangesClient: the answer's shapes, the end of the paging, progress, records it cannot use, faults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, InputError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import check_change_age
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, STATUS_CHANGES)


def changes(first, count, status="non-compliant"):
    return [{"device_id": "d%d" % number, "status": status, "severity": "critical", "group_name": "Default",
             "device_name": "PC-%d" % number, "status_detail": {"exempted": 0, "pending": 0},
             "issue": {"total_issues": 1, "total_critical_issues": 1, "total_warning_issues": 0}}
            for number in range(first, first + count)]


def body(page, age=3600):
    return {"age": age, "verbose": 1, "page": page, "limit": 50}


def ids(records):
    return [record["device_id"] for record in records]


# ---------------------------------------------------------------------- shapes of the answer


def test_a_bare_list_of_records_on_one_short_page(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 3))
    found = harness.client().status_changes.within(3600)
    assert ids(found.devices) == ["d1", "d2", "d3"]
    assert found.deleted_ids == []
    assert found.devices[0]["issue"] == {"total_issues": 1, "total_critical_issues": 1, "total_warning_issues": 0}


def test_the_object_form_with_deleted_devices_as_objects_and_as_ids(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1, age=86400), body={
        "monitored_devices": changes(1, 2), "deleted_devices": [{"device_id": "x1"}, "x2", {"device_id": "X1"}]})
    found = harness.client().status_changes.within(86400)
    assert ids(found.devices) == ["d1", "d2"]
    assert found.deleted_ids == ["x1", "x2"]  # once each, in any case


@pytest.mark.parametrize("answer, changed, deleted", [
    ({"monitored_devices": changes(1, 2)}, ["d1", "d2"], []),
    ({"deleted_devices": ["x1"]}, [], ["x1"]),
    ({}, [], []),
    ([], [], []),
])
def test_either_key_may_be_missing(harness, answer, changed, deleted):
    harness.expect("POST", STATUS_CHANGES, body=answer)
    found = harness.client().status_changes.within(60)
    assert (ids(found.devices), found.deleted_ids) == (changed, deleted)


@pytest.mark.parametrize("spelled, status", [
    ("non-compliant", "non_compliant"), ("non_compliant", "non_compliant"), ("Compliant", "compliant"),
    ("exempted", "exempted"), ("out-of-license-usage", "out_of_license_usage"),
])
def test_every_status_is_in_get_devices_spelling(harness, spelled, status):
    harness.expect("POST", STATUS_CHANGES, body=changes(1, 1, status=spelled))
    assert harness.client().status_changes.within(60).devices[0]["status"] == status


def test_a_device_deleted_is_not_among_the_changed(harness):
    harness.expect("POST", STATUS_CHANGES, body={"monitored_devices": changes(1, 3), "deleted_devices": ["D2"]})
    found = harness.client().status_changes.within(60)
    assert ids(found.devices) == ["d1", "d3"]
    assert found.deleted_ids == ["D2"]


def test_a_device_changed_twice_is_reported_once_with_its_last_record(harness):
    first_page = changes(1, 50)
    second_page = changes(51, 3) + [dict(changes(2, 1, status="compliant")[0], device_id="D2")]
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=first_page)
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body=second_page)
    found = harness.client().status_changes.within(3600)
    assert ids(found.devices) == ["d1", "D2"] + ["d%d" % number for number in range(3, 54)]
    assert found.devices[1]["status"] == "compliant"


# ---------------------------------------------------------------------- the end of the paging


def test_full_pages_until_a_short_one(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body={"monitored_devices": changes(51, 50)})
    harness.expect("POST", STATUS_CHANGES, json_body=body(3), body=changes(101, 7))
    client = harness.client()
    assert len(client.status_changes.within(3600).devices) == 107
    assert client.metrics["requests"] == 3


@pytest.mark.parametrize("end", [dict(status=413, text=""), dict(status=413, body={"error": "past the end"}),
                                 dict(body=[]), dict(body={"monitored_devices": [], "deleted_devices": []})])
def test_a_full_page_then_the_end(harness, end):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), **end)
    assert len(harness.client().status_changes.within(3600).devices) == 50


def test_413_on_the_first_page_is_no_change(harness):
    harness.expect("POST", STATUS_CHANGES, status=413)
    found = harness.client().status_changes.within(60)
    assert (found.devices, found.deleted_ids) == ([], [])


def test_a_page_is_full_when_its_changes_and_deletions_fill_the_limit(harness):
    # Whether limit counts both lists is not documented: the paging goes on rather than miss a record.
    harness.expect("POST", STATUS_CHANGES, json_body=body(1),
                   body={"monitored_devices": changes(1, 30), "deleted_devices": ["x%d" % n for n in range(20)]})
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body={"monitored_devices": changes(31, 1)})
    found = harness.client().status_changes.within(3600)
    assert (len(found.devices), len(found.deleted_ids)) == (31, 20)


def test_a_page_repeating_an_earlier_one_is_an_error(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body=changes(51, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(3), body=changes(1, 50))
    client = harness.client()
    with pytest.raises(UnexpectedResponseError) as caught:
        client.status_changes.within(3600)
    assert str(caught.value) == ("POST %s: unexpected answer: page 3 repeats page 1: the listing would loop"
                                 % STATUS_CHANGES)
    assert client.metrics["requests"] == 3


def test_the_paging_never_asks_more_than_max_listing_pages(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body=changes(51, 50))
    with pytest.raises(UnexpectedResponseError, match=r"max_listing_pages \(2 pages, 100 status changes\)"):
        harness.client(max_listing_pages=2).status_changes.within(3600)


# ---------------------------------------------------------------------- records the collection cannot use


@pytest.mark.parametrize("record, what", [
    ({"status": "compliant"}, "monitored_devices[1].device_id is missing"),
    ({"device_id": "", "status": "compliant"}, "monitored_devices[1].device_id is empty"),
    ({"device_id": 7, "status": "compliant"}, "monitored_devices[1].device_id is a JSON number, expected a string"),
    ({"device_id": "d9", "status": "quarantine-pending"},
     "monitored_devices[1].status is 'quarantine-pending', not a status this collection knows"),
    ({"device_id": "d9", "status": 1}, "monitored_devices[1].status is a JSON number, not a status"),
    ({"device_id": "d9"}, "monitored_devices[1].status is a JSON null, not a status"),
    ({"device_id": "d9", "status": "compliant", "group_name": ["a"]},
     "monitored_devices[1].group_name is a JSON array, expected a string"),
])
def test_a_record_without_a_device_id_or_a_known_status_is_reported(harness, record, what):
    harness.expect("POST", STATUS_CHANGES, body={"monitored_devices": changes(1, 1) + [record]})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().status_changes.within(60)
    assert str(caught.value).startswith("POST %s: unexpected answer: %s" % (STATUS_CHANGES, what))


@pytest.mark.parametrize("entry, what", [
    ({"id": "x1"}, "deleted_devices[0].device_id is missing"),
    (5, "deleted_devices[0] is a JSON number, expected a string"),
    ("", "deleted_devices[0] is empty"),
])
def test_a_deleted_device_without_an_id_is_reported(harness, entry, what):
    harness.expect("POST", STATUS_CHANGES, body={"deleted_devices": [entry]})
    with pytest.raises(UnexpectedResponseError, match=r"unexpected answer: %s" % what.replace("[", r"\[")
                       .replace("]", r"\]")):
        harness.client().status_changes.within(60)


@pytest.mark.parametrize("answer, what", [
    ("changes", "expected a JSON list, or an object with monitored_devices and deleted_devices lists"),
    ({"monitored_devices": {"d1": "compliant"}}, "monitored_devices is a JSON object, expected a list"),
    ({"deleted_devices": "x1"}, "deleted_devices is a JSON string, expected a list"),
    ([["d1"]], "monitored_devices[0] is a JSON array, expected an object"),
])
def test_an_answer_of_another_shape_is_reported(harness, answer, what):
    harness.expect("POST", STATUS_CHANGES, body=answer)
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().status_changes.within(60)
    assert str(caught.value) == "POST %s: unexpected answer: %s" % (STATUS_CHANGES, what)


def test_the_body_of_an_unexpected_answer_is_redacted(harness):
    harness.expect("POST", STATUS_CHANGES, body={"monitored_devices": [{"note": "token=%s" % ACCESS_TOKEN}]})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().status_changes.within(60)
    error = caught.value
    assert ACCESS_TOKEN not in str(error) and ACCESS_TOKEN not in error.details["body"]
    assert MASK in error.details["body"]
    assert not any(ACCESS_TOKEN in line for line in harness.log_lines)


# ---------------------------------------------------------------------- statuses and faults


def test_406_fails_naming_the_status(harness):
    harness.expect("POST", STATUS_CHANGES, status=406, body={"error": "invalid value for 'limit'"})
    with pytest.raises(ApiError) as caught:
        harness.client().status_changes.within(60)
    assert caught.value.status == 406
    assert "POST %s failed: HTTP 406" % STATUS_CHANGES in str(caught.value)


def test_a_page_failing_mid_way_is_retried_paced_and_counted(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), status=503)
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), status=429, headers={"Retry-After": "5"})
    harness.expect("POST", STATUS_CHANGES, json_body=body(2), body=changes(51, 2))
    client = harness.client()
    assert len(client.status_changes.within(3600).devices) == 52
    assert client.metrics["requests"] == 4
    assert client.metrics["retries"] == 2
    assert client.metrics["throttled"] == 1


def test_a_page_that_keeps_failing_mid_way_fails_the_whole_call(harness):
    harness.expect("POST", STATUS_CHANGES, json_body=body(1), body=changes(1, 50))
    for _attempt in range(4):
        harness.expect("POST", STATUS_CHANGES, json_body=body(2), fail=(DROPPED, "connection reset"))
    client = harness.client()
    with pytest.raises(TransportError, match="after 3 retries"):
        client.status_changes.within(3600)
    assert client.metrics["requests"] == 5


@pytest.mark.parametrize("age", [0, -1, 86401, True, "60", 1.5, None])
def test_an_age_outside_1_to_86400_fails_before_any_request(harness, age):
    with pytest.raises(InputError) as caught:
        harness.client().status_changes.within(age)
    assert caught.value.option == "age"
    assert harness.transport.calls == []


def test_check_change_age_names_the_option():
    assert check_change_age("changed_within", 86400) == 86400
    with pytest.raises(InputError, match="^changed_within: must be an integer number of seconds from 1 to 86400"):
        check_change_age("changed_within", 0)
