# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_vulnerability_info and opswat_threat_info in-process against the simulator: what the fleet holds, every
page at the API's limit, the filters and the cost in requests."""

from __future__ import absolute_import, division, print_function

import math

from conftest import requests_by_endpoint


def severity_of(score_type, score):
    bands = {"opswat_score": ((90, "critical"), (70, "important"), (40, "moderate"), (0, "low")),
             "cvss3_score": ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low"), (0.0, "none")),
             "cvss2_score": ((7.0, "high"), (4.0, "medium"), (0.0, "low"))}[score_type]
    if score is None:
        return "unknown"
    return next(name for floor, name in bands if score >= floor)


def device_with(sim, predicate):
    return next(device for device in sim.fleet.devices if predicate(device))


def test_every_cve_of_a_device_in_pages_of_100(simulator, run_module):
    device = device_with(simulator, lambda device: device["cves"]["total"] > 200)
    result = run_module("vulnerability_info", device_id=device["device_id"], verbose=True)
    expected = simulator.fleet.cves_of(device)
    assert [cve["cve_id"] for cve in result["cves"]] == [cve["cve_id"] for cve in expected]
    assert result["found"] is True and result["count"] == device["cves"]["total"]
    assert all(cve["severity"] == severity_of("opswat_score", cve["opswat_score"]) for cve in result["cves"])
    pages = requests_by_endpoint(simulator, "device_cves")
    # A full last page costs one more request (the 413 past it); a short one ends the listing.
    assert len(pages) == math.ceil(device["cves"]["total"] / 100) + (device["cves"]["total"] % 100 == 0)
    assert all(entry["body"]["limit"] == 100 for entry in pages)


def test_kev_only_by_mac_and_max_entries(simulator, run_module):
    fleet = simulator.fleet
    device = device_with(simulator, lambda device: sum(cve["kev"] for cve in fleet.cves_of(device)) >= 2)
    mac = device["network_info"][0]["mac"].upper().replace(":", "-")
    result = run_module("vulnerability_info", mac=mac, kev_only=True)
    assert [cve["cve_id"] for cve in result["cves"]] == [cve["cve_id"] for cve in fleet.cves_of(device) if cve["kev"]]
    assert list(result["cves"][0]) == ["cve_id"]  # without verbose, ids only
    assert len(run_module("vulnerability_info", mac=mac, kev_only=True, max_entries=1)["cves"]) == 1


def test_an_unknown_device_is_reported_not_found(simulator, run_module):
    result = run_module("vulnerability_info", device_id="0" * 32)
    assert result.exit_code == 0 and result["found"] is False and result["cves"] == []


def test_the_account_most_severe_first_in_two_requests(simulator, run_module):
    result = run_module("vulnerability_info", score_type="cvss3_score", severity=["critical"], sort_by="cvss3_score",
                        sort_order="desc", max_entries=60)
    counts = simulator.fleet.cve_device_counts()
    expected = sorted((cve for cve in simulator.fleet.cve_catalogue()
                       if cve["cve_id"] in counts and severity_of("cvss3_score", cve["cvss3_score"]) == "critical"),
                      key=lambda cve: (cve["cvss3_score"], cve["cve_id"]), reverse=True)[:60]
    assert [cve["cve_id"] for cve in result["cves"]] == [cve["cve_id"] for cve in expected]
    assert all(cve["number_of_devices"] == counts[cve["cve_id"]] for cve in result["cves"])
    assert len(requests_by_endpoint(simulator, "cves")) == 2


def test_the_account_search(simulator, run_module):
    result = run_module("vulnerability_info", search="7-zip")
    assert result["count"] > 0 and all("7-Zip" in cve["summary"] for cve in result["cves"])


def test_a_forbidden_combination_sends_nothing(simulator, run_module):
    result = run_module("vulnerability_info", score_type="cvss2_score", severity=["critical"])
    assert result.exit_code == 1 and "severity" in result["msg"]
    assert simulator.request_log() == []


def test_the_threats_a_scan_found(simulator, run_module):
    fleet = simulator.fleet
    device = device_with(simulator, fleet.threats_of)
    result = run_module("threat_info", device_id=device["device_id"])
    assert result["threats"] == fleet.threats_of(device) and result["found"] is True
    clean = device_with(simulator, lambda device: device["_sim"]["agent"] == "mobile")
    assert run_module("threat_info", device_id=clean["device_id"], check=True)["threats"] == []


def test_threats_in_pages_of_50(simulator, run_module):
    device = simulator.fleet.devices[0]
    found = [{"threat_name": "EICAR-Test-File", "critical": False, "scan_time": "2025-06-01T00:00:00Z",
              "file": "C:\\eicar%d.com" % number, "hash": "%064x" % number} for number in range(120)]
    simulator.fleet.set_threats(device["device_id"], found)
    result = run_module("threat_info", device_id=device["device_id"])
    assert result["threats"] == found
    assert len(requests_by_endpoint(simulator, "threats")) == 3
