# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The device_status source and the quarantine rulebook under the real ansible-rulebook, against the simulator,
with the collection installed from its tarball."""

import json
import os
import re
import subprocess
import sys

from conftest import wait_for

HERE = os.path.dirname(os.path.abspath(__file__))


def enrol(simulator, status="compliant"):
    return simulator.control("POST", "enrol_device", {"status": status, "group_name": "Default"})["device_id"]


def change(simulator, device_id, status):
    simulator.control("POST", "change_status", {"device_id": device_id, "status": status})


def polled_since_start(simulator, count=1):
    """The source has polled ``count`` times: a change made now comes after its start (a first start emits only
    the changes from then on)."""
    return wait_for("%d poll(s) of the source" % count, lambda: len(simulator.log("status_changed")) >= count)


def group_of(simulator, device_id):
    return simulator.api("/o/api/v3.8/devices/detail", {"ids": [device_id]})[0]["group_name"]


def test_a_device_that_turns_non_compliant_is_quarantined_with_one_write(simulator, start_rulebook):
    device_id = enrol(simulator)
    simulator.control("DELETE", "log")
    rulebook = start_rulebook("opswat.it_access.quarantine_non_compliant",
                              {"opswat_poll_interval": 1, "opswat_checkpoint_path": "checkpoint.json"},
                              simulator.environment())
    polled_since_start(simulator)
    change(simulator, device_id, "non_compliant")
    wait_for("the quarantine write", lambda: simulator.log("action"))
    wait_for("the playbook's end", lambda: "PLAY RECAP" in rulebook.output())
    polls_before = len(simulator.log("status_changed"))
    polled_since_start(simulator, polls_before + 2)  # two more polls: nothing more is written
    output = rulebook.stop()
    log = simulator.log()
    endpoints = [entry["endpoint"] for entry in log]
    writes = [entry for entry in log if entry["endpoint"] == "action"]
    assert len(writes) == 1, endpoints
    assert writes[0]["body"]["ids"] == [device_id] and writes[0]["body"]["types"] == "assign_to_group"
    first_write = endpoints.index("action")
    assert "status_changed" in endpoints[:first_write] and "detail" in endpoints[:first_write], endpoints
    assert endpoints.count("token") == 1, endpoints  # the source and the playbook share the cached token
    assert all(entry["status"] != 429 for entry in log)
    assert output.count("PLAY RECAP") == 1
    assert group_of(simulator, device_id) == "Quarantine"
    assert "sim-secret" not in output


def emitted_ids(output):
    return re.findall(r"'device_id': '([0-9a-f]{32})'", output)


def test_a_restart_emits_nothing_twice_and_misses_nothing(simulator, start_rulebook, tmp_path):
    first, down, later = enrol(simulator), enrol(simulator), enrol(simulator)
    rulebook_file = os.path.join(HERE, "rulebooks", "print_status_changes.yml")
    variables = {"checkpoint_path": str(tmp_path / "checkpoint.json")}
    simulator.control("DELETE", "log")

    run = start_rulebook(rulebook_file, variables, simulator.environment())
    polled_since_start(simulator)
    change(simulator, first, "non_compliant")
    wait_for("the first change", lambda: first in emitted_ids(run.output()))
    before_restart = run.stop()

    change(simulator, down, "non_compliant")  # while no source runs
    polls = len(simulator.log("status_changed"))
    run = start_rulebook(rulebook_file, variables, simulator.environment())
    wait_for("the change made while it was down", lambda: down in emitted_ids(run.output()))
    polled_since_start(simulator, polls + 2)
    change(simulator, later, "non_compliant")
    wait_for("a change after the restart", lambda: later in emitted_ids(run.output()))
    polled_since_start(simulator, len(simulator.log("status_changed")) + 2)
    after_restart = run.stop()

    assert emitted_ids(before_restart) == [first]
    assert emitted_ids(after_restart) == [down, later]


def test_ansible_doc_reads_the_sources_documentation(installed_collection):
    """As galaxy-importer reads an event source's documentation: ansible-doc -M on the directory."""
    directory = os.path.join(installed_collection, "ansible_collections", "opswat", "it_access", "extensions", "eda",
                             "plugins", "event_source")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=installed_collection)
    result = subprocess.run(["ansible-doc", "-M", directory, "--json", "device_status"], env=env,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)["device_status"]["doc"]
    assert {"interval", "batch", "statuses", "checkpoint_path", "overlap", "initial_age", "client_id"} <= set(doc["options"])


def test_bench_scenario_10_runs_and_meets_its_counts(installed_collection, tmp_path):
    """make bench's scenario 10 (a status change to its quarantine write under the rulebook) on a small fleet, so
    that it cannot rot: one write, no 429, one request a poll, the change seen by the first poll after it."""
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "benchmarks"))
    import benchlib  # pylint: disable=import-outside-toplevel
    ctx = benchlib.Context(benchlib.Scale(60), benchlib.Sizes(devices=200), workdir=str(tmp_path),
                           collections_path=installed_collection)
    scenario, = benchlib.run_all(ctx, [10], ("collection",))
    targets = dict((target["target"], target) for target in benchlib.evaluate_targets([scenario]))
    failed = [name for name, target in targets.items() if target["met"] is False]
    assert not failed, (failed, scenario["runs"])
    assert len(targets) == 5
