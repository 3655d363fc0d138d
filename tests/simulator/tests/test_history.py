# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's change history: what records into it, its stamps, and the change controls (Python and /_sim)."""

import pytest
import requests

from itaccess_sim.fleet import Fleet


def _first(fleet, status, agent=None):
    return next(device for device in fleet.devices
                if device["status"] == status and (agent is None or device["_sim"]["agent"] == agent))


def _events(sim):
    return [(entry["event"], entry["device_id"], entry["previous_status"], entry["status"]) for entry in sim.history()]


def test_generated_fleet_has_no_history():
    assert not Fleet(300, 4).history


def test_device_actions_record_status_changes(api):
    fleet = api.sim.fleet
    compliant = _first(fleet, "compliant", "persistent")["device_id"]
    unknown = _first(fleet, "unknown")["device_id"]
    assert api.action("exempt", ids=[compliant], params={"exempt_time": 0}).json()[0]["status"] == 1
    # Exempting an exempted device restarts its clock but changes no status: nothing recorded.
    assert api.action("exempt", ids=[compliant], params={"exempt_time": 0}).json()[0]["status"] == 1
    assert api.action("unexempt", ids=[compliant]).json()[0]["status"] == 1
    assert api.action("ignore", ids=[unknown]).json()[0]["status"] == 1
    assert api.action("unignore", ids=[unknown]).json()[0]["status"] == 1
    assert api.action("delete", ids=[compliant]).json()[0]["status"] == 1
    assert _events(api.sim) == [
        ("status", compliant, "compliant", "exempted"), ("status", compliant, "exempted", "compliant"),
        ("status", unknown, "unknown", "ignored"), ("status", unknown, "ignored", "unknown"),
        ("deleted", compliant, "compliant", None),
    ]


def test_actions_that_change_no_status_record_nothing(api):
    device = _first(api.sim.fleet, "compliant", "persistent")["device_id"]
    assert api.action("dhcprenew", ids=[device]).json()[0]["status"] == 1
    assert api.action("assign_to_group", ids=[device], params={"group_id": "default"}).json()[0]["status"] == 1
    assert not api.sim.history()


def test_expired_exemption_is_stamped_when_it_ended(api):
    device = _first(api.sim.fleet, "non_compliant", "persistent")["device_id"]
    assert api.action("exempt", ids=[device], params={"exempt_time": 1}).json()[0]["status"] == 1
    exempted_at = api.sim.history()[0]["time"]
    api.sim.advance_clock(5 * 3600)
    assert api.sim.fleet.device(device)["status"] == "non_compliant"
    ended = api.sim.history()[-1]
    assert (ended["event"], ended["previous_status"], ended["status"]) == ("status", "exempted", "non_compliant")
    assert ended["time"] == pytest.approx(exempted_at + 3600, abs=1)


def test_change_status_stamps_in_the_past_and_keeps_issues_coherent(make_sim):
    sim = make_sim()
    device = _first(sim.fleet, "compliant")
    before = sim.fleet.now()
    sim.change_status(device["device_id"], "non_compliant", seconds_ago=600)
    entry = sim.history()[-1]
    assert entry["time"] == pytest.approx(before - 600, abs=5)
    assert device["status"] == "non_compliant" and device["severity"] == "critical"
    assert device["issue"]["total_critical"] >= 1
    assert device["issue"]["total_issue"] == device["issue"]["total_critical"] + device["issue"]["total_warning"]
    sim.change_status(device["device_id"], "compliant")
    assert device["issue"]["total_critical"] == 0 and device["severity"] != "critical"
    # A status set to itself is no change.
    sim.change_status(device["device_id"], "compliant")
    assert len(sim.history()) == 2


def test_change_status_to_and_from_exempted(make_sim):
    sim = make_sim()
    device = _first(sim.fleet, "non_compliant", "persistent")
    sim.change_status(device["device_id"], "exempted")
    assert device["_sim"]["prev_status"] == "non_compliant"
    sim.change_status(device["device_id"], "compliant")
    assert device["_sim"]["prev_status"] is None and device["_sim"]["exempt_until"] is None


def test_enrol_device_is_listed_last_and_recorded(api):
    device_id = api.sim.enrol_device(status="non_compliant", device_type="server", os_type="linux", group_name="Servers")
    listed = api.all_devices()
    assert listed[-1]["device_id"] == device_id and len(listed) == 201
    assert (listed[-1]["status"], listed[-1]["group_name"], listed[-1]["os_info"]["type"]) == ("non_compliant", "Servers", "linux")
    assert _events(api.sim) == [("enrolled", device_id, None, "non_compliant")]
    assert api.detail([device_id]).json()[0]["device_id"] == device_id


def test_delete_device_control(api):
    device = api.sim.fleet.devices[10]
    api.sim.delete_device(device["device_id"], seconds_ago=30)
    assert api.sim.fleet.device(device["device_id"]) is None
    assert _events(api.sim) == [("deleted", device["device_id"], device["status"], None)]


def test_random_changes_are_deterministic():
    first, second = Fleet(500, 2), Fleet(500, 2)
    assert first.random_changes(40, 9, deletions=5) == second.random_changes(40, 9, deletions=5)
    assert first.devices == second.devices
    other = Fleet(500, 2).random_changes(40, 10, deletions=5)
    assert other != first.random_changes(40, 9, deletions=5)


def test_random_changes_change_every_picked_status():
    fleet = Fleet(500, 2)
    before = {device["device_id"]: device["status"] for device in fleet.devices}
    result = fleet.random_changes(60, 3, deletions=4)
    assert len(set(result["changed"])) == 60 and len(set(result["deleted"])) == 4
    for device_id in result["changed"]:
        assert fleet.device(device_id)["status"] in ("compliant", "non_compliant")
        assert fleet.device(device_id)["status"] != before[device_id]
    assert all(fleet.device(device_id) is None for device_id in result["deleted"])
    assert len(fleet.devices) == 496 and len(fleet.history) == 64


@pytest.mark.parametrize("call, message", [
    (lambda fleet: fleet.change_status("nope", "compliant"), "no device"),
    (lambda fleet: fleet.change_status(fleet.devices[0]["device_id"], "non-compliant"), "status must be one of"),
    (lambda fleet: fleet.change_status(fleet.devices[0]["device_id"], "compliant", seconds_ago=-1), "seconds_ago"),
    (lambda fleet: fleet.enrol_device(group_name="Nowhere"), "no group"),
    (lambda fleet: fleet.enrol_device(os_type="beos"), "os_type"),
    (lambda fleet: fleet.random_changes(11, 1), "only 10 devices"),
    (lambda fleet: fleet.random_changes(True, 1), "count"),
])
def test_controls_refuse_bad_input(call, message):
    fleet = Fleet(10, 1)
    with pytest.raises(ValueError, match=message):
        call(fleet)
    assert not fleet.history


def test_control_endpoints(make_sim):
    sim = make_sim()

    def post(path, body):
        return requests.post(sim.url + path, json=body, timeout=10)

    target = sim.fleet.devices[0]["device_id"]
    assert post("/_sim/change_status", {"device_id": target, "status": "exempted", "seconds_ago": 5}).json() == {"device_id": target}
    enrolled = post("/_sim/enrol_device", {"status": "pending"}).json()["device_id"]
    assert post("/_sim/delete_device", {"device_id": sim.fleet.devices[1]["device_id"]}).status_code == 200
    changes = post("/_sim/random_changes", {"count": 3, "seed": 4, "deletions": 1}).json()
    assert len(changes["changed"]) == 3 and len(changes["deleted"]) == 1
    history = requests.get(sim.url + "/_sim/history", timeout=10).json()
    assert [entry["event"] for entry in history][:3] == ["status", "enrolled", "deleted"] and len(history) == 7
    assert history[1]["device_id"] == enrolled
    for path, body in (("/_sim/change_status", {"device_id": "nope", "status": "compliant"}),
                       ("/_sim/change_status", {"device_id": target}), ("/_sim/enrol_device", {"colour": "red"}),
                       ("/_sim/random_changes", {"count": -1})):
        response = post(path, body)
        assert response.status_code == 400 and response.json()["error"], (path, body)
    assert len(sim.history()) == 7
