# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The device_status source's logic: its checkpoint file, each poll's window, which records become events."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import tempfile

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils import status_events
from ansible_collections.opswat.it_access.plugins.plugin_utils.status_events import (
    Checkpoint, load_checkpoint, new_changes, poll_age, save_checkpoint, window_covered)

ACCOUNT = {"api_url": "https://tenant.example.test", "client_id": "client-key-1"}
NOW = 1764600000.0


def record(device_id, status="non-compliant", **fields):
    values = dict(device_id=device_id, status=status, severity="critical", group_name="Default", device_name="PC")
    values.update(fields)
    return values


def test_poll_age_reaches_back_by_the_overlap_and_the_slack_in_whole_seconds():
    assert poll_age(NOW - 60, NOW, overlap=30) == (90, False)
    assert poll_age(NOW - 60.2, NOW, overlap=30, slack=4.5) == (95, False)
    assert poll_age(NOW, NOW, overlap=0) == (1, False)  # the API's age is at least 1


def test_poll_age_is_clipped_to_the_24_hours_the_api_keeps_and_says_so():
    assert poll_age(NOW - 2 * 86400, NOW, overlap=30) == (86400, True)


def test_a_poll_whose_answer_came_late_leaves_a_gap_and_keeps_the_window():
    assert window_covered(NOW - 60, NOW, 90)
    assert not window_covered(NOW - 60, NOW + 31, 90)  # its window began after the last one ended
    assert window_covered(None, NOW, 1)


def test_a_record_seen_again_is_no_change_and_a_new_status_is_one_with_the_previous():
    checkpoint = Checkpoint(ACCOUNT, NOW, {"a": {"status": "non_compliant", "changed_at": None, "seen": NOW}})
    changes = new_changes(checkpoint, [record("A"), record("b"), record("a", "compliant")], None, "t", NOW)
    # ids are matched without regard to case: "A" is the device a, seen again
    assert [(change.key, change.payload["status"], change.payload["previous_status"]) for change in changes] == [
        ("b", "non_compliant", None), ("a", "compliant", "non_compliant")]
    assert changes[0].payload["event"] == "device_status_changed"
    assert changes[0].entry == {"status": "non_compliant", "changed_at": None, "seen": NOW}


def test_the_api_previous_status_wins_over_the_checkpoint_and_statuses_filters_payloads_only():
    checkpoint = Checkpoint(ACCOUNT, NOW, {"a": {"status": "compliant", "changed_at": None, "seen": NOW}})
    changes = new_changes(checkpoint, [record("a", previous_status="exempted"), record("b", "compliant")],
                          ["non_compliant"], "t", NOW)
    assert changes[0].payload["previous_status"] == "exempted"
    assert changes[1].payload is None and changes[1].entry["status"] == "compliant"


def test_old_entries_are_forgotten_once_the_api_cannot_report_them_again():
    checkpoint = Checkpoint(ACCOUNT, NOW, {"old": {"status": "compliant", "seen": NOW - 90001},
                                           "new": {"status": "compliant", "seen": NOW - 3600}})
    checkpoint.forget_old(NOW)
    assert list(checkpoint.devices) == ["new"]


def test_the_checkpoint_round_trips_through_a_private_file_replaced_atomically(tmp_path):
    path = str(tmp_path / "dir" / "checkpoint.json")
    assert load_checkpoint(path, ACCOUNT).covered_until is None  # no file: a new checkpoint
    save_checkpoint(path, Checkpoint(ACCOUNT, NOW, {"a": {"status": "compliant", "changed_at": None, "seen": NOW}}))
    loaded = load_checkpoint(path, ACCOUNT)
    assert (loaded.covered_until, loaded.devices["a"]["status"]) == (NOW, "compliant")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(os.path.dirname(path)) == ["checkpoint.json"]  # no temporary file left


@pytest.mark.parametrize("content, message", [
    ("not json", "not a checkpoint of this source"),
    (json.dumps({"format": 2}), "not a checkpoint of this source"),
    (json.dumps({"format": 1, "account": ACCOUNT, "covered_until": "yesterday", "devices": {}}), "covered_until"),
    (json.dumps({"format": 1, "account": dict(ACCOUNT, client_id="other"), "covered_until": None,
                 "devices": {}}), "another account"),
])
def test_a_file_that_is_not_this_accounts_checkpoint_is_refused(tmp_path, content, message):
    path = tmp_path / "checkpoint.json"
    path.write_text(content)
    with pytest.raises(InputError, match="checkpoint_path: .*%s" % message):
        load_checkpoint(str(path), ACCOUNT)


def test_a_symlink_in_place_of_the_checkpoint_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(Checkpoint(ACCOUNT).to_bytes().decode())
    os.symlink(str(target), str(tmp_path / "checkpoint.json"))
    with pytest.raises(InputError, match="symlink"):
        load_checkpoint(str(tmp_path / "checkpoint.json"), ACCOUNT)


def test_the_default_checkpoint_is_per_account_in_the_users_state_directory():
    one = status_events.default_checkpoint_path(ACCOUNT)
    other = status_events.default_checkpoint_path(dict(ACCOUNT, client_id="other"))
    assert one != other and os.path.dirname(one) == os.path.dirname(other)
    assert os.path.dirname(one).startswith(tempfile.gettempdir())


def test_the_batch_event_holds_the_per_device_payloads():
    assert status_events.batch_payload([{"device_id": "a"}]) == {
        "opswat": {"event": "device_status_batch", "devices": [{"device_id": "a"}]}}
