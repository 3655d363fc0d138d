# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rate_limit_store with a real redis-server: two "machines" (processes with state directories of their own, so
the local files cannot help) against one simulator at 10 requests a 1-second window.

With the store: 0 x 429, no window holding more than 10 arrivals, one token fetched for both. Without it: 429s,
which is what the store buys. Redis killed in the middle of a run: a warning, the local pace, the run completes
with no 429; Redis started again: used again. Counts only, no assertion on how long anything took.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CLIENT_ID = "redis-proof-client-7d1a"
CLIENT_SECRET = "redis-proof-secret-30be-never-printed"
WINDOW = 1.0
LIMIT = 10
DEVICES = 1000  # 20 pages a machine
STAMP_SLACK_SECONDS = 0.002
RUN_SECONDS = 120


@pytest.fixture
def sim(make_sim):
    return make_sim(devices=1500, seed=3, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit=LIMIT,
                    window=WINDOW)


def options(sim, store, **overrides):
    values = dict(api_url=sim.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit_store=store,
                  requests_per_minute=int(LIMIT * 60 / WINDOW), rate_limit_window=WINDOW, timeout=5,
                  rate_limit_timeout=60, max_devices=DEVICES)
    values.update(overrides)
    return values


def start_machine(values):
    """A process with a state directory of its own (TMPDIR): another machine, as far as the local files go."""
    environment = dict(os.environ, TMPDIR=tempfile.mkdtemp(prefix="oit-machine-"))
    return subprocess.Popen([sys.executable, os.path.join(HERE, "machine.py"), json.dumps(values)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment, text=True)


def outcome(process):
    stdout, stderr = process.communicate(timeout=RUN_SECONDS)
    assert process.returncode == 0, stderr
    assert CLIENT_SECRET not in stdout + stderr
    return json.loads(stdout)


def arrival(entry):
    return datetime.strptime(entry["time"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def overfull_windows(entries):
    arrivals = sorted(arrival(entry) for entry in entries)
    return [(arrivals[index], arrivals[index + LIMIT]) for index in range(len(arrivals) - LIMIT)
            if arrivals[index + LIMIT] - arrivals[index] < WINDOW - STAMP_SLACK_SECONDS]


def wait_until(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def token_requests(sim):
    return [entry for entry in sim.request_log() if entry["endpoint"] == "token"]


def test_two_machines_sharing_the_store_draw_no_429_and_fetch_one_token(sim, redis_server):
    first = start_machine(options(sim, redis_server.url))
    # The second starts once the first has cached its token in Redis: it must use that one.
    wait_until(lambda: "opswat_it_access:token:" in redis_server.command("KEYS", "*"))
    second = start_machine(options(sim, redis_server.url))
    results = [outcome(first), outcome(second)]
    entries = sim.request_log()
    assert [result["devices"] for result in results] == [DEVICES, DEVICES]
    assert [result["metrics"]["throttled"] for result in results] == [0, 0]
    assert [entry for entry in entries if entry["status"] == 429] == []
    assert len(entries) == 1 + 2 * DEVICES // 50
    assert len(token_requests(sim)) == 1
    assert overfull_windows(entries) == []
    assert [result["warnings"] for result in results] == [[], []]
    keys = redis_server.command("KEYS", "*")
    assert "opswat_it_access:pace:" in keys and CLIENT_ID not in keys


def test_the_same_two_machines_without_the_store_draw_429s(sim):
    machines = [start_machine(options(sim, "local")) for _machine in range(2)]
    results = [outcome(machine) for machine in machines]
    assert [result["devices"] for result in results] == [DEVICES, DEVICES]
    assert sum(result["metrics"]["throttled"] for result in results) > 0
    assert [entry for entry in sim.request_log() if entry["status"] == 429] != []
    assert len(token_requests(sim)) == 2  # each machine fetched its own


def test_redis_killed_mid_run_falls_back_with_a_warning_and_is_used_again_once_restarted(sim, redis_server):
    machine = start_machine(options(sim, redis_server.url, max_devices=1500))  # 30 pages
    wait_until(lambda: len(sim.request_log()) >= 6)
    redis_server.kill()
    wait_until(lambda: len(sim.request_log()) >= 16)
    redis_server.start()  # empty: nothing of the run is left in it
    result = outcome(machine)
    assert result["devices"] == 1500 and result["metrics"]["throttled"] == 0
    assert [entry for entry in sim.request_log() if entry["status"] == 429] == []
    assert overfull_windows(sim.request_log()) == []
    fallback = [warning for warning in result["warnings"] if "cannot be used" in warning]
    again = [warning for warning in result["warnings"] if "answers again" in warning]
    assert len(fallback) == 1 and "%s cannot be used" % redis_server.url in fallback[0]
    assert len(again) == 1
    assert "opswat_it_access:pace:" in redis_server.command("KEYS", "*")  # the requests after the restart


def test_a_wrong_password_in_the_store_url_falls_back_and_never_shows(sim, make_redis):
    server = make_redis(password="redis-proof-right-password-9a0b")
    password = "redis-proof-wrong-password-5c2e"
    url = server.url.replace("redis://", "redis://:%s@" % password)
    result = outcome(start_machine(options(sim, url, max_devices=50)))
    assert result["devices"] == 50
    assert len(result["warnings"]) == 1 and "cannot be used" in result["warnings"][0]
    assert password not in result["warnings"][0]


def test_a_module_never_returns_the_password_of_the_store_url(sim, make_redis, monkeypatch):
    """The URL is a module option: its password is masked in the result, the invocation included."""
    import inprocess

    monkeypatch.setenv("TMPDIR", tempfile.mkdtemp(prefix="oit-module-"))
    monkeypatch.setattr(tempfile, "tempdir", None)
    password = "redis-proof-module-password-71ad"
    server = make_redis(password=password)
    args = options(sim, server.url.replace("redis://", "redis://:%s@" % password))
    del args["max_devices"]
    args["_ansible_inject_invocation"] = True
    run = inprocess.run_module("account_info", args)
    assert run.exit_code == 0 and not run.failed, run
    assert run.result["invocation"]["module_args"]["rate_limit_store"] == server.url.replace(
        "redis://", "redis://:********@")
    assert password not in run.stdout and not run.warnings
    assert "opswat_it_access:pace:" in server.command("KEYS", "*")  # the password was used: the pace is there


def test_the_inventory_plugin_uses_the_store(sim, make_redis, tmp_path):
    """ansible-inventory with the store in the environment (as the AWX credential sets it): its pace and its token
    are in Redis, and the password of the store appears nowhere in its output at -vvvv."""
    import ansible_runs

    password = "redis-proof-inventory-password-2f9c"
    server = make_redis(password=password)
    source = dict(plugin="opswat.it_access.devices", api_url=sim.url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                  requests_per_minute=int(LIMIT * 60 / WINDOW), rate_limit_window=WINDOW, max_devices=100)
    environment = dict(ANSIBLE_INVENTORY_ENABLED="opswat.it_access.devices", ANSIBLE_INVENTORY_UNPARSED_FAILED="1",
                       OPSWAT_RATE_LIMIT_STORE=server.url, OPSWAT_RATE_LIMIT_STORE_PASSWORD=password,
                       TMPDIR=tempfile.mkdtemp(prefix="oit-inventory-"))
    run, data = ansible_runs.run_inventory(tmp_path, {"devices.opswat.yml": source}, [CLIENT_SECRET, password],
                                           env=environment)
    assert run.returncode == 0, run.output
    assert len(data["_meta"]["hostvars"]) == 100
    keys = server.command("KEYS", "*")
    assert "opswat_it_access:pace:" in keys and "opswat_it_access:token:" in keys
    assert "cannot be used" not in run.output
