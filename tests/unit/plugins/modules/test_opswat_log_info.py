# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_log_info through main(), on the fake API: the query sent, newest first, device_id, max_entries, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.modules.opswat_log_info import main

LOGS = "/o/api/v3.3/logs"
BASE_MS = 1764581400000  # 2025-12-01T09:30:00Z


def entry(number, device_id=None, seconds_ago=None):
    return {"timestamp": BASE_MS - 1000 * (number if seconds_ago is None else seconds_ago), "event": "exempt",
            "device_id": device_id or "d%d" % number, "admin": "admin@example.com", "source": "api"}


def test_reads_the_window_and_returns_the_entries_newest_first(module_harness):
    # The API's order is not documented: an answer oldest first is returned newest first too.
    module_harness.expect("POST", LOGS, json_body={"event_category": "admin", "limit": 100, "age": 600,
                                                   "filter": {"events": ["exempt"]}},
                          body={"logs": [entry(3), entry(1), entry(2)]})
    result = module_harness.run(main, category="admin", events=["exempt"], age=600)
    assert result.exit_code == 0, result.text
    assert result["changed"] is False
    assert [item["device_id"] for item in result["entries"]] == ["d1", "d2", "d3"]
    assert result["entries"][0]["occurred_at"] == "2025-12-01T09:29:59.000Z"
    assert result["api_requests"] == dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)
    assert result.leaked() == []


def test_since_and_until_are_sent_in_epoch_milliseconds(module_harness):
    module_harness.expect("POST", LOGS, json_body={"event_category": "device", "limit": 100,
                                                   "start_time": BASE_MS - 3600000, "end_time": BASE_MS},
                          body={"logs": []})
    result = module_harness.run(main, category="device", since="2025-12-01T09:30:00+01:00",
                                until="2025-12-01T09:30:00Z")
    assert result.exit_code == 0, result.text
    assert result["entries"] == []


def test_device_id_is_matched_here_across_pages_without_regard_to_case(module_harness):
    module_harness.expect("POST", LOGS, json_body={"event_category": "admin", "limit": 100},
                          body={"logs": [entry(1, "AB12"), entry(2, "other")], "next_token": "t1"})
    module_harness.expect("POST", LOGS, json_body={"event_category": "admin", "limit": 100, "token": "t1"},
                          body={"logs": [entry(3, "ab12"), entry(4, "other")]})
    result = module_harness.run(main, category="admin", device_id="ab12")
    assert [item["device_id"] for item in result["entries"]] == ["AB12", "ab12"]
    assert result["api_requests"]["requests"] == 2


def test_max_entries_with_a_device_filter_stops_when_it_has_them(module_harness):
    module_harness.expect("POST", LOGS, json_body={"event_category": "admin", "limit": 100},
                          body={"logs": [entry(1, "other"), entry(2, "ab12")], "next_token": "t1"})
    result = module_harness.run(main, category="admin", device_id="ab12", max_entries=1)
    assert [item["device_id"] for item in result["entries"]] == ["ab12"]
    assert result["api_requests"]["requests"] == 1


def test_max_entries_asks_no_more_than_it_needs(module_harness):
    module_harness.expect("POST", LOGS, json_body={"event_category": "admin", "limit": 2},
                          body={"logs": [entry(1), entry(2)], "next_token": "t1"})
    result = module_harness.run(main, category="admin", max_entries=2)
    assert len(result["entries"]) == 2
    assert result["api_requests"]["requests"] == 1


def test_check_mode_reads_the_same_entries(module_harness):
    module_harness.expect("POST", LOGS, body={"logs": [entry(1)]})
    result = module_harness.run(main, check_mode=True, category="admin")
    assert result["changed"] is False
    assert len(result["entries"]) == 1


@pytest.mark.parametrize("params, message", [
    (dict(since="2025-12-01T10:00:00Z", until="2025-12-01T09:00:00Z"), "since: must not be after until"),
    (dict(age=86401), "age: must be an integer number of seconds from 1 to 86400"),
    (dict(age=0), "age: must be an integer number of seconds from 1 to 86400"),
    (dict(age=60, since="2025-12-01T10:00:00Z"), "mutually exclusive: age|since"),
    (dict(since="yesterday"), "since: must be an ISO 8601 time with a zone"),
    (dict(until="2025-12-01T10:00:00"), "until: must be an ISO 8601 time with a zone"),
    (dict(category="device_report", events=["x"]), "events: the API's events filter does not apply"),
    (dict(max_entries=0), "max_entries: must be at least 1"),
    (dict(category="audit"), "value of category must be one of"),
])
def test_bad_input_fails_before_any_request(module_harness, params, message):
    params.setdefault("category", "admin")
    result = module_harness.run(main, **params)
    assert result.exit_code == 1
    assert message in result["msg"], result["msg"]
    assert module_harness.transport.calls == []
