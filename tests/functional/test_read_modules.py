# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_account_info, opswat_device_info and opswat_group_info against the simulator.

Through ansible-playbook: the full listing, the license key kept out of output, the environment variables, and
check mode. The rest runs in-process (conftest.py explains why)."""

from __future__ import absolute_import, division, print_function

import hashlib
import math

from conftest import (CLIENT_ID, CLIENT_SECRET, REQUESTS_PER_MINUTE, STATIC_TOKEN, RATE_LIMIT, WINDOW, Simulator,
                      connection_vars, inprocess, leaked_secrets, requests_by_endpoint)


def device_info(**options):
    return {"opswat.it_access.opswat_device_info": options}


def fleet_ids(sim):
    return [device["device_id"] for device in sim.fleet.devices]


def os_types(device):
    info = device.get("os_info")
    infos = info if isinstance(info, list) else [info]
    return set(entry.get("type") for entry in infos if entry)


def test_listing_returns_every_device_once_with_the_fewest_requests(simulator, run_play):
    result = run_play([dict(id="all", **device_info())])
    listed = [device["device_id"] for device in result["all"]["devices"]]

    assert listed == fleet_ids(simulator)  # every device, exactly once, in enrolment order
    assert result["all"]["count"] == 1200
    assert len(requests_by_endpoint(simulator, "devices")) == math.ceil(1200 / 50)
    assert [entry for entry in simulator.request_log() if entry["status"] == 429] == []
    metrics = result["all"]["api_requests"]
    assert metrics == dict(requests=1 + 24, throttled=0, retries=0, waited_seconds=0.0)


def test_token_expiring_mid_listing_is_refreshed_and_nothing_is_lost(simulator, run_module):
    # The first three pages succeed, then every issued token expires: the client must fetch a new one and
    # carry on from the same cursor.
    simulator.add_fault("expire_token", count=1, endpoint="devices", after=3)
    result = run_module("device_info")

    assert [device["device_id"] for device in result["devices"]] == fleet_ids(simulator)
    assert len(requests_by_endpoint(simulator, "token")) == 2
    assert len([entry for entry in requests_by_endpoint(simulator, "devices") if entry["status"] == 200]) == 24


def test_short_token_lifetime_is_honoured_during_a_long_listing():
    with Simulator(devices=600, seed=5, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_lifetime=1,
                   rate_limit=RATE_LIMIT, window=WINDOW) as sim:
        # 12 pages at 600 a minute take 1.1 s or more: longer than one token's life.
        result = inprocess.run_module("device_info", connection_vars(sim, requests_per_minute=600))
        assert result.traceback is None and not leaked_secrets(result.stdout, sim)
        assert [device["device_id"] for device in result["devices"]] == fleet_ids(sim)
        assert len(requests_by_endpoint(sim, "token")) >= 2
        assert [entry for entry in sim.request_log() if entry["status"] == 429] == []


def test_filters_combine_or_within_and_across(simulator, run_module):
    result = dict(
        noncompliant_critical=run_module("device_info", status=["non_compliant"], severity=["critical"]),
        laptops_or_desktops_on_windows=run_module("device_info", device_type=["laptop", "desktop"], os_type=["windows"]),
        finance=run_module("device_info", group_name=["Finance", "Quarantine"]),
        nothing=run_module("device_info", group_name=["finance"]),  # group names are case-sensitive
    )
    devices = simulator.fleet.devices

    def expected(predicate):
        return [device["device_id"] for device in devices if predicate(device)]

    def got(task):
        return [device["device_id"] for device in result[task]["devices"]]

    assert got("noncompliant_critical") == expected(
        lambda d: d["status"] == "non_compliant" and d["severity"] == "critical")
    assert got("laptops_or_desktops_on_windows") == expected(
        lambda d: d["device_type"] in ("laptop", "desktop") and "windows" in os_types(d))
    assert got("finance") == expected(lambda d: d["group_name"] in ("Finance", "Quarantine"))
    assert got("noncompliant_critical") and got("laptops_or_desktops_on_windows") and got("finance")
    assert got("nothing") == []


def test_fields_trims_each_device_after_the_filters_matched_on_every_field(simulator, run_module):
    listed = run_module("device_info", severity=["critical"], os_type=["windows"], fields=["status", "last_seen"])
    expected = [d for d in simulator.fleet.devices if d["severity"] == "critical" and "windows" in os_types(d)]
    assert expected and [d["device_id"] for d in listed["devices"]] == [d["device_id"] for d in expected]
    assert all(sorted(device) == ["device_id", "last_seen", "status"] for device in listed["devices"])
    assert listed["devices"][0]["status"] == expected[0]["status"]
    assert len(requests_by_endpoint(simulator, "devices")) == math.ceil(len(simulator.fleet.devices) / 50.0)

    wanted = [d["device_id"] for d in simulator.fleet.devices[:3]]
    looked_up = run_module("device_info", device_ids=wanted, fields=["group_name", "no_such_field", "group_name"])
    assert [sorted(device) for device in looked_up["devices"]] == [["device_id", "group_name"]] * 3

    simulator.clear_log()
    bad = run_module("device_info", fields=["status", ""])
    assert bad.failed and "fields" in bad.msg and simulator.request_log() == []


def test_max_devices_stops_listing_once_it_has_them(simulator, run_module):
    result = run_module("device_info", max_devices=60)
    assert [device["device_id"] for device in result["devices"]] == fleet_ids(simulator)[:60]
    assert len(requests_by_endpoint(simulator, "devices")) == 2


def test_targeted_lookup_by_id_uses_device_details_only(simulator, run_module):
    known = fleet_ids(simulator)[::10][:118]
    unknown = ["0" * 32, "f" * 32]
    wanted = known[:60] + unknown + known[60:] + known[:5]  # duplicates are looked up once
    result = run_module("device_info", device_ids=wanted)

    assert [device["device_id"] for device in result["devices"]] == known
    assert requests_by_endpoint(simulator, "devices") == []
    detail = requests_by_endpoint(simulator, "detail")
    assert len(detail) == math.ceil(120 / 50)
    assert sum(entry["ids_count"] for entry in detail) == 120


def test_targeted_lookup_by_mac_accepts_the_usual_spellings(simulator, run_module):
    devices = simulator.fleet.devices[100:103]
    macs = [device["network_info"][0]["mac"] for device in devices]
    spelled = [macs[0].upper().replace(":", "-"),
               "%s.%s.%s" % tuple(macs[1].replace(":", "")[index:index + 4] for index in (0, 4, 8)),
               macs[2]]
    result = run_module("device_info", macs=spelled + ["02:00:00:00:00:01"])
    assert [device["device_id"] for device in result["devices"]] == [d["device_id"] for d in devices]
    assert requests_by_endpoint(simulator, "devices") == []


def test_filters_apply_to_a_targeted_lookup(simulator, run_module):
    devices = simulator.fleet.devices[:200]
    result = run_module("device_info", device_ids=[d["device_id"] for d in devices], status=["compliant"])
    assert [d["device_id"] for d in result["devices"]] == [
        d["device_id"] for d in devices if d["status"] == "compliant"]


def test_account_info_hides_the_license_key_unless_asked(simulator, run_module):
    result = dict(account=run_module("account_info"), cvss=run_module("account_info", score_type="cvss3_score"))
    account = result["account"]["account"]
    assert "license_key" not in account and "license_key" not in result["cvss"]["account"]
    by_status = dict((entry["status"], entry["number_of_devices"]) for entry in account["devices_by_status"])
    for status, spelled in (("compliant", "compliant"), ("non_compliant", "non-compliant"), ("exempted", "exempted")):
        assert by_status[spelled] == len([d for d in simulator.fleet.devices if d["status"] == status])
    bodies = [entry["body"] for entry in requests_by_endpoint(simulator, "account")]
    assert [body.get("score_type") for body in bodies] == ["opswat_score", "cvss3_score"]


def test_account_info_returns_the_license_key_when_asked(simulator, run_play):
    # run_play fails when the key appears in the output or in a saved result, so the play keeps the key in a
    # variable it does not save, and compares its hash.
    expected = hashlib.sha256(simulator.license_key.encode()).hexdigest()
    result = run_play([
        {"id": "account", "register": "account_with_key", "no_log": True,
         "opswat.it_access.opswat_account_info": {"include_license_key": True}},
        {"id": "check", "ansible.builtin.set_fact": {
            "key_matches": "{{ account_with_key.account.license_key | hash('sha256') == '%s' }}" % expected}},
    ])
    assert result["check"]["ansible_facts"]["key_matches"] is True


def test_group_info_lists_and_matches_names_exactly_in_check_mode_too(simulator, run_play):
    result = run_play([
        dict(id="all", **{"opswat.it_access.opswat_group_info": {}}),
        dict(id="one", **{"opswat.it_access.opswat_group_info": {"name": "Quarantine"}}),
        dict(id="case", **{"opswat.it_access.opswat_group_info": {"name": "quarantine"}}),
    ], check=True)
    assert not any(result[task]["changed"] for task in ("all", "one", "case"))
    names = [group["group_name"] for group in result["all"]["groups"]]
    assert "Default" in names and "Quarantine" in names
    assert [group["group_name"] for group in result["one"]["groups"]] == ["Quarantine"]
    assert result["case"]["groups"] == []
    default = [group for group in result["all"]["groups"] if group["group_name"] == "Default"][0]
    assert default["group_id"] == "default"


def test_access_token_and_options_from_the_environment(simulator, run_play):
    env = dict(OPSWAT_API_URL=simulator.url, OPSWAT_ACCESS_TOKEN=STATIC_TOKEN,
               OPSWAT_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE), OPSWAT_RATE_LIMIT_WINDOW=str(WINDOW),
               OPSWAT_TIMEOUT="10", OPSWAT_VALIDATE_CERTS="false")
    # No module_defaults at all: everything comes from the environment.
    result = run_play([dict(id="few", **device_info(max_devices=3))], connection={}, env=env)
    assert result["few"]["count"] == 3
    assert requests_by_endpoint(simulator, "token") == []


def test_bad_filter_value_fails_before_any_request(simulator, run_module):
    result = run_module("device_info", status=["non-compliant"])
    assert result.failed
    assert "status" in result.msg and "non_compliant" in result.msg
    assert simulator.request_log() == []
