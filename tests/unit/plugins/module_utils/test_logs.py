# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LogsClient: the request body, cursor paging and its end, progress checks, bounds, hostile answers, faults."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    InputError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.logs import entry_time, epoch_ms
from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED

LOGS = "/o/api/v3.3/logs"
BASE_MS = 1764581400000  # 2025-12-01T09:30:00Z


def entries(first, count):
    """Entries newest first: entry ``first`` is the newest."""
    return [{"timestamp": BASE_MS - number * 1000, "event": "exempt", "device_id": "d%d" % number,
             "device_name": "PC-%d" % number, "admin": "admin@example.com", "source": "api",
             "details": "exempted forever"} for number in range(first, first + count)]


def body(category="admin", limit=100, token=None, **extra):
    sent = dict(extra, event_category=category, limit=limit)
    if token is not None:
        sent["token"] = token
    return sent


def listed(client, **kwargs):
    kwargs.setdefault("category", "admin")
    return [entry["device_id"] for entry in client.logs.entries(**kwargs)]


# ---------------------------------------------------------------------- the request and the paging


def test_one_page_without_a_cursor_is_the_end(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 3)})
    assert listed(harness.client()) == ["d1", "d2", "d3"]
    harness.transport.assert_done()


def test_the_window_and_the_filter_are_sent_as_the_api_names_them(harness):
    harness.expect("POST", LOGS, json_body=body("device", age=600, filter={"events": ["deleted", "added"]}),
                   body={"logs": []})
    harness.expect("POST", LOGS, json_body=body(start_time=1000, end_time=2000), body={"logs": []})
    client = harness.client()
    assert listed(client, category="device", events=["deleted", "added"], age=600) == []
    assert listed(client, start_ms=1000, end_ms=2000) == []
    harness.transport.assert_done()


def test_the_cursor_is_followed_and_a_short_page_is_not_the_end(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 2), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": entries(3, 2), "next_token": "t2"})
    harness.expect("POST", LOGS, json_body=body(token="t2"), body={"logs": entries(5, 1)})
    assert listed(harness.client()) == ["d1", "d2", "d3", "d4", "d5"]


@pytest.mark.parametrize("end", [{}, {"next_token": None}, {"next_token": ""}])
def test_every_documented_end_signal_ends_the_listing(harness, end):
    harness.expect("POST", LOGS, json_body=body(), body=dict(end, logs=entries(1, 100)))
    assert len(listed(harness.client())) == 100
    harness.transport.assert_done()


def test_a_page_with_no_entry_is_the_end_whatever_its_cursor(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 1), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": [], "next_token": "t2"})
    assert listed(harness.client()) == ["d1"]


def test_max_entries_asks_smaller_pages_and_stops_as_soon_as_it_has_them(harness):
    harness.expect("POST", LOGS, json_body=body(limit=100), body={"logs": entries(1, 100), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(limit=20, token="t1"), body={"logs": entries(101, 20),
                                                                             "next_token": "t2"})
    assert len(listed(harness.client(), max_entries=120)) == 120
    harness.transport.assert_done()


def test_occurred_at_is_added_in_utc(harness):
    answer = entries(1, 2)
    answer[1]["timestamp"] = "2025-12-01T10:30:00+01:00"
    harness.expect("POST", LOGS, body={"logs": answer})
    found = list(harness.client().logs.entries("admin"))
    assert [entry["occurred_at"] for entry in found] == ["2025-12-01T09:29:59.000Z", "2025-12-01T09:30:00.000Z"]
    assert found[0]["timestamp"] == BASE_MS - 1000  # the API's own field is kept as it came


@pytest.mark.parametrize("value, expected", [
    (BASE_MS, "2025-12-01T09:30:00"), (BASE_MS // 1000, "2025-12-01T09:30:00"),
    ("2025-12-01T09:30:00Z", "2025-12-01T09:30:00"), ("2025-12-01 09:30:00", "2025-12-01T09:30:00"),
    ("yesterday", None), (True, None), (None, None), ([1], None),
])
def test_entry_time_reads_milliseconds_seconds_and_iso_strings(value, expected):
    moment = entry_time(value)
    assert (moment.strftime("%Y-%m-%dT%H:%M:%S") if moment else None) == expected


# ---------------------------------------------------------------------- progress and hostile answers


def test_a_cursor_seen_before_fails(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 1), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": entries(2, 1), "next_token": "t1"})
    with pytest.raises(UnexpectedResponseError, match="already returned: the listing would loop"):
        listed(harness.client())


def test_a_page_of_entries_listed_before_fails(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 2), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": entries(1, 2), "next_token": "t2"})
    with pytest.raises(UnexpectedResponseError, match="page 2 holds no entry that an earlier page did not"):
        listed(harness.client())


def test_the_listing_never_asks_more_than_max_listing_pages(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 100), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": entries(101, 100), "next_token": "t2"})
    with pytest.raises(UnexpectedResponseError, match=r"max_listing_pages \(2 pages, 200 log entries\)"):
        listed(harness.client(max_listing_pages=2))
    harness.transport.assert_done()


@pytest.mark.parametrize("answer, message", [
    ([], "expected a JSON object with a logs list"),
    ({"logs": {"a": 1}}, "expected a JSON object with a logs list"),
    ({"logs": ["x"]}, r"logs\[0\] is a JSON string, expected an object"),
    ({"logs": [{"timestamp": BASE_MS, "event": {"name": "exempt"}}]}, r"logs\[0\]\.event is a JSON object"),
    ({"logs": [{"event": "exempt"}]}, r"logs\[0\]\.timestamp is a JSON null"),
    ({"logs": [{"timestamp": "soon", "event": "exempt"}]}, r"logs\[0\]\.timestamp is 'soon'"),
    ({"logs": entries(1, 1), "next_token": {"t": 1}}, "next_token is not a string"),
])
def test_an_answer_it_cannot_use_names_the_field(harness, answer, message):
    harness.expect("POST", LOGS, body=answer)
    with pytest.raises(UnexpectedResponseError, match=message):
        listed(harness.client())


def test_a_page_failing_mid_way_is_retried_paced_and_counted(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 100), "next_token": "t1"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), status=503)
    harness.expect("POST", LOGS, json_body=body(token="t1"), status=429, headers={"Retry-After": "5"})
    harness.expect("POST", LOGS, json_body=body(token="t1"), body={"logs": entries(101, 2)})
    client = harness.client()
    assert len(listed(client)) == 102
    assert client.metrics == dict(client.metrics, requests=4, retries=2, throttled=1)


def test_a_page_that_keeps_failing_fails_the_listing(harness):
    harness.expect("POST", LOGS, json_body=body(), body={"logs": entries(1, 100), "next_token": "t1"})
    for _attempt in range(4):
        harness.expect("POST", LOGS, json_body=body(token="t1"), fail=(DROPPED, "connection reset"))
    client = harness.client()
    with pytest.raises(TransportError, match="after 3 retries"):
        listed(client)
    assert client.metrics["requests"] == 5


# ---------------------------------------------------------------------- bounds, before any request


@pytest.mark.parametrize("kwargs, option", [
    (dict(category="audit"), "category"),
    (dict(age=0), "age"),
    (dict(age=86401), "age"),
    (dict(age=True), "age"),
    (dict(age="60"), "age"),
    (dict(age=60, start_ms=1), "age"),
    (dict(age=60, end_ms=1), "age"),
    (dict(start_ms=2000, end_ms=1000), "since"),
    (dict(category="device_report", events=["x"]), "events"),
    (dict(events=[""]), "events"),
    (dict(events=[3]), "events"),
])
def test_a_query_the_api_forbids_fails_when_asked_before_any_request(harness, kwargs, option):
    kwargs.setdefault("category", "admin")
    with pytest.raises(InputError) as caught:
        harness.client().logs.entries(**kwargs)
    assert caught.value.option == option
    assert harness.transport.calls == []


@pytest.mark.parametrize("text, expected", [
    ("2025-12-01T09:30:00Z", BASE_MS), ("2025-12-01T10:30:00+01:00", BASE_MS), ("2025-12-01 09:30:00.5z", BASE_MS + 500),
])
def test_epoch_ms_of_an_iso_time_with_a_zone(text, expected):
    assert epoch_ms("since", text) == expected


@pytest.mark.parametrize("text", ["2025-12-01T09:30:00", "2025-12-01", "yesterday", "", 1764581400])
def test_epoch_ms_refuses_a_time_without_a_zone_or_not_a_time(text):
    with pytest.raises(InputError, match="ISO 8601 time with a zone") as caught:
        epoch_ms("until", text)
    assert caught.value.option == "until"


def test_an_entry_quoting_a_secret_is_masked(harness):
    answer = entries(1, 1)
    answer[0]["details"] = "POST https://hooks.example.test/in?access_token=%s failed" % "hook-secret-123"
    answer[0]["extra"] = {"headers": ["Authorization: Bearer abc.def"]}
    harness.expect("POST", LOGS, body={"logs": answer})
    found, = harness.client().logs.entries("webhook")
    assert "hook-secret-123" not in found["details"] and "abc.def" not in str(found["extra"])
    assert found["device_id"] == "d1"


def test_a_credential_member_of_an_entry_is_masked_whatever_its_value(harness):
    answer = entries(1, 1)
    answer[0]["account"] = {"license_key": "LK-never-told-1234"}
    harness.expect("POST", LOGS, body={"logs": answer})
    found, = harness.client().logs.entries("webhook")
    assert found["account"] == {"license_key": MASK}


def test_an_entry_whose_masked_json_breaks_is_masked_string_by_string(harness):
    # The masked JSON text would lose the escape of the quote that follows the value: each string is masked alone.
    answer = entries(1, 1)
    answer[0]["details"] = 'GET /in?access_token=tok-1234"then'
    harness.expect("POST", LOGS, body={"logs": answer})
    found, = harness.client().logs.entries("webhook")
    assert found["details"] == 'GET /in?access_token=%s"then' % MASK
