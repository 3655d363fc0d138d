# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix: every module, the inventory plugin and the role against the simulator's injected faults.

Each case states its expected outcome (success after retry, or a failure whose message names the cause) and proves
that nothing was lost (a listing returns every device exactly once, or fails) and nothing was done twice (device
action requests are counted in the simulator's log, and a second run after a failed write sends only the devices
the first did not change). docs/reliability.md shows this matrix; a test keeps the two in step.

Modules run in process over real HTTP (see reliability_harness); the inventory plugin and the role run as real
``ansible-inventory`` / ``ansible-playbook`` processes at -vvvv.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import re
import time

import pytest

import reliability_harness as harness
from reliability_harness import CLIENT_SECRET, SLOW_SECONDS, STATIC_TOKEN, WINDOW, WRONG_SECRET, WRONG_TOKEN

ACTION_BATCH = 50
TARGET_DEVICES = 60  # two batches of Device Details and of Device Action: 50 + 10
MAY_HAVE_BEEN_APPLIED = "may have been applied"


# ---------------------------------------------------------------------------------------------- the faults


class Row(object):
    """One fault. ``inject(sim, endpoint, after)`` queues it; ``fails`` lists the texts the message must hold."""

    def __init__(self, name, description, inject=None, fails=None, connection=None, sim_options=None, expect=None,
                 applied=None, not_for=()):
        self.name = name
        self.description = description
        self.inject = inject
        self.fails = fails
        self.connection = connection or {}
        self.sim_options = sim_options or {}
        self.expect = expect or {}
        self.applied = applied  # write rows that fail: whether the simulator applied the failed batch
        self.not_for = not_for


def _fault(kind, count=1, **options):
    def inject(sim, endpoint, after):
        sim.add_fault(kind, count=count, endpoint=endpoint, after=after, **options)
    return inject


STATIC_ONLY = dict(access_token=STATIC_TOKEN, client_id=None, client_secret=None)
RATE_LIMITED = ["rate limited by the API (HTTP 429)", "rate_limit_timeout"]
REJECTED = ["the access token was rejected: expired or invalid (HTTP 401)"]

# Faults on a read (an idempotent request): retried within the limits, or a clear failure.
READ_ROWS = [
    Row("429_retry_after", "2 × 429 with Retry-After", _fault("rate_limit", 2, retry_after=True), expect=dict(throttled=2)),
    Row("429_reset_time", "2 × 429, X-RateLimit-Reset-Time only", _fault("rate_limit", 2, retry_after=False),
        expect=dict(throttled=2)),
    Row("429_no_headers", "429 without any rate-limit header", _fault("status", 1, code=429), sim_options=dict(rate_limit=0),
        expect=dict(throttled=1, waited_seconds=WINDOW * 0.9)),
    Row("429_outlasts", "429 until past rate_limit_timeout (1.5 s)", _fault("rate_limit", 10), fails=RATE_LIMITED,
        connection=dict(rate_limit_timeout=1.5)),
    Row("429_retry_after_too_long", "429 with Retry-After: 3600 (past rate_limit_timeout)",
        _fault("rate_limit", 1, retry_after=True, reset=3600), fails=RATE_LIMITED + ["3600.0 s (Retry-After)"]),
    Row("http_500", "2 × HTTP 500", _fault("status", 2, code=500), expect=dict(retries=2)),
    Row("http_502", "2 × HTTP 502", _fault("status", 2, code=502), expect=dict(retries=2)),
    Row("http_503", "2 × HTTP 503", _fault("status", 2, code=503), expect=dict(retries=2)),
    Row("http_503_persists", "HTTP 503 past the 3 retries", _fault("status", 4, code=503),
        fails=["HTTP 503", "(after 3 retries)"]),
    Row("timeout", "an answer slower than timeout (%g s > 1 s)" % SLOW_SECONDS, _fault("slow", 1, seconds=SLOW_SECONDS),
        expect=dict(retries=1)),
    Row("dropped", "connection closed without an answer", _fault("drop"), expect=dict(retries=1)),
    Row("malformed", "a 200 whose body is cut in half", _fault("malformed"), expect=dict(retries=1)),
    Row("malformed_persists", "two malformed answers", _fault("malformed", 2), fails=["the answer is not valid JSON"]),
    Row("token_expires", "token expires mid-run (client credentials)", _fault("expire_token"), expect=dict(tokens=2),
        not_for=("token",)),
    Row("static_token_expires", "token expires mid-run (access_token only)", _fault("expire_token"), fails=REJECTED,
        connection=STATIC_ONLY, not_for=("token",)),
]

# Faults on the second Device Action request (the first batch of 50 went through): never re-sent after a 5xx,
# a timeout, a drop or a malformed answer; re-sent after a 429 or a 401, which prove it was not processed.
WRITE_ROWS = [
    Row("429_retry_after", "2 × 429 with Retry-After", _fault("rate_limit", 2, retry_after=True), expect=dict(throttled=2)),
    Row("429_reset_time", "2 × 429, X-RateLimit-Reset-Time only", _fault("rate_limit", 2, retry_after=False),
        expect=dict(throttled=2)),
    Row("429_no_headers", "429 without any rate-limit header", _fault("status", 1, code=429), sim_options=dict(rate_limit=0),
        expect=dict(throttled=1)),
    Row("429_outlasts", "429 until past rate_limit_timeout (1.5 s)", _fault("rate_limit", 10), fails=RATE_LIMITED,
        connection=dict(rate_limit_timeout=1.5), applied=False),
    Row("http_500", "HTTP 500 before processing", _fault("status", 1, code=500), fails=["HTTP 500", MAY_HAVE_BEEN_APPLIED],
        applied=False),
    Row("http_502", "HTTP 502 before processing", _fault("status", 1, code=502), fails=["HTTP 502", MAY_HAVE_BEEN_APPLIED],
        applied=False),
    Row("http_503", "HTTP 503 before processing", _fault("status", 1, code=503), fails=["HTTP 503", MAY_HAVE_BEEN_APPLIED],
        applied=False),
    Row("http_500_after_apply", "HTTP 500 after the action was applied", _fault("status_after_apply", 1, code=500),
        fails=["HTTP 500", MAY_HAVE_BEEN_APPLIED], applied=True),
    Row("timeout", "applied, answered after timeout", _fault("slow", 1, seconds=SLOW_SECONDS),
        fails=["(timeout)", MAY_HAVE_BEEN_APPLIED], applied=True),
    Row("dropped", "connection closed before processing", _fault("drop"), fails=["was dropped", MAY_HAVE_BEEN_APPLIED],
        applied=False),
    Row("dropped_after_apply", "applied, then the connection closed", _fault("drop", after_apply=True),
        fails=["was dropped", MAY_HAVE_BEEN_APPLIED], applied=True),
    Row("malformed", "applied, answer cut in half", _fault("malformed"),
        fails=["the answer is not valid JSON", MAY_HAVE_BEEN_APPLIED], applied=True),
    Row("token_expires", "token expires mid-run (client credentials)", _fault("expire_token"), expect=dict(tokens=2)),
    Row("static_token_expires", "token expires mid-run (access_token only)", _fault("expire_token"), fails=REJECTED,
        connection=STATIC_ONLY, applied=False),
]


def _stop(sim, _endpoint, _after):
    sim.stop()


# Faults of the connection itself, whatever the endpoint.
GLOBAL_ROWS = [
    Row("invalid_token", "an access_token the API does not know", fails=REJECTED,
        connection=dict(access_token=WRONG_TOKEN, client_id=None, client_secret=None)),
    Row("wrong_client_secret", "a wrong client_secret", fails=["the client credentials were rejected (HTTP 401)"],
        connection=dict(client_secret=WRONG_SECRET)),
    Row("tls_untrusted", "self-signed certificate, validate_certs: true", sim_options=dict(tls=True),
        fails=["TLS failure", "validate_certs", "ca_path"]),
    Row("tls_ca_path", "self-signed certificate, ca_path: its CA", sim_options=dict(tls=True), connection=dict(ca_path=True)),
    Row("tls_unverified", "self-signed certificate, validate_certs: false", sim_options=dict(tls=True),
        connection=dict(validate_certs=False), expect=dict(warning="validate_certs is false")),
    Row("refused", "nothing listens (connection refused)", inject=_stop, fails=["could not connect to", "(after 3 retries)"]),
]


# ---------------------------------------------------------------------------------------------- the targets


class Target(object):
    """A module call whose requests to ``endpoint`` take the fault, ``after`` requests to it went through."""

    def __init__(self, name, module, endpoint, after, args, verify):
        self.name = name
        self.module = module
        self.endpoint = endpoint
        self.after = after
        self.args = args
        self.verify = verify


def _detail_ids(sim):
    return [device["device_id"] for device in sim.fleet.devices[::2][:TARGET_DEVICES]]


def _verify_account(sim, run, _args):
    account = run.result["account"]
    assert account["name"] == sim.fleet.account["name"] and "license_key" not in account
    by_status = dict((entry["status"], entry["number_of_devices"]) for entry in account["devices_by_status"])
    assert by_status["compliant"] == len([d for d in sim.fleet.devices if d["status"] == "compliant"])


def _verify_groups(sim, run, _args):
    listed = [group["group_id"] for group in run.result["groups"]]
    assert sorted(listed) == sorted(group["group_id"] for group in sim.fleet.groups) and len(set(listed)) == len(listed)


def _verify_listing(sim, run, _args):
    listed = [device["device_id"] for device in run.result["devices"]]
    assert listed == [device["device_id"] for device in sim.fleet.devices], "a device was lost, repeated or reordered"
    assert len(set(listed)) == harness.FLEET_SIZE == run.result["count"]


def _verify_details(sim, run, _args):
    assert [device["device_id"] for device in run.result["devices"]] == _detail_ids(sim)


def _changes_args(sim):
    # 60 status changes: two change pages (50 + 10); the fault is on the second.
    sim.random_changes(TARGET_DEVICES, seed=3, seconds_ago=60)
    return dict(changed_within=3600, fields=["status"])


def _verify_changes(sim, run, _args):
    changed = set(entry["device_id"] for entry in sim.history() if entry["event"] != "deleted")
    listed = [device["device_id"] for device in run.result["devices"]]
    assert len(changed) == TARGET_DEVICES and sorted(listed) == sorted(changed), "a change was lost or repeated"
    assert run.result["deleted_device_ids"] == []


def _logs_args(sim):
    # 120 admin entries (60 devices exempted, then unexempted), written without a request: two log pages (100 + 20);
    # the fault is on the second.
    ids = harness.exemptable(sim, TARGET_DEVICES)
    with sim.fleet.lock:
        for action in ("exempt", "unexempt"):
            sim.fleet.apply_action(action, ids, False, {"exempt_time": 1}, (3, 3))
    return dict(category="admin", age=3600)


def _verify_logs(sim, run, _args):
    written = [entry for entry in sim.fleet.event_log_entries() if entry["category"] == "admin"]
    read = run.result["entries"]
    assert len(written) == 2 * TARGET_DEVICES and len(read) == len(written), "an entry was lost or repeated"
    assert [entry["timestamp"] for entry in read] == [entry["timestamp"] for entry in reversed(written)]


def _action_args(sim):
    return dict(action="exempt", device_ids=harness.exemptable(sim, TARGET_DEVICES), exempt_hours=1)


def _verify_action(sim, run, args):
    ids = run.result["changed_ids"]
    assert ids == args["device_ids"] and run.result["failed_ids"] == []
    assert harness.status_of(sim, ids) == ["exempted"] * TARGET_DEVICES
    applied = [entry for entry in harness.action_entries(sim) if entry["status"] == 200]
    assert sorted(sum((entry["body"]["ids"] for entry in applied), [])) == sorted(ids), "a device got the action twice"


# ------------------------------------------------- CVEs and threats: a listing of three pages, the fault on the second


def _cves_args(_sim):
    return dict(sort_by="cve_id", max_entries=120)


def _verify_cves(sim, run, _args):
    counts = sim.fleet.cve_device_counts()
    assert [cve["cve_id"] for cve in run.result["cves"]] == sorted(counts)[:120], "a CVE was lost, repeated or reordered"


def _threats_args(sim):
    device = sim.fleet.devices[0]
    sim.fleet.set_threats(device["device_id"], [
        {"threat_name": "EICAR-Test-File", "critical": False, "scan_time": "2025-06-01T00:00:00Z",
         "file": "C:\\eicar%d.com" % number, "hash": "%064x" % number} for number in range(TARGET_DEVICES)])
    return dict(device_id=device["device_id"])


def _verify_threats(sim, run, args):
    assert run.result["threats"] == sim.fleet.threats_of(sim.fleet.device(args["device_id"])), "a threat was lost"


TARGETS = dict((target.name, target) for target in [
    Target("account", "account_info", "account", 0, lambda sim: {}, _verify_account),
    Target("groups", "group_info", "groups", 0, lambda sim: {}, _verify_groups),
    Target("token", "group_info", "token", 0, lambda sim: {}, _verify_groups),
    Target("listing", "device_info", "devices", 2, lambda sim: dict(page_size=20), _verify_listing),
    Target("details", "device_info", "detail", 1, lambda sim: dict(device_ids=_detail_ids(sim)), _verify_details),
    Target("changes", "device_info", "status_changed", 1, _changes_args, _verify_changes),
    Target("logs", "log_info", "logs", 1, _logs_args, _verify_logs),
    Target("action_read", "device_action", "detail", 1, _action_args, _verify_action),
    Target("action_write", "device_action", "action", 1, _action_args, _verify_action),
    Target("cves", "vulnerability_info", "cves", 1, _cves_args, _verify_cves),
    Target("threats", "threat_info", "threats", 1, _threats_args, _verify_threats),
])
READ_TARGETS = ("account", "groups", "token", "listing", "details", "changes", "logs", "action_read", "cves",
                "threats")
GLOBAL_TARGETS = ("account", "groups", "listing", "action_write")

CASES = ([pytest.param(row, TARGETS[target], id="%s-%s" % (target, row.name))
          for target in READ_TARGETS for row in READ_ROWS if target not in row.not_for]
         + [pytest.param(row, TARGETS["action_write"], id="action_write-%s" % row.name) for row in WRITE_ROWS]
         + [pytest.param(row, TARGETS[target], id="%s-%s" % (target, row.name)) for target in GLOBAL_TARGETS
            for row in GLOBAL_ROWS])


def assert_fault_met(queued, left):
    """The injected fault was met at least once (a case whose fault never fires proves nothing)."""
    if queued:
        assert len(left) < len(queued) or left[0]["count"] < queued[0]["count"], "the injected fault was never met"


def report(case, outcome, message, metrics=None, action_requests=None, seconds=None):
    """With RELIABILITY_REPORT=<file>, append this case's result (docs/reliability.md is written from it)."""
    path = os.environ.get("RELIABILITY_REPORT")
    if not path:
        return
    with open(path, "a") as handle:
        handle.write(json.dumps(dict(case=case, outcome=outcome, msg=message, api_requests=metrics,
                                     action_requests=action_requests, seconds=seconds)) + "\n")


# ---------------------------------------------------------------------------------------------- module cases


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # tls_unverified: on purpose
@pytest.mark.parametrize("row, target", CASES)
def test_module_fault(make_sim, fast, request, row, target):  # pylint: disable=unused-argument
    sim = make_sim(**row.sim_options)
    args = dict(target.args(sim))
    connection = dict(row.connection)
    if connection.get("ca_path") is True:
        connection["ca_path"] = sim.ca_path
    args.update(harness.connection(sim, **connection))
    if row.inject is not None:
        row.inject(sim, target.endpoint, target.after)
    queued = sim.pending_faults()

    started = time.monotonic()
    run = harness.run_module(target.module, args)
    seconds = time.monotonic() - started
    assert run.traceback is None, run.traceback
    assert_fault_met(queued, sim.pending_faults())
    assert not harness.leaks(run.stdout, sim), "a secret leaked into the module's result"
    actions = harness.action_entries(sim)
    report(request.node.callspec.id, "failed" if run.failed else "ok", run.msg, run.result.get("api_requests"),
           len(actions), round(seconds, 2))

    if row.fails is None:
        assert run.exit_code == 0 and not run.failed, run
        target.verify(sim, run, args)
        metrics = run.result["api_requests"]
        for name in ("throttled", "retries"):
            if name in row.expect:
                assert metrics[name] == row.expect[name], metrics
        if "waited_seconds" in row.expect:
            assert metrics["waited_seconds"] >= row.expect["waited_seconds"], metrics
        if "tokens" in row.expect:
            assert len(harness.entries(sim, "token")) == row.expect["tokens"], "the token was not refreshed once"
        if "warning" in row.expect:
            assert any(row.expect["warning"] in text for text in run.warnings), run.warnings
        return

    assert run.exit_code == 1 and run.failed, run
    for text in row.fails:
        assert text in run.msg, (text, run.msg)
    if target.module == "device_info":
        assert "devices" not in run.result, "a failed listing returned a partial device list"
        assert "deleted_device_ids" not in run.result, "a failed change listing returned partial deletions"
    if target.module in ("vulnerability_info", "threat_info"):
        assert "cves" not in run.result and "threats" not in run.result, "a failed listing returned a partial list"
    if target.module == "log_info":
        assert "entries" not in run.result, "a failed log listing returned part of the entries"
    if target.name == "action_write" and row in WRITE_ROWS:
        _check_failed_write(sim, row, run, args)
    else:
        assert actions == [], "a failed read let a device action through"


def _check_failed_write(sim, row, run, args):
    """The second batch failed: it was sent once, the message tells whether it may have been applied, and a second
    run sends exactly the devices that were not changed."""
    ids = args["device_ids"]
    first, second = ids[:ACTION_BATCH], ids[ACTION_BATCH:]
    if row.name == "timeout":
        assert harness.wait_for_log(sim, lambda entry: entry["fault"] == "slow"), "the slow action was never logged"
    actions = harness.action_entries(sim)
    refused = [entry["body"]["ids"] for entry in actions if entry["status"] in (429, 401)]
    sent = [entry["body"]["ids"] for entry in actions if entry["status"] not in (429, 401)]
    if row.name in ("429_outlasts", "static_token_expires"):
        # Answers that prove the request was not processed: the batch was asked again (429) or never processed.
        assert sent == [first] and refused and all(ids == second for ids in refused), actions
    else:
        assert sent == [first, second], "an action request was repeated or lost"
    assert run.result["changed_ids"] == first
    assert [entry["result"] for entry in run.result["devices"]] == ["changed"] * len(first) + ["failed"] * len(second)
    assert (MAY_HAVE_BEEN_APPLIED in run.msg) == (row.name not in ("429_outlasts", "static_token_expires"))
    assert harness.status_of(sim, first) == ["exempted"] * len(first)
    if row.applied:
        assert harness.status_of(sim, second) == ["exempted"] * len(second)
    else:
        assert "exempted" not in harness.status_of(sim, second), "a batch the API refused was applied"

    # Running the task again (what the message advises) sends only the devices still to change.
    sim.clear_faults()
    sim.clear_log()
    again = harness.run_module("device_action", dict(args, **harness.connection(sim)))
    assert again.traceback is None and not again.failed, again
    resent = sum((entry["body"]["ids"] for entry in harness.action_entries(sim)), [])
    assert resent == ([] if row.applied else second), "a device that was already changed got the action again"
    assert harness.status_of(sim, ids) == ["exempted"] * len(ids)


# ---------------------------------------------------------------------------------------------- inventory plugin


def _inventory_config(sim, **options):
    config = dict(plugin="opswat.it_access.devices", page_size=20, **harness.connection(sim))
    config.update(options)
    return dict((key, value) for key, value in config.items() if value is not None)


INVENTORY_CASES = [
    # name, simulator options, fault (kind, count, options), config overrides, expected failure texts or None
    ("429_retry_after", {}, ("rate_limit", 2, dict(retry_after=True)), {}, None),
    ("429_outlasts", {}, ("rate_limit", 10, {}), dict(rate_limit_timeout=1.5), RATE_LIMITED),
    ("http_503", {}, ("status", 2, dict(code=503)), {}, None),
    ("http_500_persists", {}, ("status", 4, dict(code=500)), {}, ["HTTP 500", "(after 3 retries)"]),
    ("timeout", {}, ("slow", 1, dict(seconds=SLOW_SECONDS)), {}, None),
    ("dropped", {}, ("drop", 1, {}), {}, None),
    ("malformed", {}, ("malformed", 1, {}), {}, None),
    ("token_expires", {}, ("expire_token", 1, {}), {}, None),
    ("static_token_expires", {}, ("expire_token", 1, {}), STATIC_ONLY, REJECTED),
    ("invalid_token", {}, None, dict(access_token=WRONG_TOKEN, client_id=None, client_secret=None), REJECTED),
    ("tls_untrusted", dict(tls=True), None, {}, ["TLS failure", "validate_certs"]),
    ("tls_ca_path", dict(tls=True), None, dict(ca_path=True), None),
    ("refused", {}, "stop", {}, ["could not connect to"]),
]


@pytest.mark.parametrize("part", [0, 1], ids=["even_cases", "odd_cases"])
def test_inventory_faults(make_sim, tmp_path, part):
    """One ansible-inventory run per half of the cases, one source per case, each source on a simulator of its own
    with its own fault (two process starts instead of thirteen; two halves, so that two test workers share the
    waits). Every failing source fails alone; the others list their whole fleet."""
    cases = [(index, case) for index, case in enumerate(INVENTORY_CASES) if index % 2 == part]
    sims = {}
    sources = {}
    queued = {}
    for index, (name, sim_options, fault, overrides, _fails) in cases:
        sim = make_sim(seed=100 + index, **sim_options)  # distinct fleets: distinct device ids
        overrides = dict(overrides)
        if overrides.get("ca_path") is True:
            overrides["ca_path"] = sim.ca_path
        # Host names are device ids, unique across the fleets, so no two sources share a host.
        source = "%02d-%s.opswat.yml" % (index, name)
        sources[source] = _inventory_config(sim, hostnames=["device_id"], **overrides)
        if fault == "stop":
            sim.stop()
        elif fault is not None:
            kind, count, options = fault
            sim.add_fault(kind, count=count, endpoint="devices", after=2, **options)  # on the third page of six
        sims[name] = (sim, source)
        queued[name] = sim.pending_faults()
    run, data = harness.run_inventory([sim for sim, _source in sims.values()], tmp_path, sources,
                                      env=dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="0"))
    assert "Traceback" not in run.output
    hosts = set(harness.inventory_device_ids(data))
    for _index, (name, _sim_options, _fault, _overrides, fails) in cases:
        sim, source = sims[name]
        assert_fault_met(queued[name], sim.pending_faults())
        fleet = [device["device_id"] for device in sim.fleet.devices]
        failure = harness.inventory_failure(run.output, source)
        report("inventory-%s" % name, "failed" if failure else "ok",
               _inventory_error(failure) if failure else "every device of its fleet, one host each", None,
               len(harness.action_entries(sim)), None)
        if fails is None:
            assert not failure, (name, failure)
            assert set(fleet) <= hosts, "%s: a device is not a host" % name
            if name == "token_expires":
                assert len(harness.entries(sim, "token")) == 2, "the token was not fetched again exactly once"
            continue
        for text in fails:
            assert text in failure, (name, text, failure or run.output[-3000:])
        assert not set(fleet) & hosts, "%s: a failed listing still added hosts" % name
    # Every host is exactly one device of a fleet that listed successfully.
    listed = [device_id for _index, (name, _o, _f, _v, fails) in cases if fails is None
              for device_id in (d["device_id"] for d in sims[name][0].fleet.devices)]
    assert sorted(harness.inventory_device_ids(data)) == sorted(listed)


# name, the fault on the refresh (endpoint, kind, count, after, options), the text of the warning it draws (None:
# the refresh merges). The refresh follows 60 status changes and a deletion: two change pages, two Device Details.
REFRESH_CASES = [
    ("change_page_fails", ("status_changed", "status", 10, 1, dict(code=500)), "status_changed failed: HTTP 500"),
    ("change_page_503_once", ("status_changed", "status", 1, 1, dict(code=503)), None),
    ("change_record_without_device_id",
     ("status_changed", "status", 1, 0, dict(code=200, body={"monitored_devices": [{"status": "compliant"}]})),
     "monitored_devices[0].device_id is missing"),
    ("change_record_unknown_status",
     ("status_changed", "status", 1, 0, dict(code=200, body=[{"device_id": "0" * 32, "status": "rebooting"}])),
     "monitored_devices[0].status is 'rebooting', not a status this collection knows"),
    ("details_fail", ("detail", "status", 10, 1, dict(code=500)), "detail failed: HTTP 500"),
    ("check_fails", ("account", "status", 10, 0, dict(code=500)), "account failed: HTTP 500"),
]


def test_inventory_refresh_faults(make_sim, tmp_path):
    """The incremental refresh of a cached inventory (``--flush-cache``) after a fault: one ansible-inventory run
    caches every source, one refreshes them all, each source on a simulator of its own with its own fault. A
    refresh that cannot read the changes warns and keeps the inventory of the last refresh, never half-merged; one
    that gets past a transient fault merges, and the inventory is the fleet's."""
    sims = {}
    sources = {}
    for index, (name, _fault, _warning) in enumerate(REFRESH_CASES):
        sim = make_sim(seed=200 + index)
        source = "%02d-refresh-%s.opswat.yml" % (index, name)
        sources[source] = _inventory_config(sim, hostnames=["device_id"], cache=True, cache_plugin="ansible.builtin.jsonfile",
                                            cache_connection=str(tmp_path / "cache"))
        sims[name] = sim
    first, _data = harness.run_inventory(list(sims.values()), tmp_path, sources)
    assert first.returncode == 0, first.output[-3000:]
    before = {}
    queued = {}
    for name, (endpoint, kind, count, after, options), _warning in REFRESH_CASES:
        sim = sims[name]
        before[name] = [device["device_id"] for device in sim.fleet.devices]
        sim.random_changes(TARGET_DEVICES, seed=3, deletions=1)
        sim.add_fault(kind, count=count, endpoint=endpoint, after=after, **options)
        queued[name] = sim.pending_faults()
    run, data = harness.run_inventory(list(sims.values()), tmp_path, sources, args=("--list", "--flush-cache"))
    assert run.returncode == 0 and "Traceback" not in run.output, run.output[-3000:]
    warnings = _plugin_warnings(run.output)
    hosts = set(harness.inventory_device_ids(data))
    for name, _fault, warning in REFRESH_CASES:
        sim = sims[name]
        assert_fault_met(queued[name], sim.pending_faults())
        fleet = [device["device_id"] for device in sim.fleet.devices]
        if warning is None:
            assert set(fleet) <= hosts and not (set(before[name]) - set(fleet)) & hosts, "%s: not merged" % name
            report("inventory_refresh-%s" % name, "ok", "merged: every device of its fleet, one host each", None,
                   0, None)
            continue
        kept = "the changes since the last refresh could not be read, so the %d devices of that refresh are used" \
               " unchanged and not cached" % len(before[name])
        message = next((text for text in warnings if text.startswith(kept) and warning in text), None)
        assert message, (name, warning, warnings)
        assert set(before[name]) <= hosts, "%s: the inventory of the last refresh was not kept whole" % name
        report("inventory_refresh-%s" % name, "kept", message[len(kept) + 2:][:160], None, 0, None)
    assert harness.action_entries(next(iter(sims.values()))) == []


def _plugin_warnings(output):
    """The plugin's warnings in ansible-inventory's output, each on one line, without the plugin's name."""
    prefix = "[WARNING]: opswat.it_access.devices: "
    found = []
    for block in re.split(r"\n(?=\S)", output):
        if block.startswith(prefix):
            found.append(" ".join(block[len(prefix):].split()))
    return found


def _inventory_error(output):
    found = re.search(r"opswat\.it_access\.devices: ([^\n]+)", output)
    return found.group(1) if found else ""


# ---------------------------------------------------------------------------------------------- role

EXEMPT_SERVERS = dict(name="Exempt servers", match=dict(status=["compliant", "non_compliant"], device_type=["server", "vm"]),
                      action="exempt", exempt_hours=24)
QUARANTINE_LAPTOPS = dict(name="Quarantine laptops", match=dict(device_type=["laptop"], os_type=["windows"]),
                          action="assign_to_group", group_name="Quarantine")


def _role_targets(sim):
    servers = [d["device_id"] for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant")
               and d["device_type"] in ("server", "vm") and d["_sim"]["agent"] != "domain_controller"]
    laptops = [d["device_id"] for d in sim.fleet.devices if d["device_type"] == "laptop"
               and d["os_info"].get("type") == "windows" and d["group_name"] != "Quarantine"]
    assert servers and laptops
    return servers, laptops


def _role_env(sim, **overrides):
    env = dict(OPSWAT_API_URL=sim.url, OPSWAT_CLIENT_ID=harness.CLIENT_ID, OPSWAT_CLIENT_SECRET=CLIENT_SECRET,
               OPSWAT_REQUESTS_PER_MINUTE=str(harness.REQUESTS_PER_MINUTE), OPSWAT_RATE_LIMIT_WINDOW=str(harness.WINDOW),
               OPSWAT_TIMEOUT=str(harness.TIMEOUT), OPSWAT_RATE_LIMIT_TIMEOUT="10")
    env.update(overrides)
    return dict((key, value) for key, value in env.items() if value is not None)


def _run_role(sim, tmp_path, rules, env, **role_vars):
    role_vars.update(remediation_rules=rules, remediation_allow_partial=True)
    tasks = [{"name": "Include the role", "ansible.builtin.include_role": {"name": "opswat.it_access.remediation"},
              "vars": role_vars}]
    run, _results = harness.run_playbook(sim, tmp_path, tasks, env=env)
    return run


def _applied_ids(sim, action):
    return sum((entry["body"]["ids"] for entry in harness.action_entries(sim)
                if entry["action"] == action and entry["status"] == 200), [])


def test_role_read_faults_are_retried_and_every_device_is_acted_on_once(make_sim, tmp_path):
    sim = make_sim()
    servers, laptops = _role_targets(sim)
    sim.add_fault("status", count=1, endpoint="groups", code=502)
    sim.add_fault("rate_limit", count=2, endpoint="devices", after=1, retry_after=True)
    sim.add_fault("drop", count=1, endpoint="devices", after=1)
    sim.add_fault("expire_token", count=1, endpoint="devices", after=1)
    sim.add_fault("status", count=1, endpoint="detail", code=503)
    sim.add_fault("malformed", count=1, endpoint="detail")
    run = _run_role(sim, tmp_path, [EXEMPT_SERVERS, QUARANTINE_LAPTOPS], _role_env(sim))
    report("role-read_faults", "failed" if run.returncode else "ok", "both rules applied, every target acted on once",
           None, len(harness.action_entries(sim)), round(run.seconds, 2))
    assert run.returncode == 0, run.output[-6000:]
    assert sim.pending_faults() == [], "a fault was not exercised"
    assert sorted(_applied_ids(sim, "exempt")) == sorted(servers), "a server was lost or exempted twice"
    assert sorted(_applied_ids(sim, "assign_to_group")) == sorted(laptops), "a laptop was lost or moved twice"
    listing = harness.entries(sim, "devices")
    assert len([entry for entry in listing if entry["status"] == 200]) == math.ceil(harness.FLEET_SIZE / 50.0)


def test_role_action_timeout_fails_that_rule_once_and_applies_the_others(make_sim, tmp_path):
    sim = make_sim()
    servers, laptops = _role_targets(sim)
    sim.add_fault("slow", count=1, endpoint="action", seconds=SLOW_SECONDS)  # the first rule's only request
    run = _run_role(sim, tmp_path, [EXEMPT_SERVERS, QUARANTINE_LAPTOPS], _role_env(sim))
    report("role-action_timeout", "failed" if run.returncode else "ok", "1 rule(s) failed: Exempt servers", None,
           len(harness.action_entries(sim)), round(run.seconds, 2))
    assert run.returncode == 2
    assert "1 rule(s) failed: Exempt servers" in run.output
    assert "(timeout)" in run.output and MAY_HAVE_BEEN_APPLIED in run.output
    assert harness.wait_for_log(sim, lambda entry: entry["fault"] == "slow")
    exempt_requests = [entry for entry in harness.action_entries(sim) if entry["action"] == "exempt"]
    assert len(exempt_requests) == 1, "the timed-out action was sent again"
    assert sorted(exempt_requests[0]["body"]["ids"]) == sorted(servers)
    assert sorted(_applied_ids(sim, "assign_to_group")) == sorted(laptops), "the other rule was not applied"


def test_role_an_invalid_token_fails_clearly_before_any_write(make_sim, tmp_path):
    sim = make_sim()
    env = _role_env(sim, OPSWAT_ACCESS_TOKEN=WRONG_TOKEN, OPSWAT_CLIENT_ID=None, OPSWAT_CLIENT_SECRET=None)
    run = _run_role(sim, tmp_path, [EXEMPT_SERVERS, QUARANTINE_LAPTOPS], env)
    report("role-invalid_token", "failed" if run.returncode else "ok", REJECTED[0], None,
           len(harness.action_entries(sim)), round(run.seconds, 2))
    assert run.returncode == 2
    assert REJECTED[0] in run.output and "Traceback" not in run.output
    assert harness.action_entries(sim) == []


def test_role_a_change_page_failing_fails_the_role_before_any_write(make_sim, tmp_path):
    """remediation_changed_within after 60 changes: two Status Change pages, the second failing past the retries.
    The role fails on that task, naming the request; nothing is written and the fleet is not listed instead."""
    sim = make_sim()
    sim.random_changes(60, seed=3, seconds_ago=60)
    sim.add_fault("status", count=4, code=503, endpoint="status_changed", after=1)
    run = _run_role(sim, tmp_path, [EXEMPT_SERVERS, QUARANTINE_LAPTOPS], _role_env(sim), remediation_changed_within=600)
    report("role-change_page_fails", "failed" if run.returncode else "ok",
           "POST /o/api/v3/devices/status_changed failed: HTTP 503", None, len(harness.action_entries(sim)),
           round(run.seconds, 2))
    assert run.returncode == 2
    assert "/o/api/v3/devices/status_changed failed: HTTP 503" in run.output and "Traceback" not in run.output
    assert len(harness.entries(sim, "status_changed")) >= 2, "the fault was not on the second page"
    assert harness.action_entries(sim) == [] and harness.entries(sim, "devices") == []


# ---------------------------------------------------------------------------------------------- command results

WAITED_DEVICES = 3
# The read faults, on the second Get Reports request of a scan-and-wait (the first result came in) and on
# opswat_report's one request; the token faults are the other rows' business.
REPORT_ROWS = [row for row in READ_ROWS if row.name not in ("token_expires",)]
REPORT_CASES = ([pytest.param(row, "action_wait", id="action_wait-%s" % row.name) for row in REPORT_ROWS]
                + [pytest.param(row, "report", id="report-%s" % row.name) for row in REPORT_ROWS])


def _scan_devices(sim):
    return [device["device_id"] for device in sim.fleet.devices
            if sim.fleet.applies("scan_threats", device, (3, 3))][:WAITED_DEVICES]


@pytest.mark.parametrize("row, target", REPORT_CASES)
def test_report_fault(make_sim, fast, request, row, target):  # pylint: disable=unused-argument
    """A fault while waiting for command results leaves every device's entry saying what is known, and the command
    is never sent again; opswat_report retries a read as every module does."""
    sim = make_sim(**row.sim_options)
    ids = _scan_devices(sim)
    if target == "action_wait":
        module, after = "device_action", 1
        args = dict(action="scan_threats", full_scan=True, device_ids=ids, wait=True, allow_partial=True)
    else:
        module, args, after = "report", dict(type="missing_os_patch", device_id=ids[0]), 0
    args.update(harness.connection(sim, **row.connection))
    row.inject(sim, "reports", after)
    queued = sim.pending_faults()
    run = harness.run_module(module, args)
    assert run.traceback is None, run.traceback
    assert_fault_met(queued, sim.pending_faults())
    assert not harness.leaks(run.stdout, sim), "a secret leaked into the module's result"
    report(request.node.callspec.id, "failed" if run.failed else "ok", run.msg, run.result.get("api_requests"),
           len(harness.action_entries(sim)))
    if target == "action_wait":
        assert len(harness.action_entries(sim)) == 1, "the command was sent again"
        devices = run.result["devices"]
        assert devices[0]["result"] == "changed" and devices[0]["report"] is not None, "a fetched result was lost"
    if row.fails is None:
        assert run.exit_code == 0 and not run.failed, run
        if target == "action_wait":
            assert [entry["result"] for entry in devices] == ["changed"] * WAITED_DEVICES
        else:
            assert run.result["report"]["device_id"] == ids[0], "the report was not the device's"
        return
    assert run.exit_code == 1 and run.failed, run
    for text in row.fails:
        assert text in run.msg, (text, run.msg)
    if target == "action_wait":
        assert "Waiting for the command results stopped" in run.msg
        assert [entry["result"] for entry in devices[1:]] == ["pending"] * (WAITED_DEVICES - 1)
        assert all(entry["command_id"] in entry["error"] for entry in devices[1:])


# ---------------------------------------------------------------------------------------------- the document


def test_the_documented_matrix_lists_every_case():
    with open(os.path.join(harness.ROOT, "docs", "reliability.md")) as handle:
        text = handle.read()
    names = ([case.id for case in CASES] + ["inventory-%s" % case[0] for case in INVENTORY_CASES]
             + ["role-read_faults", "role-action_timeout", "role-invalid_token", "role-change_page_fails"]
             + ["inventory_refresh-%s" % case[0] for case in REFRESH_CASES]
             + [case.id for case in REPORT_CASES])
    missing = [name for name in names if "`%s`" % name not in text]
    assert not missing, "docs/reliability.md does not show: %s" % ", ".join(missing)
