# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rulebook's playbook, opswat.it_access.quarantine_from_events, given an event as ansible-rulebook passes it
(the extra variable ansible_eda), against the simulator: who it moves, what it reads, idempotence."""

from __future__ import absolute_import, division, print_function

import pytest

from conftest import requests_by_endpoint, run_playbook, start_simulator, write_entries

PLAYBOOK = "opswat.it_access.quarantine_from_events"


@pytest.fixture
def simulator():
    with start_simulator(devices=60, seed=5) as sim:
        yield sim


def payload(device, **fields):
    values = {"event": "device_status_changed", "device_id": device["device_id"], "device_name": device["device_name"],
              "status": device["status"], "previous_status": "compliant", "severity": device["severity"],
              "group_name": device["group_name"], "observed_at": "2026-12-01T17:00:00.000Z"}
    values.update(fields)
    return values


def candidates(sim, count):
    devices = [device for device in sim.fleet.devices
               if device["status"] == "non_compliant" and device["severity"] == "critical"
               and device["group_name"] != "Quarantine"][:count]
    assert len(devices) == count
    return devices


def group_of(sim, device):
    return sim.fleet.device(device["device_id"])["group_name"]


def test_a_batch_moves_its_critical_non_compliant_devices_in_one_write_and_again_writes_nothing(simulator, tmp_path):
    critical, unknown_severity = candidates(simulator, 2)
    compliant = [device for device in simulator.fleet.devices if device["status"] == "compliant"][0]
    event = {"opswat": {"event": "device_status_batch", "devices": [
        payload(critical), payload(unknown_severity, severity=None), payload(compliant)]}}
    simulator.clear_log()
    run_playbook(simulator, tmp_path, PLAYBOOK, extra_vars={"ansible_eda": {"event": event}}, inventory=False)
    writes = write_entries(simulator)
    assert len(writes) == 1
    assert sorted(writes[0]["body"]["ids"]) == sorted([critical["device_id"], unknown_severity["device_id"]])
    assert [group_of(simulator, device) for device in (critical, unknown_severity)] == ["Quarantine"] * 2
    assert group_of(simulator, compliant) != "Quarantine"
    # the device without a severity was read (and only it), before the move read its targets
    assert requests_by_endpoint(simulator, "detail")[0]["body"]["ids"] == [unknown_severity["device_id"]]

    simulator.clear_log()  # the same event delivered again: read, nothing to write
    run_playbook(simulator, tmp_path, PLAYBOOK, extra_vars={"ansible_eda": {"event": event}}, inventory=False)
    assert write_entries(simulator) == []


def test_a_per_device_event_moves_that_device(simulator, tmp_path):
    device = candidates(simulator, 1)[0]
    run_playbook(simulator, tmp_path, PLAYBOOK, inventory=False,
                 extra_vars={"ansible_eda": {"event": {"opswat": payload(device)}}, "quarantine_group": "Quarantine"})
    assert group_of(simulator, device) == "Quarantine"
