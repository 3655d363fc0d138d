# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's incremental refresh: the kept fleet, the change window, the merge and the check's count."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.opswat.it_access.plugins.plugin_utils import inventory_refresh
from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory_refresh import (
    CHANGE_WINDOW_OVERLAP_SECONDS, RefreshBase, base_path, change_window, merge_changes, monitored_count, read_base,
    write_base)
from ansible_collections.opswat.it_access.tests.unit.plugins.inventory_devices_data import device


def listed(number, **fields):
    """A device as a listing gives it, enrolled ``number`` minutes after midnight."""
    values = dict(enrolled_at="2026-11-30T%02d:%02d:00Z" % (number // 60, number % 60))
    values.update(fields)
    return device(number, **values)


def detail(number, **fields):
    """The same device as Device Details answers it: its issue counts spelled otherwise, and an agent type."""
    record = listed(number, **fields)
    issue = record.pop("issue")
    record["issue"] = {"total_issue": issue["total_issue"], "total_critical_issue": issue["total_critical"],
                       "total_warning_issue": issue["total_warning"]}
    record["agent_type"] = "persistent"
    return record


def ids(devices):
    return [entry["device_id"] for entry in devices]


# ------------------------------------------------------------------------------------------------ the window


def base(devices=None, listed_at=1000.0, checked_at=2000.0):
    return RefreshBase([listed(1)] if devices is None else devices, listed_at, checked_at)


def test_the_window_reaches_back_to_the_last_refresh_with_an_overlap():
    assert change_window(base(), 2600.4, 86400) == (601 + CHANGE_WINDOW_OVERLAP_SECONDS, None)


@pytest.mark.parametrize("kept, now, interval, reason", [
    (None, 2600.0, 86400, "no fleet of an earlier refresh"),
    (base(devices=[]), 2600.0, 86400, "was empty"),
    (base(), 1999.0, 86400, "the clock is before the last refresh"),
    (base(listed_at=1000.0), 4600.0, 3600, "older than full_refresh_interval (3600 s)"),
    # The full listing is recent enough, but the last refresh too old for the changes the API keeps.
    (base(listed_at=1000.0, checked_at=1000.0), 1000.0 + 86400 - 60, 86400, "older than the 86400 s of changes"),
])
def test_a_full_listing_when_changes_cannot_tell_what_changed(kept, now, interval, reason):
    age, why = change_window(kept, now, interval)
    assert age is None
    assert reason in why


# ------------------------------------------------------------------------------------------------ the merge


def test_a_changed_device_takes_the_listing_shape_in_its_place():
    fleet = [listed(1), listed(2), listed(3)]
    fresh = detail(2, status="non_compliant", severity="critical",
                   issue={"total_issue": 1, "total_critical": 1, "total_warning": 0})
    merged = merge_changes(fleet, [fresh["device_id"]], [fresh], [], {})
    expected = listed(2, status="non_compliant", severity="critical",
                      issue={"total_issue": 1, "total_critical": 1, "total_warning": 0})
    assert merged == [fleet[0], expected, fleet[2]]
    # The same field names as a listed device, in the same order: no agent_type, no *_issue spelling.
    assert list(merged[1]) == list(fleet[1])
    assert list(merged[1]["issue"]) == ["total_issue", "total_critical", "total_warning"]


def test_a_field_device_details_does_not_send_keeps_its_listed_value():
    fleet = [listed(1, last_seen="2026-11-30T10:00:00Z")]
    fresh = detail(1, status="exempted")
    merged = merge_changes(fleet, ids(fleet), [fresh], [], {})
    assert merged[0]["last_seen"] == "2026-11-30T10:00:00Z"
    assert merged[0]["status"] == "exempted"


def test_the_status_is_given_the_listing_spelling():
    fleet = [listed(1)]
    merged = merge_changes(fleet, ids(fleet), [detail(1, status="non-compliant")], [], {})
    assert merged[0]["status"] == "non_compliant"


def test_deleted_devices_and_changed_ones_details_no_longer_know_are_dropped():
    fleet = [listed(1), listed(2), listed(3), listed(4)]
    # 2 is deleted; 3 changed but Device Details does not know it any more (deleted since).
    merged = merge_changes(fleet, [fleet[2]["device_id"].upper()], [], [fleet[1]["device_id"]], {})
    assert ids(merged) == ids([fleet[0], fleet[3]])


def test_new_devices_take_their_place_by_enrolment_time():
    fleet = [listed(10), listed(20), listed(30)]
    # 25: matches the filter since its change (enrolled long ago); 40: enrolled since the last refresh.
    fresh = [detail(40, status="non_compliant"), detail(25, status="non_compliant")]
    merged = merge_changes([dict(entry, status="non_compliant") for entry in fleet], ids(fresh), fresh, [],
                           {"status": set(["non_compliant"])})
    assert [entry["device_name"] for entry in merged] == ["dev-10", "dev-20", "dev-25", "dev-30", "dev-40"]
    assert "agent_type" not in merged[2]


def test_a_device_no_change_names_is_not_taken_from_the_answer():
    fleet = [listed(1), listed(2)]
    stray = detail(3)  # Device Details answered a device it was not asked for
    merged = merge_changes(fleet, [fleet[0]["device_id"]], [detail(1, status="exempted"), stray], [], {})
    assert ids(merged) == ids(fleet)


def test_new_devices_go_last_when_an_enrolment_time_is_missing():
    fleet = [listed(10, enrolled_at=None), listed(30)]
    fresh = [detail(20)]
    assert [entry["device_name"] for entry in merge_changes(fleet, ids(fresh), fresh, [], {})] == [
        "dev-10", "dev-30", "dev-20"]


def test_a_device_that_no_longer_matches_the_filters_leaves():
    fleet = [listed(1, status="non_compliant"), listed(2, status="non_compliant")]
    fresh = detail(1, status="compliant")
    merged = merge_changes(fleet, [fresh["device_id"]], [fresh], [], {"status": set(["non_compliant"])})
    assert ids(merged) == [fleet[1]["device_id"]]


def test_without_a_listed_device_the_detail_only_fields_are_left_out():
    fresh = detail(1)
    merged = merge_changes([], [fresh["device_id"]], [fresh], [], {})
    assert "agent_type" not in merged[0]
    assert merged[0]["issue"] == {"total_issue": 0, "total_critical": 0, "total_warning": 0}


def test_monitored_devices_are_those_account_details_counts():
    statuses = ["compliant", "non_compliant", "exempted", "unknown", "ignored", "out_of_license_usage", "installed",
                "pending", "quarantined"]
    assert monitored_count([listed(index, status=status) for index, status in enumerate(statuses)]) == 6


# ------------------------------------------------------------------------------------------------ the kept fleet


@pytest.fixture
def state_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(inventory_refresh, "state_directory", lambda: str(tmp_path / "state"))
    return tmp_path / "state"


def test_the_fleet_is_kept_privately_and_read_back(state_dir):
    path = base_path("devices_abc")
    assert os.path.dirname(path) == str(state_dir)
    kept = RefreshBase([listed(1), listed(2)], 1000.0, 2000.5)
    write_base(path, kept)
    assert os.stat(path).st_mode & 0o777 == 0o600
    again = read_base(path)
    assert (again.devices, again.listed_at, again.checked_at) == (kept.devices, 1000.0, 2000.5)
    # One file per cache entry, named without the key itself.
    assert base_path("devices_abc") != base_path("devices_abd")
    assert "devices_abc" not in base_path("devices_abc")


@pytest.mark.parametrize("content", [
    b"", b"not json", b"[]", b'{"format": 999, "listed_at": 1, "checked_at": 2, "devices": []}',
    b'{"format": 1, "listed_at": 3, "checked_at": 2, "devices": []}',
    b'{"format": 1, "listed_at": true, "checked_at": 2, "devices": []}',
    b'{"format": 1, "listed_at": 1, "checked_at": 2, "devices": {}}',
    b'{"format": 1, "listed_at": 1, "checked_at": 2, "devices": [{"device_id": "a", "status": ["x"]}]}',
])
def test_a_file_this_version_did_not_write_is_no_fleet(state_dir, content):
    path = base_path("devices_abc")
    write_base(path, RefreshBase([], 1.0, 2.0))
    with open(path, "wb") as handle:
        handle.write(content)
    assert read_base(path) is None


def test_no_file_is_no_fleet(state_dir):
    assert read_base(base_path("never written")) is None


def test_kept_values_cannot_render_as_templates(state_dir):
    evil = listed(1, device_name="{{ lookup('env','HOME') }}")
    path = base_path("devices_abc")
    write_base(path, RefreshBase([evil], 1.0, 2.0))
    assert json.loads(json.dumps(read_base(path).devices)) == [evil]
    assert type(read_base(path).devices[0]["device_name"]) is str  # pylint: disable=unidiomatic-typecheck
