# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Device Action v3.0-v3.3: the "applies to" matrix, state changes, command ids, shapes and validation."""

import pytest

from sim_helpers import check

ACTIONS = ("exempt", "unexempt", "ignore", "unignore", "delete", "dhcprenew", "re-identify", "assign_to_group",
           "fetch_agent_log", "scan_threats")


def _version(text):
    return tuple(int(part) for part in text.split("."))


def expected_status(action, device, version):
    """The "Apply" table of Device Action (docs/dev/api-notes.md), restated independently of the simulator's code."""
    status, agent, os_type = device["status"], device["_sim"]["agent"], device["_sim"]["os"]
    agent_version = _version(device["agent_version"]) if device["agent_version"] else ()

    def at_least(windows, mac):
        minimum = {"windows": windows, "mac": mac}.get(os_type)
        return agent == "persistent" and minimum is not None and agent_version >= minimum

    rules = {
        "exempt": status not in ("unknown", "ignored", "out_of_license_usage")
        and not (agent == "domain_controller" and version >= (3, 2)),
        "ignore": status == "unknown",
        "unignore": status == "ignored",
        "delete": True,
        "dhcprenew": agent == "persistent",
        "re-identify": (status not in ("unknown", "ignored", "out_of_license_usage") if version < (3, 2)
                        else agent == "mobile" or at_least((7, 6, 71, 0), (10, 4, 123, 0))),
        "assign_to_group": agent != "domain_controller",
        "fetch_agent_log": at_least((7, 6, 231, 0), (10, 4, 225, 0)),
        "scan_threats": at_least((7, 6, 206, 0), (10, 4, 205, 0)),
    }
    rules["unexempt"] = rules["exempt"]
    return 1 if rules[action] else -1


def _sample(devices):
    """One device per distinct combination of what decides applicability."""
    chosen = {}
    for device in devices:
        version = device["agent_version"] or "0"
        key = (device["status"], device["_sim"]["agent"], device["_sim"]["os"],
               tuple(_version(version) >= threshold for threshold in ((7, 6, 71, 0), (7, 6, 206, 0), (7, 6, 231, 0),
                                                                      (10, 4, 123, 0), (10, 4, 205, 0), (10, 4, 225, 0))))
        chosen.setdefault(key, device)
    return list(chosen.values())


# scan_threats came with v3.2: test_types_by_version checks that v3.1 refuses it.
@pytest.mark.parametrize("action, version", [(action, version) for version in ("3.1", "3.3") for action in ACTIONS
                                             if (action, version) != ("scan_threats", "3.1")])
def test_applicability_matrix(make_api, action, version):
    api = make_api(devices=1500)
    sample = _sample(api.sim.fleet.devices)
    kinds = {(device["_sim"]["agent"], device["status"]) for device in sample}
    # The sample must cover every agent type and the statuses the table singles out.
    assert {agent for agent, _status in kinds} == {"persistent", "on_demand", "mobile", "domain_controller", "none"}
    assert {"unknown", "ignored", "out_of_license_usage", "exempted", "compliant"} <= {status for _agent, status in kinds}
    expected = {device["device_id"]: expected_status(action, device, _version(version)) for device in sample}
    assert set(expected.values()) == ({1} if action == "delete" else {1, -1})
    ids = list(expected)
    results = []
    for start in range(0, len(ids), 49):
        results += check("action.response.json", api.action(action, ids=ids[start:start + 49] + ["0" * 32], version=version))
    got = {result["id"]: result["status"] for result in results}
    assert got.pop("0" * 32) == 0
    assert got == expected
    for result in results:
        assert (result["command_id"] != "") == (action in ("fetch_agent_log", "scan_threats") and result["status"] == 1)


def _device(api, predicate):
    return next(device for device in api.sim.fleet.devices if predicate(device))


def _status_via_api(api, device_id):
    return api.detail([device_id]).json()[0]["status"]


@pytest.mark.parametrize("initial", ["compliant", "non_compliant", "installed", "quarantined"])
def test_exempt_then_unexempt_restores_status(make_api, initial):
    api = make_api(devices=600)
    device = _device(api, lambda d: d["status"] == initial and d["_sim"]["agent"] != "domain_controller")
    assert api.action("exempt", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert _status_via_api(api, device["device_id"]) == "exempted"
    assert api.devices({"limit": 50}).status_code == 200
    assert api.action("unexempt", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert _status_via_api(api, device["device_id"]) == initial


def test_unexempt_of_a_device_that_is_not_exempted_changes_nothing(api):
    device = _device(api, lambda d: d["status"] == "non_compliant" and d["_sim"]["agent"] != "domain_controller")
    assert api.action("unexempt", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert _status_via_api(api, device["device_id"]) == "non_compliant"


def test_generated_exempted_devices_unexempt_to_their_previous_status(api):
    device = _device(api, lambda d: d["status"] == "exempted" and d["_sim"]["agent"] != "domain_controller")
    previous = device["_sim"]["prev_status"]
    assert previous in ("compliant", "non_compliant")
    api.action("unexempt", ids=[device["device_id"]])
    assert _status_via_api(api, device["device_id"]) == previous


def test_exemption_expires_and_reexempt_restarts_the_clock(api):
    device = _device(api, lambda d: d["status"] == "compliant" and d["_sim"]["agent"] == "persistent")
    device_id = device["device_id"]
    assert api.action("exempt", ids=[device_id], params={"exempt_time": 2}).json()[0]["status"] == 1
    api.sim.advance_clock(1.5 * 3600)
    assert _status_via_api(api, device_id) == "exempted"
    # Exempting again answers 1 and restarts the two hours from now.
    assert api.action("exempt", ids=[device_id], params={"exempt_time": 2}).json()[0]["status"] == 1
    api.sim.advance_clock(1 * 3600)
    assert _status_via_api(api, device_id) == "exempted"
    api.sim.advance_clock(1.1 * 3600)
    assert _status_via_api(api, device_id) == "compliant"
    listed = {d["device_id"]: d["status"] for d in api.all_devices()}
    assert listed[device_id] == "compliant"


def test_exempt_forever(api):
    device = _device(api, lambda d: d["status"] == "non_compliant" and d["_sim"]["agent"] == "persistent")
    assert api.action("exempt", ids=[device["device_id"]], params={"exempt_time": 0}).json()[0]["status"] == 1
    api.sim.advance_clock(20 * 365 * 86400)
    assert _status_via_api(api, device["device_id"]) == "exempted"


def test_ignore_and_unignore(api):
    device = _device(api, lambda d: d["status"] == "unknown")
    assert api.action("ignore", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert _status_via_api(api, device["device_id"]) == "ignored"
    assert api.action("ignore", ids=[device["device_id"]]).json()[0]["status"] == -1
    assert api.action("unignore", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert _status_via_api(api, device["device_id"]) == "unknown"


def test_delete(api):
    device = api.sim.fleet.devices[20]
    assert api.action("delete", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert api.detail([device["device_id"]]).status_code == 404
    assert api.sim.fleet.device(device["device_id"]) is None
    assert api.sim.fleet.device(device["network_info"][0]["mac"]) is None
    assert api.action("delete", ids=[device["device_id"]]).json()[0]["status"] == 0


def test_assign_to_group(api):
    device = _device(api, lambda d: d["group_name"] == "Default" and d["_sim"]["agent"] != "domain_controller")
    finance = next(group for group in api.sim.fleet.groups if group["group_name"] == "Finance")
    result = api.action("assign_to_group", ids=[device["device_id"]], params={"group_id": finance["group_id"]}).json()
    assert result == [{"id": device["device_id"], "status": 1, "command_id": ""}]
    assert api.detail([device["device_id"]]).json()[0]["group_name"] == "Finance"
    # Unknown group: per-device 0 with HTTP 200 (docs/dev/api-notes.md, Device Action); nothing changes.
    assert api.action("assign_to_group", ids=[device["device_id"]], params={"group_id": "nope"}).json()[0]["status"] == 0
    assert api.detail([device["device_id"]]).json()[0]["group_name"] == "Finance"
    # Without params the target is the default group; assigning to the current group answers 1.
    assert api.action("assign_to_group", ids=[device["device_id"]]).json()[0]["status"] == 1
    assert api.detail([device["device_id"]]).json()[0]["group_name"] == "Default"
    assert api.action("assign_to_group", ids=[device["device_id"]]).json()[0]["status"] == 1


def test_command_ids_are_unique(make_api):
    api = make_api(devices=600)
    eligible = [d["device_id"] for d in api.sim.fleet.devices if expected_status("scan_threats", d, (3, 3)) == 1][:10]
    first = api.action("scan_threats", ids=eligible, params={"full_scan": 0, "scan_types": [0, 4], "path": "C:\\Temp"}).json()
    second = api.action("fetch_agent_log", ids=eligible).json()
    commands = [result["command_id"] for result in first + second if result["status"] == 1]
    assert len(commands) >= 10 and all(commands) and len(set(commands)) == len(commands)


def test_dhcprenew_and_reidentify_change_nothing(api):
    device = _device(api, lambda d: d["_sim"]["agent"] == "persistent" and d["status"] == "compliant")
    before = dict(api.sim.fleet.device(device["device_id"]))
    for action in ("dhcprenew", "re-identify"):
        api.action(action, ids=[device["device_id"]])
    assert api.sim.fleet.device(device["device_id"]) == before


def test_by_mac_echoes_the_id_as_sent(api):
    device = api.sim.fleet.devices[2]
    mac = device["network_info"][0]["mac"].upper()
    answer = check("action.response.json", api.action("dhcprenew", macs=[mac, "zz:zz", "02:00:00:00:00:01"]))
    assert [result["id"] for result in answer] == [mac, "zz:zz", "02:00:00:00:00:01"]
    assert [result["status"] for result in answer][1:] == [0, 0]
    # A MAC is not a device id: sent in ids it is not found.
    assert api.action("dhcprenew", ids=[mac]).json()[0]["status"] == 0


def test_v30_keyed_shape(api):
    devices = api.sim.fleet.devices[:3]
    ids = [device["device_id"] for device in devices] + ["0" * 32]
    answer = check("action.v3.response.json", api.action("dhcprenew", ids=ids, version="3"))
    assert answer == {device_id: (expected_status("dhcprenew", device, (3, 0)) if device else 0)
                      for device_id, device in zip(ids, devices + [None])}


@pytest.mark.parametrize("action, version, ok", [
    ("fetch_agent_log", "3", False), ("fetch_agent_log", "3.1", True), ("scan_threats", "3.1", False), ("scan_threats", "3.2", True),
])
def test_types_by_version(api, action, version, ok):
    response = api.action(action, ids=[api.sim.fleet.devices[0]["device_id"]], version=version)
    assert response.status_code == (200 if ok else 400)


@pytest.mark.parametrize("body, field", [
    ({"types": "exempt", "ids": ["a"], "macs": ["b"]}, "ids"),
    ({"types": "exempt"}, "ids"),
    ({"types": "exempt", "ids": []}, "ids"),
    ({"types": "exempt", "ids": ["a"] * 51}, "ids"),
    ({"types": ["exempt"], "ids": ["a"]}, "types"),
    ({"types": "reboot", "ids": ["a"]}, "types"),
    ({"ids": ["a"]}, "types"),
    ({"types": "exempt", "ids": ["a"], "params": {"exempt_time": 65000}}, "params.exempt_time"),
    ({"types": "exempt", "ids": ["a"], "params": {"exempt_time": -1}}, "params.exempt_time"),
    ({"types": "exempt", "ids": ["a"], "params": {"exempt_time": "2"}}, "params.exempt_time"),
    ({"types": "scan_threats", "ids": ["a"], "params": {"scan_types": [6]}}, "params.scan_types[0]"),
    ({"types": "scan_threats", "ids": ["a"], "params": {"full_scan": 2}}, "params.full_scan"),
    ({"types": "assign_to_group", "ids": ["a"], "params": {"group_id": ""}}, "params.group_id"),
    ({"types": "exempt", "ids": ["a"], "params": {"hours": 1}}, "params.hours"),
])
def test_invalid_bodies(api, body, field):
    device = api.sim.fleet.devices[0]
    before = device["status"]
    answer = check("error.response.json", api.post("/o/api/v3.3/devices/action", body), 400)
    assert field in answer["error"]
    assert device["status"] == before


def test_exempt_time_upper_bound_is_accepted(api):
    device = _device(api, lambda d: d["status"] == "compliant" and d["_sim"]["agent"] == "persistent")
    assert api.action("exempt", ids=[device["device_id"]], params={"exempt_time": 64999}).json()[0]["status"] == 1


def test_fifty_ids_accepted(api):
    ids = [device["device_id"] for device in api.sim.fleet.devices[:50]]
    assert len(check("action.response.json", api.action("dhcprenew", ids=ids))) == 50
