# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Vulnerabilities (account-wide v3.1, of one device v3.1/v3.2) and Get Threats v3: data, filters, paging, limits."""

import pytest

from sim_helpers import check
from itaccess_sim.fleet import SEVERITIES_BY_SCORE_TYPE, Fleet, severity_of

ACCOUNT = "/o/api/v3.1/cves"
DEVICE = "/o/api/v3.2/get_cves"
THREATS = "/o/api/v3/get_threats"


def _all(api, path, body, member, schema):
    records, page = [], 1
    while True:
        response = api.post(path, dict(body, page=page))
        if response.status_code == 413:
            check("error.response.json", response, 413)
            return records
        records.extend(check(schema, response)[member])
        page += 1


def _device_with(fleet, predicate):
    return next(device for device in fleet.devices if predicate(device))


def test_the_data_is_deterministic_from_the_seed():
    first, second, other = Fleet(50, seed=4), Fleet(50, seed=4), Fleet(50, seed=5)
    assert first.cve_catalogue() == second.cve_catalogue() != other.cve_catalogue()
    for left, right in zip(first.devices, second.devices):
        assert first.cves_of(left) == second.cves_of(right)
        assert first.threats_of(left) == second.threats_of(right)


def test_asking_for_cves_does_not_change_the_fleet():
    plain, asked = Fleet(30, seed=2), Fleet(30, seed=2)
    asked.cve_device_counts()
    asked.threats_of(asked.devices[0])
    assert plain.devices == asked.devices


def test_a_device_has_as_many_cves_as_get_devices_says(api):
    fleet = api.sim.fleet
    device = _device_with(fleet, lambda device: 0 < device["cves"]["total"] < 100)
    answer = check("get_cves.response.json", api.post(DEVICE, {"id": device["device_id"]}))
    assert answer["total"] == len(answer["cves"]) == device["cves"]["total"]
    assert all(list(cve) == ["cve_id"] for cve in answer["cves"])


def test_verbose_records_carry_scores_and_their_opswat_severity(api):
    device = _device_with(api.sim.fleet, lambda device: device["cves"]["total"] > 0)
    answer = check("get_cves.response.json", api.post(DEVICE, {"id": device["device_id"], "verbose": 1}))
    for cve in answer["cves"]:
        assert cve["severity"] == severity_of("opswat_score", cve["opswat_score"])
        assert cve["summary"] and cve["remediation"]


def test_kev_only_and_mac_lookup(api):
    fleet = api.sim.fleet
    device = _device_with(fleet, lambda device: any(cve["kev"] for cve in fleet.cves_of(device))
                          and any(not cve["kev"] for cve in fleet.cves_of(device)))
    mac = device["network_info"][0]["mac"].upper()
    every = _all(api, DEVICE, {"id": mac, "verbose": 1}, "cves", "get_cves.response.json")
    known = _all(api, DEVICE, {"id": mac, "verbose": 1, "filter": {"kev": 1}}, "cves", "get_cves.response.json")
    assert known == [cve for cve in every if cve["kev"]] and 0 < len(known) < len(every)


def test_device_paging_limits_and_errors(api):
    device = _device_with(api.sim.fleet, lambda device: device["cves"]["total"] > 100)
    pages = _all(api, DEVICE, {"id": device["device_id"], "limit": 100}, "cves", "get_cves.response.json")
    assert len(pages) == device["cves"]["total"]
    assert api.post(DEVICE, {"id": device["device_id"], "limit": 101}).status_code == 406
    check("error.response.json", api.post(DEVICE, {"id": "0" * 32}), 404)
    check("error.response.json", api.post("/o/api/v3.1/get_cves", {"id": device["device_id"], "filter": {"kev": 1}}), 400)
    check("error.response.json", api.post(DEVICE, {"verbose": 1}), 400)


def test_a_device_without_cves_has_one_empty_page(api):
    device = _device_with(api.sim.fleet, lambda device: device["cves"]["total"] == 0)
    assert check("get_cves.response.json", api.post(DEVICE, {"id": device["device_id"]}))["cves"] == []
    check("error.response.json", api.post(DEVICE, {"id": device["device_id"], "page": 2}), 413)


def test_account_listing_counts_live_devices(api):
    fleet = api.sim.fleet
    listed = _all(api, ACCOUNT, {"limit": 50}, "cves", "cves.response.json")
    counts = fleet.cve_device_counts()
    assert {cve["cve_id"]: cve["number_of_devices"] for cve in listed} == dict(counts)
    victim = _device_with(fleet, lambda device: device["cves"]["total"] > 0)
    first = fleet.cves_of(victim)[0]["cve_id"]
    api.sim.delete_device(victim["device_id"])
    assert fleet.cve_device_counts()[first] == counts[first] - 1


@pytest.mark.parametrize("score_type", sorted(SEVERITIES_BY_SCORE_TYPE))
def test_account_severity_follows_the_score_type(api, score_type):
    allowed = SEVERITIES_BY_SCORE_TYPE[score_type]
    wanted = [allowed[0], allowed[1]]
    body = {"limit": 50, "filter": {"score_type": score_type, "severity": wanted}}
    listed = _all(api, ACCOUNT, body, "cves", "cves.response.json")
    assert listed and {cve["severity"] for cve in listed} <= set(wanted)
    assert all(cve["severity"] == severity_of(score_type, cve[score_type]) for cve in listed)
    bad = next(value for values in SEVERITIES_BY_SCORE_TYPE.values() for value in values if value not in allowed)
    check("error.response.json", api.post(ACCOUNT, {"filter": {"score_type": score_type, "severity": bad}}), 400)


def test_account_search_sort_and_limits(api):
    answer = check("cves.response.json", api.post(ACCOUNT, {"search": "firefox", "limit": 50,
                                                            "sort": {"field": "cvss3_score", "order": "desc"}}))
    scores = [cve["cvss3_score"] for cve in answer["cves"] if cve["cvss3_score"] is not None]
    assert answer["cves"] and all("Firefox" in cve["summary"] for cve in answer["cves"])
    assert scores == sorted(scores, reverse=True)
    ids = [cve["cve_id"] for cve in check("cves.response.json", api.post(ACCOUNT, {"limit": 50}))["cves"]]
    assert ids == sorted(ids)
    assert api.post(ACCOUNT, {"limit": 51}).status_code == 406
    check("error.response.json", api.post(ACCOUNT, {"filter": {"score": 7}}), 400)
    check("error.response.json", api.post(ACCOUNT, {"sort": {"field": "number_of_devices"}}), 400)


def test_threats_of_a_scanned_device_and_paging(api):
    fleet = api.sim.fleet
    device = _device_with(fleet, lambda device: len(fleet.threats_of(device)) >= 2)
    found = _all(api, THREATS, {"id": device["device_id"], "limit": 1}, "antimalware_scan", "get_threats.response.json")
    assert found == fleet.threats_of(device)
    both = check("get_threats.response.json", api.post(THREATS, {"id": device["device_id"],
                                                                 "verbose": {"local_antimalware_threats": 1}}))
    assert both["local_antimalware_threats"] == [] and len(both["antimalware_scan"]) == len(found)


def test_threats_only_where_a_scan_can_run(api):
    fleet = api.sim.fleet
    for device in fleet.devices:
        if fleet.threats_of(device):
            assert fleet.applies("scan_threats", device, (3, 3))
    mobile = _device_with(fleet, lambda device: device["_sim"]["agent"] == "mobile")
    assert check("get_threats.response.json", api.post(THREATS, {"id": mobile["device_id"]})) == {"antimalware_scan": []}
    check("error.response.json", api.post(THREATS, {"id": "0" * 32}), 404)
    assert api.post(THREATS, {"id": mobile["device_id"], "limit": 51}).status_code == 406
