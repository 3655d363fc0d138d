# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Soak: many module runs in one process against one simulator, each with random faults.

Every run must end without a traceback, with either a complete result (every device exactly once, every action
applied once) or a failure whose message names a cause that one of the faults it met explains. A device action is
never sent again after an answer other than 429 or 401. ``make test`` runs SHORT_RUNS; ``make soak`` runs the full
1,000 (RELIABILITY_SOAK=1, RELIABILITY_SOAK_RUNS to change the number, RELIABILITY_SOAK_SEED the seed).

Time is scaled further than in the matrix (the soak is about correctness under faults, not about waiting): the
simulator does not rate limit by itself, 429s carry a zero reset time, and the client waits 20 ms where it would
wait a second.
"""

from __future__ import absolute_import, division, print_function

import collections
import contextlib
import json
import math
import os
import random
import time

import pytest
import requests

import reliability_harness as harness
from reliability_harness import client_module, module_runner

from ansible_collections.opswat.it_access.plugins.module_utils import ratelimit

SHORT_RUNS = 100
FULL_RUNS = 1000
FLEET = 60
SOAK_TIMEOUT = 1.0
SOAK_SLOW = 1.3
TOKEN_PATH = "/o/oauth/token"

# The message family each fired fault can explain (a fault is read back from the simulator's log).
FAMILIES = {
    "rate_limit": "rate limited by the API (HTTP 429)",
    "slow": "(timeout)",
    "drop": "was dropped",
    "malformed": "the answer is not valid JSON",
    "expire_token": "the access token was rejected",
    "refused": "could not connect to",
}
ALL_FAMILIES = list(FAMILIES.values()) + ["failed: HTTP 5"]
NOT_PROCESSED = (429, 401)


class SoakClient(client_module.Client):
    """The collection's client with every wait scaled down to tens of milliseconds."""

    def __init__(self, *args, **kwargs):
        super(SoakClient, self).__init__(*args, **kwargs)
        self.session.retry_base_seconds = 0.01
        self.session.throttle.window_seconds = 0.05


@contextlib.contextmanager
def soak_client():
    original_client, original_minimum = module_runner.Client, ratelimit.MIN_THROTTLE_WAIT_SECONDS
    module_runner.Client = SoakClient
    ratelimit.MIN_THROTTLE_WAIT_SECONDS = 0.02
    try:
        yield
    finally:
        module_runner.Client = original_client
        ratelimit.MIN_THROTTLE_WAIT_SECONDS = original_minimum


class Scenario(object):
    """One run: a module, its arguments, the endpoints it reaches and how often."""

    def __init__(self, kind, module, args, requests_by_endpoint, ids=None):
        self.kind = kind
        self.module = module
        self.args = args
        self.requests_by_endpoint = requests_by_endpoint
        self.ids = ids or []


def _scenario(rng, sim):
    kind = rng.choice(["account", "groups", "listing", "details", "exempt", "unexempt"])
    if kind == "account":
        return Scenario(kind, "account_info", {}, dict(account=1))
    if kind == "groups":
        return Scenario(kind, "group_info", {}, dict(groups=1))
    if kind == "listing":
        page_size = rng.choice([7, 20, 50])
        return Scenario(kind, "device_info", dict(page_size=page_size), dict(devices=int(math.ceil(FLEET / float(page_size)))))
    pool = [d["device_id"] for d in sim.fleet.devices if d["status"] in ("compliant", "non_compliant", "exempted")
            and d["_sim"]["agent"] != "domain_controller"]
    ids = rng.sample(pool, rng.randint(1, min(len(pool), 55)))
    batches = int(math.ceil(len(ids) / 50.0))
    if kind == "details":
        return Scenario(kind, "device_info", dict(device_ids=ids), dict(detail=batches), ids)
    args = dict(action=kind, device_ids=ids)
    if kind == "exempt":
        args["exempt_hours"] = rng.choice([0, 1, 72])
    return Scenario(kind, "device_action", args, dict(detail=batches, action=batches), ids)


# kind, count range, options, weight
FAULTS = [
    ("rate_limit", (1, 3), dict(retry_after=False, reset=0), 3),
    ("rate_limit", (40, 40), dict(retry_after=False, reset=0), 1),
    ("status", (1, 2), None, 3),                 # a 5xx, code chosen below
    ("status", (4, 4), None, 1),                 # a 5xx past the retries of a read
    ("status_429", (1, 2), None, 1),             # a bare 429 without rate-limit headers
    ("status_after_apply", (1, 1), dict(code=500), 1),
    ("slow", (1, 1), dict(seconds=SOAK_SLOW), 1),
    ("drop", (1, 1), dict(after_apply=False), 1),
    ("drop", (1, 1), dict(after_apply=True), 1),
    ("malformed", (1, 2), {}, 2),
    ("expire_token", (1, 2), {}, 2),
]


def _inject(rng, sim, scenario, static):
    """0 to 2 random faults on endpoints the scenario reaches; returns their kinds, or ``["refused"]``."""
    if rng.random() < 0.03:
        return ["refused"]
    endpoints = dict(scenario.requests_by_endpoint)
    if not static:
        endpoints["token"] = 1
    kinds = []
    for _index in range(rng.choice([0, 1, 1, 2])):
        kind, counts, options, _weight = rng.choices(FAULTS, weights=[fault[3] for fault in FAULTS])[0]
        endpoint = rng.choice(sorted(endpoints))
        if kind == "expire_token" and endpoint == "token":
            continue  # nothing to expire on a token request
        options = dict(options or {})
        if kind == "status":
            options["code"] = rng.choice([500, 502, 503, 504])
        if kind == "status_429":
            kind, options = "status", dict(code=429, body={"error": "rate limit exceeded"})
        sim.add_fault(kind, count=rng.randint(*counts), endpoint=endpoint, after=rng.randrange(endpoints[endpoint]),
                      **options)
        kinds.append(kind)
    return kinds


def _fresh_token(sim):
    """An access token fetched outside the module, for a run that is given access_token only."""
    form = dict(grant_type="client_credentials", client_id=harness.CLIENT_ID, client_secret=harness.CLIENT_SECRET)
    answer = requests.post(sim.url + TOKEN_PATH, data=form, timeout=10)
    answer.raise_for_status()
    return answer.json()["access_token"]


class Tally(object):
    def __init__(self):
        self.runs = 0
        self.ok = 0
        self.failures = collections.Counter()
        self.fired = collections.Counter()
        self.problems = []
        self.tracebacks = 0
        self.seconds = 0.0

    def summary(self):
        return dict(runs=self.runs, ok=self.ok, failed=sum(self.failures.values()), failures=dict(self.failures),
                    faults_fired=dict(self.fired), problems=len(self.problems), tracebacks=self.tracebacks,
                    seconds=round(self.seconds, 1))


def _check(sim, scenario, run, fired, log, tally):
    """Every property of one run; a broken one is recorded in ``tally.problems``."""
    def problem(text):
        tally.problems.append("%s %s: %s (faults: %s) %r" % (scenario.kind, scenario.args.get("page_size", ""), text,
                                                             sorted(fired), run))

    if run.traceback is not None:
        tally.tracebacks += 1
        return problem("traceback " + run.traceback)
    if run.exit_code != (1 if run.failed else 0):
        return problem("exit code %r does not match failed=%r" % (run.exit_code, run.failed))
    if harness.leaks(run.stdout, sim):
        return problem("a secret leaked")
    actions = [entry for entry in log if entry["endpoint"] == "action"]
    sent = [device_id for entry in actions if entry["status"] not in NOT_PROCESSED for device_id in entry["body"]["ids"]]
    if len(sent) != len(set(sent)):
        problem("a device action was sent again after an answer that was not a 429 or a 401")
    if run.failed:
        family = [name for name in ALL_FAMILIES if name in run.msg]
        if not family:
            problem("a failure without a clear cause")
        explained = [name for name in fired if name in run.msg]
        if not explained:
            problem("a failure that no fault it met explains")
        tally.failures[family[0] if family else "unclear"] += 1
        if scenario.module == "device_info" and "devices" in run.result:
            problem("a failed listing returned devices")
        # A failed action request that was (or may have been) processed: the user must be told.
        if [entry for entry in actions if entry["fault"] and entry["status"] not in NOT_PROCESSED]:
            if "may have been applied" not in run.msg:
                problem("an action failed after it was sent without saying it may have been applied")
        return None
    tally.ok += 1
    _check_success(sim, scenario, run, actions, problem)
    return None


def _check_success(sim, scenario, run, actions, problem):
    result = run.result
    if scenario.kind == "listing":
        if [d["device_id"] for d in result["devices"]] != [d["device_id"] for d in sim.fleet.devices]:
            problem("the listing lost, repeated or reordered a device")
    elif scenario.kind == "details":
        if sorted(d["device_id"] for d in result["devices"]) != sorted(scenario.ids):
            problem("the lookup lost or repeated a device")
    elif scenario.kind == "groups":
        if sorted(g["group_id"] for g in result["groups"]) != sorted(g["group_id"] for g in sim.fleet.groups):
            problem("the group listing lost or repeated a group")
    elif scenario.kind == "account":
        if result["account"].get("name") != sim.fleet.account["name"] or "license_key" in result["account"]:
            problem("the account answer is not the account")
    else:
        wanted = "exempted" if scenario.kind == "exempt" else None
        statuses = harness.status_of(sim, scenario.ids)
        if wanted and statuses != [wanted] * len(scenario.ids):
            problem("exempt succeeded but a device is not exempted")
        if not wanted and "exempted" in statuses:
            problem("unexempt succeeded but a device is still exempted")
        applied = sorted(device_id for entry in actions if entry["status"] == 200 for device_id in entry["body"]["ids"])
        if applied != sorted(result["changed_ids"]):
            problem("the changed devices are not exactly the devices the action was applied to")


def soak(runs, seed):
    """Run the soak; returns the Tally."""
    rng = random.Random(seed)
    tally = Tally()
    sim = harness.make_simulator(devices=FLEET, seed=seed, rate_limit=0)
    started = time.monotonic()
    try:
        with soak_client():
            for _index in range(runs):
                _one_run(rng, sim, tally)
    finally:
        sim.stop()
    tally.seconds = time.monotonic() - started
    return tally


def _one_run(rng, sim, tally):
    scenario = _scenario(rng, sim)
    static = rng.random() < 0.3
    overrides = dict(timeout=SOAK_TIMEOUT, requests_per_minute=6000, rate_limit_timeout=0.3)
    if static:
        overrides.update(access_token=_fresh_token(sim), client_id=None, client_secret=None)
    before = len(sim.request_log())
    injected = _inject(rng, sim, scenario, static)
    url = sim.url
    refused = injected == ["refused"]
    if refused:
        sim.stop()
    run = harness.run_module(scenario.module, dict(scenario.args, **harness.connection(sim, url=url, **overrides)))
    if refused:
        sim.start()
    if "slow" in injected and not any(fault["kind"] == "slow" for fault in sim.pending_faults()):
        # A slow answer is logged when it ends, after the client gave up: wait for it to land in this run's log.
        deadline = time.monotonic() + 10
        while not any(entry["fault"] == "slow" for entry in sim.request_log()[before:]) and time.monotonic() < deadline:
            time.sleep(0.05)
    sim.clear_faults()
    log = sim.request_log()[before:]
    fired = set(FAMILIES[entry["fault"]] for entry in log if entry["fault"] in FAMILIES)
    fired.update("failed: HTTP %d" % entry["status"] for entry in log
                 if entry["fault"] in ("status", "status_after_apply") and entry["status"] >= 500)
    fired.update(FAMILIES["rate_limit"] for entry in log if entry["status"] == 429)
    if refused:
        fired.add(FAMILIES["refused"])
    tally.runs += 1
    for name in fired:
        tally.fired[name] += 1
    _check(sim, scenario, run, fired, log, tally)


def _report(tally, name):
    path = os.environ.get("RELIABILITY_REPORT")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps(dict(case=name, soak=tally.summary())) + "\n")


def test_soak_short():
    tally = soak(SHORT_RUNS, int(os.environ.get("RELIABILITY_SOAK_SEED", "7")))
    _report(tally, "soak-short")
    assert tally.runs == SHORT_RUNS
    assert not tally.problems, "\n".join(tally.problems[:10])
    # The random faults must really bite: some runs fail, most succeed.
    assert tally.ok >= SHORT_RUNS // 2 and sum(tally.failures.values()) >= 5, tally.summary()


@pytest.mark.soak
@pytest.mark.skipif(not os.environ.get("RELIABILITY_SOAK"), reason="the full soak runs with make soak (RELIABILITY_SOAK=1)")
def test_soak_full():
    runs = int(os.environ.get("RELIABILITY_SOAK_RUNS", str(FULL_RUNS)))
    tally = soak(runs, int(os.environ.get("RELIABILITY_SOAK_SEED", "1000")))
    _report(tally, "soak-full")
    print(json.dumps(tally.summary(), sort_keys=True))
    assert tally.runs == runs
    assert not tally.problems, "\n".join(tally.problems[:20])
