# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's playbooks, run by name as a pipeline would run them (ansible-playbook opswat.it_access.NAME,
no inventory, the connection from OPSWAT_* environment variables), against the simulator."""

from __future__ import absolute_import, division, print_function

import json
import math
import re
from xml.etree import ElementTree

import pytest

import ansible_runs
from conftest import (CLIENT_ID, CLIENT_SECRET, opswat_env, requests_by_endpoint, run_playbook, secrets_of,
                      start_simulator, write_entries)

GATE = "opswat.it_access.compliance_gate"
EXEMPT = "opswat.it_access.exempt_devices"
QUARANTINE = "opswat.it_access.quarantine_critical"
DEMO = "opswat.it_access.demo"


@pytest.fixture
def simulator():
    """A smaller fleet than the module tests' (each playbook lists it whole): still 8 pages, more than 50
    critical devices (quarantine_critical writes more than one batch), two of them domain controllers."""
    with start_simulator(devices=400, seed=5) as sim:
        yield sim


def run(sim, tmp_path, playbook, extra_vars=None, **options):
    """A collection playbook by name, without inventory (implicit localhost), from ``tmp_path``."""
    return run_playbook(sim, tmp_path, playbook, extra_vars=extra_vars, inventory=False, **options)


def fleet_counts(sim):
    devices = sim.fleet.devices
    return (len([d for d in devices if d["status"] == "non_compliant"]),
            len([d for d in devices if d["severity"] == "critical"]))


def read_reports(directory):
    report = json.loads((directory / "compliance-report.json").read_text())
    html = (directory / "compliance-report.html").read_text()
    return report, html


def svg_charts(html):
    """The inline SVG charts, parsed as XML (so they are well formed), by id."""
    charts = {}
    for found in re.finditer(r"<svg .*?</svg>", html, re.S):
        element = ElementTree.fromstring(found.group(0))
        charts[element.get("id")] = element
    return charts


def bar_values(chart):
    namespace = "{http://www.w3.org/2000/svg}"
    return dict(tuple(title.text.split(": ")) for title in chart.iter(namespace + "title"))


# ---------------------------------------------------------------------------------------- compliance_gate

def test_gate_passes_at_its_thresholds_and_writes_both_reports(simulator, tmp_path):
    non_compliant, critical = fleet_counts(simulator)
    _rc, output = run(simulator, tmp_path, GATE, dict(gate_max_non_compliant=non_compliant, gate_max_critical=-1))
    assert "Compliance gate PASSED: %d non-compliant (limit %d), %d critical (limit none)" % (
        non_compliant, non_compliant, critical) in output
    # The fewest requests: the token and one account read; the fleet is never listed.
    assert len(requests_by_endpoint(simulator, "account")) == 1
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "account"]

    # The default report directory is relative to the directory the pipeline runs in.
    report, html = read_reports(tmp_path / "opswat-compliance-report")
    assert report["result"] == "passed" and report["violations"] == []
    assert report["counts"] == {"non_compliant": non_compliant, "critical": critical}
    assert report["thresholds"] == {"max_non_compliant": non_compliant, "max_critical": -1}
    by_status = dict((status, len([d for d in simulator.fleet.devices if d["status"] == status]))
                     for status in ("compliant", "non_compliant", "exempted", "unknown"))
    assert report["devices_by_status"] == {"compliant": by_status["compliant"], "non-compliant": non_compliant,
                                           "exempted": by_status["exempted"], "unknown": by_status["unknown"]}
    assert report["devices_by_issue_severity"]["critical"] == critical
    assert report["api_requests"] == 2 and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", report["generated_at"])

    assert html.startswith("<!DOCTYPE html>") and 'id="result">PASSED<' in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    charts = svg_charts(html)
    assert sorted(charts) == ["chart-severity", "chart-status"]
    assert bar_values(charts["chart-status"]) == dict((key, str(value)) for key, value in
                                                      report["devices_by_status"].items())
    assert bar_values(charts["chart-severity"]) == dict((key, str(value)) for key, value in
                                                        report["devices_by_issue_severity"].items())
    assert "<td class=\"num\">%d</td><td class=\"num\">no limit</td><td>pass</td>" % critical in html


def test_gate_fails_over_its_thresholds_after_writing_both_reports(simulator, tmp_path):
    non_compliant, critical = fleet_counts(simulator)
    reports = tmp_path / "out" / "gate"
    _rc, output = run(simulator, tmp_path, GATE, dict(gate_max_non_compliant=non_compliant - 1,
                                                      gate_max_critical=critical - 1, gate_report_dir=str(reports)),
                      expect_rc=2)
    assert ("Compliance gate FAILED: non-compliant devices: %d, more than the %d allowed (gate_max_non_compliant);"
            " devices with critical issues: %d, more than the %d allowed (gate_max_critical)"
            % (non_compliant, non_compliant - 1, critical, critical - 1)) in output
    report, html = read_reports(reports)
    assert report["result"] == "failed" and len(report["violations"]) == 2
    assert 'id="result">FAILED<' in html and html.count("<td>FAIL</td>") == 2
    assert "more than the %d allowed" % (critical - 1) in html
    assert set(svg_charts(html)) == set(["chart-status", "chart-severity"])


def test_gate_adds_the_most_severe_cves_in_one_request_when_asked(simulator, tmp_path):
    _rc, output = run(simulator, tmp_path, GATE, dict(gate_max_non_compliant=-1, gate_max_critical=-1,
                                                      gate_top_cves=5, gate_cve_score_type="cvss3_score"))
    counts = simulator.fleet.cve_device_counts()
    expected = sorted((cve for cve in simulator.fleet.cve_catalogue() if cve["cve_id"] in counts
                       and cve["cvss3_score"] is not None), key=lambda cve: (cve["cvss3_score"], cve["cve_id"]),
                      reverse=True)[:5]
    report, html = read_reports(tmp_path / "opswat-compliance-report")
    assert [cve["cve_id"] for cve in report["most_severe_cves"]] == [cve["cve_id"] for cve in expected]
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "account", "cves"]
    assert report["api_requests"] == 3 and report["result"] == "passed"
    assert html.count("<td>CVE-") == 5 and 'id="cves"' in html
    assert "Most severe CVEs: %s" % ", ".join(cve["cve_id"] for cve in expected) in output


def test_gate_without_gate_top_cves_reads_no_cve(simulator, tmp_path):
    run(simulator, tmp_path, GATE, dict(gate_max_non_compliant=-1, gate_max_critical=-1))
    report, html = read_reports(tmp_path / "opswat-compliance-report")
    assert "most_severe_cves" not in report and 'id="cves"' not in html
    assert requests_by_endpoint(simulator, "cves") == []


@pytest.mark.parametrize("extra", [dict(gate_top_cves=101), dict(gate_top_cves="many"),
                                   dict(gate_cve_score_type="cvss4_score")])
def test_gate_refuses_bad_cve_options_before_any_request(simulator, tmp_path, extra):
    _rc, output = run(simulator, tmp_path, GATE, extra, expect_rc=2)
    assert "gate_top_cves a whole number from 0 to 100" in output
    assert simulator.request_log() == []


def test_gate_in_check_mode_gives_the_same_verdict_and_writes_both_reports(simulator, tmp_path):
    """A merge-request pipeline runs with --check: the reports are local files, written in check mode too."""
    non_compliant, _critical = fleet_counts(simulator)
    reports = tmp_path / "mr" / "gate"
    _rc, output = run(simulator, tmp_path, GATE, dict(gate_max_non_compliant=non_compliant - 1, gate_max_critical=-1,
                                                      gate_report_dir=str(reports)), check=True, expect_rc=2)
    assert "Compliance gate FAILED: non-compliant devices: %d, more than the %d allowed" % (
        non_compliant, non_compliant - 1) in output
    assert "Reports: %s/compliance-report.json and .html" % reports in output
    report, html = read_reports(reports)
    assert report["result"] == "failed" and report["counts"]["non_compliant"] == non_compliant
    assert 'id="result">FAILED<' in html
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "account"]


def test_gate_takes_its_credentials_from_a_vars_file_instead_of_the_environment(simulator, tmp_path):
    """A runner that saves the environment with its artifacts (ansible-runner) gets the credentials from a file."""
    env = dict(opswat_env(simulator))
    del env["OPSWAT_CLIENT_ID"], env["OPSWAT_CLIENT_SECRET"]
    thresholds = json.dumps(dict(gate_max_non_compliant=-1, gate_max_critical=-1))
    command = [ansible_runs.ANSIBLE_PLAYBOOK, GATE, "-vvvv", "-e", thresholds]
    # Without them, the environment holds no credential: the gate cannot authenticate.
    without = ansible_runs.run_command(command, tmp_path, secrets_of(simulator), env=env)
    assert without.returncode == 2 and simulator.request_log() == []
    secrets = tmp_path / "opswat-secrets.yml"
    secrets.write_text(json.dumps(dict(opswat_client_id=CLIENT_ID, opswat_client_secret=CLIENT_SECRET)))
    run_with = ansible_runs.run_command(command + ["-e", "@%s" % secrets], tmp_path, secrets_of(simulator), env=env)
    assert run_with.returncode == 0, run_with.output[-4000:]
    assert "Compliance gate PASSED" in run_with.output
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "account"]


def test_gate_fails_closed_by_default_and_checks_its_variables_first(simulator, tmp_path):
    # Without thresholds, any non-compliant or critical device fails the gate.
    _rc, output = run(simulator, tmp_path, GATE, expect_rc=2)
    assert "more than the 0 allowed (gate_max_non_compliant)" in output
    assert json.loads((tmp_path / "opswat-compliance-report" / "compliance-report.json").read_text())["result"] == \
        "failed"

    simulator.clear_log()
    _rc, output = run(simulator, tmp_path, GATE, dict(gate_max_critical="a few"), expect_rc=2)
    assert "gate_max_non_compliant and gate_max_critical must be whole numbers" in output
    assert simulator.request_log() == []


# ----------------------------------------------------------------------------------------- exempt_devices

def test_exempt_devices_from_a_mixed_file(simulator, tmp_path):
    candidates = [d for d in simulator.fleet.devices if d["status"] in ("compliant", "non_compliant")
                  and d["_sim"]["agent"] != "domain_controller"]
    by_id, by_mac = candidates[:60], candidates[60:65]
    macs = [device["network_info"][0]["mac"] for device in by_mac]
    spelled = [macs[0], macs[1].upper().replace(":", "-"), macs[2].replace(":", ""),
               "%s.%s.%s" % tuple(macs[3].replace(":", "")[i:i + 4] for i in (0, 4, 8)), macs[4].upper()]
    unknown_id = "f" * 32
    lines = ["# change window CHG-1234", ""]
    lines += [device["device_id"] for device in by_id[:30]]
    lines += ["  %s   # by MAC" % mac for mac in spelled]
    lines += ["", "   "] + [device["device_id"] for device in by_id[30:]] + [by_id[0]["device_id"], unknown_id, "# end"]
    listing = tmp_path / "devices.txt"
    listing.write_text("\n".join(lines) + "\n")
    before = dict((d["device_id"], d["status"]) for d in simulator.fleet.devices)

    # Check mode predicts the real run, the unknown id included (so it fails the same way).
    _rc, output = run(simulator, tmp_path, EXEMPT, dict(exempt_file="devices.txt", exempt_hours=48), check=True,
                      expect_rc=2)
    assert write_entries(simulator) == [], "check mode wrote"
    assert "61 device ID(s) and 5 MAC address(es), to exempt for 48 hour(s)" in output
    assert ("CHECK MODE (predicted, nothing written): 66 listed: 65 would be exempted, 0 already exempted,"
            " 0 would fail, 0 not supported, 1 not found, 0 not sent") in output
    assert "Would not be exempted: %s" % unknown_id in output
    assert ("1 device(s) would not be exempted (failed, not supported, not found or not sent): %s. The others would be"
            " (check mode: nothing was written)." % unknown_id) in output
    assert "The others were" not in output and "exempted now" not in output

    simulator.clear_log()
    _rc, output = run(simulator, tmp_path, EXEMPT, dict(exempt_file=str(listing), exempt_hours=48), expect_rc=2)
    assert "1 device(s) were not exempted (failed, not supported, not found or not sent): %s. The others were." % unknown_id \
        in output
    assert "65 exempted now" in output and "Not exempted: %s" % unknown_id in output
    writes = write_entries(simulator)
    # One call for the ids (60 changes: two requests of at most 50), one for the MACs (the module looks the MACs up,
    # then acts on the device ids it found).
    assert [entry["ids_count"] for entry in writes] == [50, 10, 5]
    assert all(entry["body"]["params"] == {"exempt_time": 48} for entry in writes)
    assert sorted(writes[0]["body"]["ids"] + writes[1]["body"]["ids"]) == sorted(d["device_id"] for d in by_id)
    assert sorted(writes[2]["body"]["ids"]) == sorted(d["device_id"] for d in by_mac)
    lookups = requests_by_endpoint(simulator, "detail")
    assert sorted(lookups[-1]["body"]["ids"]) == sorted(macs), "the MACs were not looked up in one call"
    for device in by_id + by_mac:
        assert simulator.fleet.device(device["device_id"])["status"] == "exempted"
    untouched = set(before) - set(d["device_id"] for d in by_id + by_mac)
    assert all(simulator.fleet.device(device_id)["status"] == before[device_id] for device_id in untouched)

    simulator.clear_log()
    _rc, output = run(simulator, tmp_path, EXEMPT, dict(exempt_file=str(listing), exempt_hours=48,
                                                        exempt_allow_partial=True))
    assert "66 listed: 0 exempted now, 65 already exempted, 0 failed, 0 not supported, 1 not found, 0 not sent" in output
    assert write_entries(simulator) == [], "a second run wrote"


def test_exempt_devices_checks_its_variables_before_any_request(simulator, tmp_path):
    (tmp_path / "devices.txt").write_text("0123456789abcdef0123456789abcdef\n")
    _rc, output = run(simulator, tmp_path, EXEMPT, dict(exempt_file="devices.txt"), expect_rc=2)
    assert "Give exempt_file" in output and "exempt_hours=(not set)" in output
    _rc, output = run(simulator, tmp_path, EXEMPT, dict(exempt_file="missing.txt", exempt_hours=1), expect_rc=2)
    assert "missing.txt is not a file" in output
    assert simulator.request_log() == []


# ------------------------------------------------------------------------------------ quarantine_critical

def test_quarantine_critical_moves_exactly_the_critical_devices(simulator, tmp_path):
    devices = simulator.fleet.devices
    critical = set(d["device_id"] for d in devices if d["severity"] == "critical")
    domain_controllers = set(device_id for device_id in critical
                             if simulator.fleet.device(device_id)["_sim"]["agent"] == "domain_controller")
    quarantined_before = set(d["device_id"] for d in devices if d["group_name"] == "Quarantine")
    groups_before = dict((d["device_id"], d["group_name"]) for d in devices)
    to_move = critical - domain_controllers - quarantined_before
    assert domain_controllers, "the test fleet should hold a critical domain controller"
    assert len(to_move) > 50, "the test fleet should need more than one write request"

    # Only the non-compliant ones, in check mode: a prediction, nothing written.
    _rc, output = run(simulator, tmp_path, QUARANTINE, dict(quarantine_only_non_compliant=True,
                                                            quarantine_allow_partial=True), check=True)
    critical_nc = [d for d in devices if d["severity"] == "critical" and d["status"] == "non_compliant"]
    assert "Quarantine critical non-compliant devices [assign_to_group]: matched %d" % len(critical_nc) in output
    assert write_entries(simulator) == []

    # Domain controllers cannot change group: reported, and accepted with quarantine_allow_partial.
    simulator.clear_log()
    _rc, output = run(simulator, tmp_path, QUARANTINE, dict(quarantine_allow_partial=True))
    assert ("Quarantine critical devices [assign_to_group]: matched %d, changed %d, unchanged %d, failed 0,"
            " not_supported %d, not_found 0" % (len(critical), len(to_move), len(critical & quarantined_before),
                                                len(domain_controllers))) in output
    assert len(requests_by_endpoint(simulator, "devices")) == math.ceil(len(devices) / 50.0)
    assert sum(entry["ids_count"] for entry in write_entries(simulator)) == len(to_move)
    quarantined = set(d["device_id"] for d in devices if d["group_name"] == "Quarantine")
    assert quarantined == quarantined_before | to_move
    assert all(d["group_name"] == groups_before[d["device_id"]] for d in devices if d["device_id"] not in to_move)

    # Without it, the playbook fails on the domain controllers, naming its own variable; nothing is written (the
    # others are there already). In check mode, the same in the conditional.
    for check in (True, False):
        simulator.clear_log()
        _rc, output = run(simulator, tmp_path, QUARANTINE, check=check, expect_rc=2)
        assert ("%d critical device(s) %s moved to Quarantine (0 failed, %d not supported, 0 not found, 0 not sent): "
                % (len(domain_controllers), "would not be" if check else "were not", len(domain_controllers))) in output
        assert sorted(output.split("not sent): ")[1].split(".")[0].split(", ")) == sorted(domain_controllers)
        assert "Set quarantine_allow_partial=true to accept this" in output
        assert "Set remediation_allow_partial" not in output
        if check:
            assert "The other matched devices would be in it (check mode: nothing was written)." in output
            assert "would act on" in output and "acts on" not in output
        else:
            assert "The other matched devices are in it." in output and "acts on" in output
        assert write_entries(simulator) == []


# ----------------------------------------------------------------------------------------------------- demo

def test_demo_in_check_mode_says_what_it_would_do_and_writes_nothing(tmp_path):
    with start_simulator(devices=500, seed=7) as demo_simulator:  # the fleet of `make demo`
        _rc, output = run(demo_simulator, tmp_path, DEMO, check=True)
        assert write_entries(demo_simulator) == [], "check mode wrote"
    assert "CHECK MODE (predicted, nothing written): exempt would change 5 device(s), assign_to_group would change" in output
    assert "TASK [Exempt them in check mode too (--check)]" in output and "for real" not in output
    assert "real: changed" not in output and "again: changed" not in output
