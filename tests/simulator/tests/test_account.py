# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Account Details v3.0 (GET) and v3.2 (POST, score_type): shapes and counts derived from the live fleet."""

import collections

from sim_helpers import check


def _counts(answer, key, name):
    return {item[name]: item["number_of_devices"] for item in answer[key]}


def test_account_v30_shape_and_counts(api):
    answer = check("account.v3.response.json", api.get("/o/api/v3/account"))
    devices = api.sim.fleet.devices
    statuses = collections.Counter(device["status"] for device in devices)
    assert answer["license_key"] == api.sim.license_key
    assert answer["devices_uncompliant"] == statuses["non_compliant"]
    assert answer["devices_unknown"] == statuses["unknown"]
    assert answer["devices_critical"] == sum(device["severity"] == "critical" for device in devices)
    assert answer["devices_issues"] == sum(device["issue"]["total_issue"] > 0 for device in devices)
    # "Number of monitored devices": neither a device without an agent nor one past the license.
    unmonitored = statuses["unknown"] + statuses["ignored"] + statuses["out_of_license_usage"]
    assert statuses["out_of_license_usage"] and answer["devices_used"] == len(devices) - unmonitored


def test_account_v32_shape_and_counts(api):
    answer = check("account.v3.2.response.json", api.post("/o/api/v3.2/account", {}))
    statuses = collections.Counter(device["status"] for device in api.sim.fleet.devices)
    assert _counts(answer, "devices_by_status", "status") == {
        "compliant": statuses["compliant"], "non-compliant": statuses["non_compliant"],
        "exempted": statuses["exempted"], "unknown": statuses["unknown"]}
    severities = collections.Counter(device["severity"] for device in api.sim.fleet.devices)
    assert _counts(answer, "devices_by_issue_severity", "severity") == {
        "critical": severities["critical"], "warning": severities["warning"], "no_issue": severities["no_issues"]}
    assert set(_counts(answer, "devices_by_vulnerability_severity", "severity")) == {"critical", "important", "moderate", "low", "unknown"}


def test_account_v32_score_types(api):
    with_cves = sum(1 for device in api.sim.fleet.devices if device["cves"]["total"])
    expected = {"opswat_score": {"critical", "important", "moderate", "low", "unknown"},
                "cvss2_score": {"high", "medium", "low", "unknown"},
                "cvss3_score": {"critical", "high", "medium", "low", "unknown"}}
    for score_type, severities in expected.items():
        answer = check("account.v3.2.response.json", api.post("/o/api/v3.2/account", {"score_type": score_type}))
        counts = _counts(answer, "devices_by_vulnerability_severity", "severity")
        assert set(counts) == severities
        assert sum(counts.values()) == with_cves
    answer = check("error.response.json", api.post("/o/api/v3.2/account", {"score_type": "cvss4_score"}), 400)
    assert "score_type" in answer["error"]


def test_account_wrong_verbs(api):
    check("error.response.json", api.post("/o/api/v3/account", {}), 405)
    check("error.response.json", api.get("/o/api/v3.2/account"), 405)


def test_account_v32_accepts_an_empty_body(api):
    # score_type is optional; a POST without a body is read as {} (the real API's handling is unknown).
    check("account.v3.2.response.json", api.post("/o/api/v3.2/account"))


def test_account_counts_follow_the_fleet(api):
    before = _counts(api.post("/o/api/v3.2/account", {}).json(), "devices_by_status", "status")
    target = next(device for device in api.sim.fleet.devices if device["status"] == "compliant")
    assert api.action("exempt", ids=[target["device_id"]]).json()[0]["status"] == 1
    after = _counts(api.post("/o/api/v3.2/account", {}).json(), "devices_by_status", "status")
    assert after["compliant"] == before["compliant"] - 1
    assert after["exempted"] == before["exempted"] + 1
    used = api.get("/o/api/v3/account").json()["devices_used"]
    assert api.action("delete", ids=[target["device_id"]]).json()[0]["status"] == 1
    assert api.get("/o/api/v3/account").json()["devices_used"] == used - 1


def test_devices_used_counts_the_monitored_devices(api):
    used = api.get("/o/api/v3/account").json()["devices_used"]
    sim = api.sim
    monitored = [device["device_id"] for device in sim.fleet.devices if device["status"] == "compliant"][:3]
    for device_id, status in zip(monitored, ("unknown", "ignored", "out_of_license_usage")):
        sim.change_status(device_id, status)
    assert api.get("/o/api/v3/account").json()["devices_used"] == used - 3
    sim.enrol_device(status="non_compliant")
    sim.enrol_device(status="unknown")
    assert check("account.v3.2.response.json", api.post("/o/api/v3.2/account", {}))["devices_used"] == used - 2
