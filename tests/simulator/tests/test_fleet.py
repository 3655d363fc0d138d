# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generated fleet: determinism, a realistic and consistent mix, awkward names, and 100,000 devices."""

import collections
import http.client
import ipaddress
import json
import re
import urllib.parse

from sim_helpers import Api, check
from itaccess_sim.fleet import AWKWARD_NAMES, Fleet

DOC_NETS = [ipaddress.ip_network(net) for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]


def test_same_seed_same_fleet_over_http(make_api):
    first, second, other = make_api(seed=7), make_api(seed=7), make_api(seed=8)
    assert first.all_devices() == second.all_devices()
    assert first.groups({"limit": 50}).json() == second.groups({"limit": 50}).json()
    assert first.get("/o/api/v3/account").json() == second.get("/o/api/v3/account").json()
    assert first.all_devices() != other.all_devices()
    assert first.sim.license_key != other.sim.license_key


def test_mix_is_realistic_and_consistent():
    fleet = Fleet(3000, 3)
    devices = fleet.devices
    statuses = collections.Counter(device["status"] for device in devices)
    assert set(statuses) == {"compliant", "non_compliant", "exempted", "out_of_license_usage", "unknown", "ignored",
                             "installed", "pending", "quarantined"}
    assert statuses["compliant"] > statuses["non_compliant"] > statuses["exempted"]
    assert {device["device_type"] for device in devices} == {"desktop", "laptop", "server", "vm", "phone", "tablet"}
    assert {device["os_info"]["type"] for device in devices} == {"windows", "mac", "linux", "ios", "android"}
    assert {device["_sim"]["agent"] for device in devices} == {"persistent", "on_demand", "mobile", "domain_controller", "none"}
    macs = [adapter["mac"] for device in devices for adapter in device["network_info"]]
    assert len(macs) == len(set(macs))
    assert all(re.match(r"^([0-9a-f]{2}:){5}[0-9a-f]{2}$", mac) for mac in macs)
    assert len({device["device_id"] for device in devices}) == len(devices)
    enrolled = [device["enrolled_at"] for device in devices]
    assert all(earlier < later for earlier, later in zip(enrolled, enrolled[1:]))
    for device in devices:
        issue = device["issue"]
        assert issue["total_issue"] == issue["total_critical"] + issue["total_warning"]
        expected = "critical" if issue["total_critical"] else ("warning" if issue["total_warning"] else "no_issues")
        assert device["severity"] == expected
        assert 1 <= len(device["network_info"]) <= 3
        if device["device_type"] in ("phone", "tablet"):
            assert device["os_info"]["type"] in ("ios", "android") and device["_sim"]["agent"] in ("mobile", "none")
        else:
            assert device["os_info"]["type"] in ("windows", "mac", "linux")
        if device["status"] in ("unknown", "ignored"):
            assert device["_sim"]["agent"] == "none" and device["agent_version"] == ""
        for adapter in device["network_info"]:
            if adapter["ipv4"] != "N/A":
                assert ipaddress.ip_address(adapter["ipv4"]).is_private
        assert any(ipaddress.ip_address(device["public_ip"]) in net for net in DOC_NETS)
        assert device["last_reboot"] <= device["last_seen"] and device["enrolled_at"] <= device["last_seen"]
        assert device["remediation_link"].startswith("https://console.example.com/")


def test_awkward_names_at_fixed_positions(api):
    listed = api.all_devices()
    for position, name in AWKWARD_NAMES.items():
        assert listed[position]["device_name"] == name
        assert listed[position]["nickname"] == name
    assert listed[3]["device_name"] == "{{ lookup('env','HOME') }}"
    assert listed[3]["status"] == "compliant" and listed[3]["os_info"]["type"] == "windows"
    assert any(ord(char) > 127 for char in listed[5]["device_name"])
    # JSON carries the names intact whatever they hold.
    assert check("detail.response.json", api.detail([listed[11]["device_id"]]))[0]["device_name"] == AWKWARD_NAMES[11]


def test_small_fleets_hold_only_the_positions_they_have():
    names = [device["device_name"] for device in Fleet(6, 1).devices]
    assert names[3] == AWKWARD_NAMES[3] and names[5] == AWKWARD_NAMES[5]
    assert not Fleet(0, 1).devices


def test_fleet_lookup_helpers():
    fleet = Fleet(50, 1)
    device = fleet.devices[10]
    mac = device["network_info"][-1]["mac"]
    assert fleet.device(device["device_id"]) is device
    assert fleet.device(device["device_id"].upper()) is device
    assert fleet.device(mac.upper().replace(":", "-")) is device
    assert fleet.device("nothing") is None
    assert fleet.group("default")["group_name"] == "Default"
    expected = {"Default", "Finance", "Engineering", "Servers", "Quarantine", "Sales Laptops", "Contractors"}
    assert {group["group_name"] for group in fleet.groups} >= expected


def test_hundred_thousand_devices(make_sim):
    sim = make_sim(devices=100000, rate_limit=0)
    api = Api(sim)
    token = api.login()
    # http.client rather than requests: 2,000 pages, and this test is about the server, not the client.
    split = urllib.parse.urlsplit(sim.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=30)
    listed, cursor, pages = [], None, 0
    while True:
        body = {"limit": 50} if cursor is None else {"limit": 50, "token": cursor}
        connection.request("POST", "/o/api/v3.7/devices?access_token=" + token, json.dumps(body), {"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 200
        page = json.loads(response.read())
        pages += 1
        listed.extend(device["device_id"] for device in page["devices"])
        cursor = page.get("next_token")
        if not cursor:
            break
    connection.close()
    assert pages == 2000
    assert listed == [device["device_id"] for device in sim.fleet.devices]
    assert len(set(listed)) == 100000
    middle = sim.fleet.devices[50000]
    answer = check("detail.response.json", api.detail([listed[-1], middle["network_info"][0]["mac"]]))
    assert [device["device_id"] for device in answer] == [listed[-1], middle["device_id"]]
    api.close()
