# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation role against the simulator: real ansible-playbook runs of a play that includes the role.

The simulator's own fleet (``simulator.fleet.devices``) is the oracle: every expectation is computed from it
in Python, independently of the role's filters.
"""

from __future__ import absolute_import, division, print_function

import calendar
import json
import math
import time

import pytest

from conftest import (connection_vars, leaked_secrets, requests_by_endpoint, run_playbook, start_simulator,
                      write_entries)

ROLE = "opswat.it_access.remediation"
QUARANTINE_LAPTOPS = dict(name="Quarantine critical non-compliant laptops",
                          match=dict(status=["non_compliant"], severity=["critical"], device_type=["laptop"]),
                          action="assign_to_group", group_name="Quarantine")
EXEMPT_LINUX_SERVERS = dict(name="Exempt Linux servers for 72 hours",
                            match=dict(status=["compliant", "non_compliant"], device_type=["server", "vm"],
                                       os_type=["linux"]),
                            action="exempt", exempt_hours=72)


@pytest.fixture
def simulator():
    """800 devices: 16 pages, and more than 50 targets for each of the two main rules (two write requests each)."""
    with start_simulator(devices=800) as sim:
        yield sim


class Run(object):
    def __init__(self, returncode, output, summary):
        self.returncode = returncode
        self.output = output
        self.summary = summary

    def rule(self, name):
        return [rule for rule in self.summary["rules"] if rule["name"] == name][0]


def run_role(sim, tmp_path, rules, check=False, expect_rc=0, module_defaults=False, verbosity=1, **role_vars):
    """A play that includes the role with ``rules``, then saves ``remediation_summary`` (check mode too)."""
    summary_path = tmp_path / "summary.json"
    if summary_path.exists():
        summary_path.unlink()
    role_vars["remediation_rules"] = rules
    # The summary is saved even when the role fails (an always section), as a caller's play could do.
    play = dict(name="remediation", hosts="localhost", gather_facts=False, tasks=[{
        "name": "Remediate",
        "block": [{"name": "Include the role", "ansible.builtin.include_role": {"name": ROLE}, "vars": role_vars}],
        "always": [{"name": "Save the summary", "ansible.builtin.copy": {
            "content": "{{ remediation_summary | default(None) | to_json }}", "dest": str(summary_path), "mode": "0600"},
            "check_mode": False, "changed_when": False}],
    }])
    if module_defaults:
        play["module_defaults"] = {"group/opswat.it_access.it_access": connection_vars(sim)}
    playbook = tmp_path / "remediate.yml"
    playbook.write_text(json.dumps([play]))
    returncode, output = run_playbook(sim, tmp_path, str(playbook), check=check, expect_rc=expect_rc,
                                      env=not module_defaults, verbosity=verbosity)
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    if summary is not None:
        assert not leaked_secrets(json.dumps(summary), sim)
    return Run(returncode, output, summary)


def os_type(device):
    return device["os_info"].get("type") if isinstance(device["os_info"], dict) else None


def snapshot(sim):
    return dict((device["device_id"], (device["status"], device["group_name"])) for device in sim.fleet.devices)


def expected_targets(sim):
    laptops = [d["device_id"] for d in sim.fleet.devices if d["status"] == "non_compliant"
               and d["severity"] == "critical" and d["device_type"] == "laptop"]
    servers = [d["device_id"] for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant")
               and d["device_type"] in ("server", "vm") and os_type(d) == "linux"]
    return laptops, servers


def actions_of(sim, action):
    return [entry for entry in write_entries(sim) if entry["action"] == action]


def assert_listed_once(sim):
    listing = requests_by_endpoint(sim, "devices")
    assert len(listing) == math.ceil(len(sim.fleet.devices) / 50.0), "the fleet was not listed exactly once"


def counts(rule):
    return dict((name, rule[name]) for name in ("matched", "targets", "overridden", "changed", "unchanged", "failed",
                                                "not_supported", "not_found"))


# ------------------------------------------------------------------------------------------------ tests

def test_check_mode_then_apply_then_again(simulator, tmp_path):
    """One listing, one batched call for every rule, check mode predicts the real run, a second run writes nothing."""
    rules = [QUARANTINE_LAPTOPS, EXEMPT_LINUX_SERVERS]
    laptops, servers = expected_targets(simulator)
    assert len(laptops) > 50 and len(servers) > 50  # both rules need more than one write request
    before = snapshot(simulator)

    check = run_role(simulator, tmp_path, rules, check=True)
    assert write_entries(simulator) == [], "check mode wrote"
    assert_listed_once(simulator)
    assert check.summary["check_mode"] is True
    assert check.summary["lines"][0].startswith("CHECK MODE (predicted, nothing written): 2 rule(s)")
    assert snapshot(simulator) == before

    simulator.clear_log()
    # The real run takes its connection from module_defaults instead of the environment.
    applied = run_role(simulator, tmp_path, rules, module_defaults=True)
    assert_listed_once(simulator)
    quarantine, exempt = applied.rule(QUARANTINE_LAPTOPS["name"]), applied.rule(EXEMPT_LINUX_SERVERS["name"])
    assert (quarantine["matched"], quarantine["changed"], quarantine["unchanged"]) == (len(laptops), len(laptops), 0)
    assert (exempt["matched"], exempt["changed"], exempt["unchanged"]) == (len(servers), len(servers), 0)
    assert [counts(rule) for rule in check.summary["rules"]] == [counts(rule) for rule in applied.summary["rules"]], \
        "check mode predicted other per-rule results than the real run"
    # One call for every rule: the devices of both rules read together (not ceil(T / 50) per rule), then one
    # action request per 50 devices that change, 50 ids at most in each.
    union = set(laptops) | set(servers)
    assert len(requests_by_endpoint(simulator, "detail")) == math.ceil(len(union) / 50.0)
    assert math.ceil(len(union) / 50.0) < math.ceil(len(laptops) / 50.0) + math.ceil(len(servers) / 50.0)
    # The groups are read once, before the listing: the call that applies the rules gets them (known_groups).
    assert len(requests_by_endpoint(simulator, "groups")) == 1
    for action, total in (("assign_to_group", len(laptops)), ("exempt", len(servers))):
        entries = actions_of(simulator, action)
        assert len(entries) == math.ceil(total / 50.0)
        assert all(entry["ids_count"] <= 50 for entry in entries) and sum(e["ids_count"] for e in entries) == total
    assert set(entry["body"]["params"]["exempt_time"] for entry in actions_of(simulator, "exempt")) == set([72])
    # The requests the summary counts are the requests the simulator answered.
    assert applied.summary["totals"]["requests"] == len(simulator.request_log())

    # The fleet is in the state the rules ask for, and nothing else moved.
    after = snapshot(simulator)
    for device_id in laptops:
        assert after[device_id] == ("non_compliant", "Quarantine")
    for device_id in servers:
        assert after[device_id] == ("exempted", before[device_id][1])
    untouched = set(before) - set(laptops) - set(servers)
    assert dict((key, after[key]) for key in untouched) == dict((key, before[key]) for key in untouched)

    simulator.clear_log()
    again = run_role(simulator, tmp_path, rules)
    assert write_entries(simulator) == [], "a second run wrote"
    assert_listed_once(simulator)
    assert again.summary["totals"]["changed"] == 0
    assert again.rule(QUARANTINE_LAPTOPS["name"])["unchanged"] == len(laptops)
    # The Linux servers are now exempted, so the exempt rule matches nothing and sends no call at all.
    assert again.rule(EXEMPT_LINUX_SERVERS["name"])["matched"] == 0
    assert again.rule(EXEMPT_LINUX_SERVERS["name"])["ran"] is False
    assert "changed=0" in again.output and "failed=0" in again.output
    assert snapshot(simulator) == after


QUARANTINE_NON_COMPLIANT_LAPTOPS = dict(name="Quarantine non-compliant laptops",
                                        match=dict(status=["non_compliant"], device_type=["laptop"]),
                                        action="assign_to_group", group_name="Quarantine")


def test_an_incremental_run_acts_on_the_devices_changed_within_the_window_only(simulator, tmp_path):
    """remediation_changed_within: the rules see the devices whose status changed within the window (no listing),
    a device deleted in that time is no target, a change before the window is not seen; check mode predicts the
    real run, and a second run writes nothing."""
    laptops = [d for d in simulator.fleet.devices if d["device_type"] == "laptop" and d["group_name"] != "Quarantine"
               and d["_sim"]["agent"] != "domain_controller"]
    compliant = [d["device_id"] for d in laptops if d["status"] == "compliant"]
    non_compliant = [d["device_id"] for d in laptops if d["status"] == "non_compliant"]
    became_non_compliant, became_compliant = compliant[:12], non_compliant[:5]
    before_the_window, deleted = compliant[12], compliant[13]
    untouched_matches = non_compliant[5:]  # match the rule, but their status did not change
    assert len(compliant) > 14 and untouched_matches
    for device_id in became_non_compliant + [deleted]:
        simulator.change_status(device_id, "non_compliant", seconds_ago=60)
    for device_id in became_compliant:
        simulator.change_status(device_id, "compliant", seconds_ago=60)
    simulator.change_status(before_the_window, "non_compliant", seconds_ago=7200)
    simulator.delete_device(deleted, seconds_ago=30)
    simulator.clear_log()
    before = snapshot(simulator)
    rules = [QUARANTINE_NON_COMPLIANT_LAPTOPS]

    check = run_role(simulator, tmp_path, rules, check=True, remediation_changed_within=600)
    assert write_entries(simulator) == [], "check mode wrote"
    assert snapshot(simulator) == before
    assert (check.summary["mode"], check.summary["changed_within"], check.summary["deleted"]) == (
        "changed within 600 s", 600, 1)
    assert check.summary["lines"][0].startswith(
        "CHECK MODE (predicted, nothing written): 1 rule(s); changed within 600 s: %d device(s) whose status changed"
        " read with " % (len(became_non_compliant) + len(became_compliant)))
    assert "1 deleted (not targets)" in check.summary["lines"][0]

    simulator.clear_log()
    applied = run_role(simulator, tmp_path, rules, remediation_changed_within="600")  # as an extra var gives it
    rule = applied.rule(QUARANTINE_NON_COMPLIANT_LAPTOPS["name"])
    assert (rule["matched"], rule["targets"], rule["changed"], rule["unchanged"]) == (
        len(became_non_compliant), len(became_non_compliant), len(became_non_compliant), 0)
    assert [counts(rule) for rule in check.summary["rules"]] == [counts(rule) for rule in applied.summary["rules"]], \
        "check mode predicted other per-rule results than the real run"
    written = [device_id for entry in actions_of(simulator, "assign_to_group") for device_id in entry["body"]["ids"]]
    assert sorted(written) == sorted(became_non_compliant)
    # No listing: one change page (fewer than 50 changes end the paging), the changed devices' details (the plan
    # needs fields a change record lacks), the group look-up, the targets read by the action, the write.
    assert requests_by_endpoint(simulator, "devices") == []
    assert len(requests_by_endpoint(simulator, "status_changed")) == 1
    assert len(requests_by_endpoint(simulator, "detail")) == 2 and len(requests_by_endpoint(simulator, "groups")) == 1
    assert applied.summary["totals"]["requests"] == len(simulator.request_log())
    after = snapshot(simulator)
    assert all(after[device_id] == ("non_compliant", "Quarantine") for device_id in became_non_compliant)
    unmoved = set(before) - set(became_non_compliant)
    assert dict((key, after[key]) for key in unmoved) == dict((key, before[key]) for key in unmoved)
    assert after[before_the_window][1] != "Quarantine" and deleted not in after

    simulator.clear_log()
    again = run_role(simulator, tmp_path, rules, remediation_changed_within=600)
    assert write_entries(simulator) == [], "a second run wrote"
    assert again.rule(QUARANTINE_NON_COMPLIANT_LAPTOPS["name"])["unchanged"] == len(became_non_compliant)
    assert "changed=0" in again.output and "failed=0" in again.output


def test_an_incremental_run_refuses_a_not_seen_days_rule_before_any_request(simulator, tmp_path):
    rules = [QUARANTINE_LAPTOPS, dict(name="Scan stale laptops", match=dict(not_seen_days=30, device_type=["laptop"]),
                                      action="scan_threats", full_scan=True)]
    run = run_role(simulator, tmp_path, rules, expect_rc=2, remediation_changed_within=300)
    text = " ".join(run.output.split())
    assert ("remediation_rules[1] (Scan stale laptops): match.not_seen_days cannot be combined with"
            " remediation_changed_within (300 s)") in text
    assert simulator.request_log() == []


def test_overlapping_rules_first_wins_per_controlled_state_and_different_states_compose(simulator, tmp_path):
    rules = [
        dict(name="Exempt critical devices for 24 hours",
             match=dict(severity=["critical"], status=["non_compliant"], device_type=["laptop", "desktop"]),
             action="exempt", exempt_hours=24),
        dict(name="Exempt laptops for 72 hours", match=dict(device_type=["laptop"], status=["compliant", "non_compliant"]),
             action="exempt", exempt_hours=72),
        dict(name="Quarantine critical laptops", match=dict(severity=["critical"], device_type=["laptop"]),
             action="assign_to_group", group_name="Quarantine"),
        dict(name="Move critical laptops to Contractors", match=dict(severity=["critical"], device_type=["laptop"]),
             action="assign_to_group", group_name="Contractors"),
    ]
    devices = list(simulator.fleet.devices)
    critical_nc = [d["device_id"] for d in devices if d["severity"] == "critical" and d["status"] == "non_compliant"
                   and d["device_type"] in ("laptop", "desktop")]
    nc_laptops = [d["device_id"] for d in devices if d["status"] in ("compliant", "non_compliant")
                  and d["device_type"] == "laptop"]
    critical_laptops = [d["device_id"] for d in devices if d["severity"] == "critical" and d["device_type"] == "laptop"]
    later_exempt = [device_id for device_id in nc_laptops if device_id not in set(critical_nc)]
    assert critical_nc and later_exempt and set(critical_nc) & set(nc_laptops)

    started = time.time()
    run = run_role(simulator, tmp_path, rules)
    by_id = dict((d["device_id"], d) for d in simulator.fleet.devices)
    first, second, quarantine, contractors = [run.rule(rule["name"]) for rule in rules]
    assert first["targets"] == len(critical_nc)
    assert second["matched"] == len(nc_laptops) and second["targets"] == len(later_exempt)
    assert second["overridden"] == len(nc_laptops) - len(later_exempt)
    assert second["overridden_by"] == {rules[0]["name"]: second["overridden"]}
    assert contractors["targets"] == 0 and contractors["overridden"] == contractors["matched"] > 0
    assert contractors["ran"] is False
    # Each exempted device got the hours of the first rule that matched it; groups compose with exemptions.
    for device_id in critical_nc:
        until = by_id[device_id]["_sim"]["exempt_until"]
        assert by_id[device_id]["status"] == "exempted" and abs(until - (started + 24 * 3600)) < 600
    for device_id in later_exempt:
        until = by_id[device_id]["_sim"]["exempt_until"]
        assert by_id[device_id]["status"] == "exempted" and abs(until - (started + 72 * 3600)) < 600
    assert all(by_id[device_id]["group_name"] == "Quarantine" for device_id in critical_laptops)
    hours_by_id = {}
    for entry in actions_of(simulator, "exempt"):
        for device_id in entry["body"]["ids"]:
            assert device_id not in hours_by_id, "a device was exempted by two rules"
            hours_by_id[device_id] = entry["body"]["params"]["exempt_time"]
    assert set(hours_by_id) == set(critical_nc) | set(later_exempt)


def test_not_seen_days_and_awkward_device_names_in_check_mode_at_vvvv(simulator, tmp_path):
    """not_seen_days counts back from remediation_reference_time; device names holding template syntax are
    matched like any other and never evaluated; nothing leaks at -vvvv."""
    reference = "2025-06-30T12:00:00Z"
    cutoff = calendar.timegm((2025, 6, 30, 12, 0, 0)) - 180 * 86400

    def seen(device):
        return calendar.timegm(time.strptime(device["last_seen"], "%Y-%m-%dT%H:%M:%SZ"))

    stale = [d["device_id"] for d in simulator.fleet.devices if seen(d) < cutoff and d["device_type"] == "laptop"
             and d["status"] in ("compliant", "non_compliant")]
    assert 0 < len(stale) < len([d for d in simulator.fleet.devices if d["device_type"] == "laptop"])
    awkward = [d["device_id"] for d in simulator.fleet.devices[:12] if "{{" in d["device_name"]]
    windows = [d["device_id"] for d in simulator.fleet.devices if os_type(d) == "windows"
               and d["device_type"] in ("desktop", "laptop") and d["status"] == "compliant"]
    assert awkward and set(awkward) <= set(windows)
    rules = [dict(name="Exempt stale laptops",
                  match=dict(not_seen_days=180, device_type=["laptop"], status=["compliant", "non_compliant"]),
                  action="exempt", exempt_hours=1),
             dict(name="Move compliant Windows desktops and laptops to Finance",
                  match=dict(os_type=["windows"], status=["compliant"], device_type=["desktop", "laptop"]),
                  action="assign_to_group", group_name="Finance")]
    run = run_role(simulator, tmp_path, rules, check=True, verbosity=4, remediation_reference_time=reference)
    assert write_entries(simulator) == []
    assert_listed_once(simulator)
    rule = run.rule("Exempt stale laptops")
    assert rule["matched"] == len(stale) and rule["changed"] == len(stale)
    rule = run.rule("Move compliant Windows desktops and laptops to Finance")
    already = len([d for d in simulator.fleet.devices if d["device_id"] in set(windows) and d["group_name"] == "Finance"])
    assert rule["matched"] == len(windows) and rule["changed"] == len(windows) - already
    # The names are shown as they are (in the listing result), never evaluated.
    assert "7*7" in run.output and "Second-Line" in run.output and "lookup('env','HOME')" in run.output


def test_a_rule_with_several_problems_reports_each_with_its_rule_in_one_failure(simulator, tmp_path):
    """Wrong choices, an unknown criterion and an unknown option: the role's own check names each of them with
    the rule's index and name, in one failure; Ansible's argument spec validation does not stop the role first
    (with some of the problems, no rule index and a dump of the whole spec)."""
    rules = [EXEMPT_LINUX_SERVERS,
             dict(QUARANTINE_LAPTOPS, action="quarantine"),
             dict(QUARANTINE_LAPTOPS, name="Three problems", action="quarantine", colour="red",
                  match=dict(status=["non-compliant"], device_type=["robot"])),
             dict(QUARANTINE_LAPTOPS, name="Bad criterion", match=dict(status=["non_compliant"], colour=["red"]))]
    run = run_role(simulator, tmp_path, rules, expect_rc=2)
    assert "6 problem(s) in remediation_rules, nothing was changed" in run.output
    for expected in ("remediation_rules[1] (Quarantine critical non-compliant laptops): action: 'quarantine' is not"
                     " one of exempt, unexempt, assign_to_group, scan_threats",
                     "remediation_rules[2] (Three problems): unknown option(s) colour",
                     "remediation_rules[2] (Three problems): match.status: unknown value(s) non-compliant",
                     "remediation_rules[2] (Three problems): match.device_type: unknown value(s) robot",
                     "remediation_rules[2] (Three problems): action: 'quarantine' is not one of",
                     "remediation_rules[3] (Bad criterion): match: unknown criteria colour"):
        assert expected in run.output, expected
    assert "argument_spec_data" not in run.output and "Validation of arguments failed" not in run.output
    assert simulator.request_log() == [], "a bad rule let requests through"


def test_every_problem_of_every_rule_is_reported_before_any_request(simulator, tmp_path):
    rules = [
        EXEMPT_LINUX_SERVERS,
        dict((key, value) for key, value in EXEMPT_LINUX_SERVERS.items() if key != "exempt_hours"),
        dict(EXEMPT_LINUX_SERVERS, name="Too long", exempt_hours=70000),
        dict(QUARANTINE_LAPTOPS, match={}),
        dict(QUARANTINE_LAPTOPS, name="Two groups", group_id="default"),
        dict(name="Scan", match=dict(os_type=["windows"]), action="scan_threats", scan_types=["specific_path"]),
    ]
    run = run_role(simulator, tmp_path, rules, expect_rc=2)
    assert "6 problem(s) in remediation_rules, nothing was changed" in run.output
    for expected in ("remediation_rules[1] (Exempt Linux servers for 72 hours): name: 'Exempt Linux servers for 72"
                     " hours' is already the name of remediation_rules[0]",
                     "remediation_rules[1] (Exempt Linux servers for 72 hours): exempt_hours: is required with"
                     " action=exempt",
                     "remediation_rules[2] (Too long): exempt_hours: must be between 0 (forever) and 64999",
                     "remediation_rules[3] (Quarantine critical non-compliant laptops): match: needs at least one"
                     " criterion",
                     "remediation_rules[4] (Two groups): group_name, group_id: action assign_to_group needs exactly one",
                     "remediation_rules[5] (Scan): scan_path: is required when scan_types includes specific_path"):
        assert expected in run.output, expected
    assert simulator.request_log() == [], "a bad rule let requests through"


def test_an_unknown_group_fails_before_the_listing_and_any_write(simulator, tmp_path):
    rules = [EXEMPT_LINUX_SERVERS, dict(QUARANTINE_LAPTOPS, group_name="quarantine")]
    run = run_role(simulator, tmp_path, rules, expect_rc=2)
    assert "group_name: no group is named 'quarantine' (names are case-sensitive)" in run.output
    assert write_entries(simulator) == [] and requests_by_endpoint(simulator, "devices") == []
    assert len(requests_by_endpoint(simulator, "groups")) >= 1


def test_unsupported_devices_fail_the_role_after_every_rule_ran_and_scans_run_every_time(simulator, tmp_path):
    """Exempting Windows servers hits domain controllers (not supported); the other rules are still applied.
    A scan is a command: it is sent again on the second run, when nothing else changes."""
    domain_controllers = [d["device_id"] for d in simulator.fleet.devices if d["_sim"]["agent"] == "domain_controller"
                          and d["status"] in ("compliant", "non_compliant")]
    windows_servers = [d["device_id"] for d in simulator.fleet.devices if d["device_type"] == "server"
                       and os_type(d) == "windows" and d["status"] in ("compliant", "non_compliant")]
    assert domain_controllers
    laptops, _servers = expected_targets(simulator)
    scan = dict(name="Full scan of critical Windows laptops",
                match=dict(severity=["critical"], os_type=["windows"], device_type=["laptop"]),
                action="scan_threats", full_scan=True)
    rules = [dict(name="Exempt Windows servers",
                  match=dict(device_type=["server"], os_type=["windows"], status=["compliant", "non_compliant"]),
                  action="exempt", exempt_hours=8),
             QUARANTINE_LAPTOPS, scan]
    # Check mode fails the same way, saying what would happen.
    run = run_role(simulator, tmp_path, rules, check=True, expect_rc=2)
    assert write_entries(simulator) == [], "check mode wrote"
    assert ("0 device(s) would fail, %d would not be supported, 0 were not found and 0 were not sent"
            % run.summary["totals"]["not_supported"]) in run.output
    assert "every rule would be applied to the other devices (check mode: nothing was written)" in run.output
    assert "would act on" in run.output and "acts on" not in run.output
    assert "%d were not supported" % run.summary["totals"]["not_supported"] not in run.output

    simulator.clear_log()
    run = run_role(simulator, tmp_path, rules, expect_rc=2)
    assert ("0 device(s) failed, %d were not supported, 0 were not found and 0 were not sent"
            % run.summary["totals"]["not_supported"]) in run.output
    assert "every rule was applied to the other devices. Set remediation_allow_partial to true" in run.output
    assert "Exempt Windows servers [exempt]: matched %d, changed %d, unchanged 0, failed 0, not_supported %d" % (
        len(windows_servers), len(windows_servers) - len(domain_controllers), len(domain_controllers)) in run.output
    assert all(simulator.fleet.device(device_id)["group_name"] == "Quarantine" for device_id in laptops)
    first_scan = run.rule(scan["name"])
    assert first_scan["changed"] > 0, "no laptop agent could scan"

    # With remediation_allow_partial the same is reported and the role succeeds.
    simulator.clear_log()
    run = run_role(simulator, tmp_path, rules, remediation_allow_partial=True)
    rule = run.rule("Exempt Windows servers")
    assert rule["not_supported"] == len(domain_controllers) and rule["changed"] == 0
    assert sorted(rule["failed_ids"]) == sorted(domain_controllers)
    # Nothing is written for the exemptions and groups: the domain controllers are known from their details.
    assert actions_of(simulator, "exempt") == [] and actions_of(simulator, "assign_to_group") == []
    # The scan is sent again, to every target whose agent can scan, with the same outcome.
    scans = actions_of(simulator, "scan_threats")
    assert len(scans) == math.ceil(first_scan["changed"] / 50.0)
    assert sum(entry["ids_count"] for entry in scans) == first_scan["changed"]
    assert all(entry["body"]["params"] == {"full_scan": 1} for entry in scans)
    assert run.rule(scan["name"])["changed"] == first_scan["changed"]
    assert "changed=1" in run.output, "a scan must report a change on every run"


def test_a_rule_whose_call_fails_does_not_stop_the_others(simulator, tmp_path):
    simulator.add_fault("status", count=1, endpoint="action", code=500)
    rules = [EXEMPT_LINUX_SERVERS, QUARANTINE_LAPTOPS]
    laptops, _servers = expected_targets(simulator)
    run = run_role(simulator, tmp_path, rules, expect_rc=2)
    assert "1 rule(s) failed: Exempt Linux servers for 72 hours" in run.output
    assert "ERROR:" in run.output and "...ignoring" in run.output
    assert all(simulator.fleet.device(device_id)["group_name"] == "Quarantine" for device_id in laptops)


def test_no_rules_send_no_request(simulator, tmp_path):
    run = run_role(simulator, tmp_path, [])
    assert "nothing to do, no request sent" in run.output
    assert run.summary["rules"] == [] and run.summary["lines"] == ["no rule: nothing to do, no request sent"]
    assert simulator.request_log() == []
