# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory's incremental refresh: real ansible-inventory and ansible-playbook runs against the simulator.

A refresh merges the status changes since the last one into the fleet it kept, and the result is what a full
listing gives at that moment; it lists in full when its check fails, and keeps the last fleet when the changes
cannot be read.
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import sys

import pytest

from conftest import ansible_runs, secrets_of, start_simulator
from test_inventory import base_config, home, run_inventory  # noqa: F401  pylint: disable=unused-import  # fixtures

SEED = 5
FLEET = 150  # three listing pages; ansible-inventory's cost grows with every host


@pytest.fixture
def simulator():
    with start_simulator(devices=FLEET) as sim:
        yield sim


def cached_config(sim, tmp_path, **options):
    config = dict(cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"),
                  cache_timeout=600,
                  keyed_groups=[{"key": "opswat_status", "prefix": "status"}, {"key": "opswat_severity", "prefix": "sev"}],
                  groups={"critical_laptops": "opswat_severity == 'critical' and opswat_device_type == 'laptop'"},
                  compose={"critical_issues": "opswat_issue.total_critical"})
    config.update(options)
    return base_config(sim, **config)


def endpoints(sim):
    return [entry["endpoint"] for entry in sim.request_log() if entry["endpoint"] != "token"]


def full_listing(sim, run_inventory, config):  # noqa: F811  pylint: disable=redefined-outer-name
    """What a full listing gives now, with the same options and no cache."""
    config = dict(config, cache=False)
    return run_inventory(config, file_name="full.opswat.yml").data


def kept_fleets(temp_dir):
    """The fleets kept for incremental refreshes in the collection's state directory under ``temp_dir``."""
    return glob.glob(os.path.join(temp_dir, "opswat_it_access-*", "inventory-*.json"))


def kept_fleet(temp_dir):
    paths = kept_fleets(temp_dir)
    assert len(paths) == 1, paths
    return paths[0]


def test_a_refresh_merges_the_changes_and_equals_a_full_listing(simulator, run_inventory, tmp_path):  # noqa: F811
    config = cached_config(simulator, tmp_path)
    first = run_inventory(config)
    assert "listing every device: no fleet of an earlier refresh on this machine" in first.output
    assert endpoints(simulator).count("devices") == 3

    changed = simulator.random_changes(60, seed=SEED, deletions=3)
    enrolled = simulator.enrol_device(status="non_compliant", device_type="laptop")
    simulator.clear_log()
    refreshed = run_inventory(config, args=("--list", "--flush-cache"))
    # Two change pages (61 changes and 3 deletions), the changed devices' details, the check; no listing.
    assert sorted(endpoints(simulator)) == ["account", "detail", "detail", "status_changed", "status_changed"]
    assert "%d devices: 61 status changes and 3 deletions of the last" % (FLEET - 3 + 1) in refreshed.output
    assert refreshed.data != first.data

    assert refreshed.data == full_listing(simulator, run_inventory, config)
    by_id = dict((device["device_id"], device) for device in simulator.fleet.devices)
    for name, hostvars in refreshed.hostvars.items():
        assert ansible_runs.plain(hostvars["opswat_status"]) == by_id[ansible_runs.plain(hostvars["opswat_device_id"])]["status"]
    ids = [ansible_runs.plain(hostvars["opswat_device_id"]) for hostvars in refreshed.hostvars.values()]
    assert enrolled in ids and not set(changed["deleted"]) & set(ids)

    # Cached as a listing would be: the next run sends nothing.
    simulator.clear_log()
    assert run_inventory(config).data == refreshed.data
    assert simulator.request_log() == []


def test_an_expired_cache_is_refreshed_from_the_changes(simulator, run_inventory, tmp_path):  # noqa: F811
    config = cached_config(simulator, tmp_path, status=["non_compliant"])
    run_inventory(config)
    device_id = next(device["device_id"] for device in simulator.fleet.devices if device["status"] == "compliant")
    simulator.change_status(device_id, "non_compliant")
    for path in (tmp_path / "cache").iterdir():
        os.utime(str(path), (0, 0))  # older than cache_timeout: the jsonfile plugin no longer returns it
    simulator.clear_log()
    refreshed = run_inventory(config)
    # With a filter there is no count to check the merge against: no Account Details request.
    assert endpoints(simulator) == ["status_changed", "detail"]
    assert device_id in [ansible_runs.plain(hostvars["opswat_device_id"]) for hostvars in refreshed.hostvars.values()]
    assert refreshed.data == full_listing(simulator, run_inventory, config)


def test_meta_refresh_inventory_merges_what_changed_during_the_play(simulator, tmp_path, home):  # noqa: F811
    config = cached_config(simulator, tmp_path, hostnames=["device_id"])
    device_id = next(device["device_id"] for device in simulator.fleet.devices if device["status"] == "compliant")
    play = [{
        "name": "refresh", "hosts": "localhost", "gather_facts": False,
        "tasks": [
            {"ansible.builtin.assert": {"that": ["hostvars['%s'].opswat_status == 'compliant'" % device_id]}},
            {"ansible.builtin.uri": {"url": simulator.url + "/_sim/change_status", "method": "POST", "body_format": "json",
                                     "body": {"device_id": device_id, "status": "quarantined"}}},
            {"ansible.builtin.meta": "refresh_inventory"},
            {"ansible.builtin.assert": {"that": ["hostvars['%s'].opswat_status == 'quarantined'" % device_id,
                                                 "'%s' in groups['status_quarantined']" % device_id]}},
        ]}]
    (tmp_path / "devices.opswat.yml").write_text(json.dumps(config))
    (tmp_path / "play.yml").write_text(json.dumps(play))
    run = ansible_runs.run_command(
        [ansible_runs.ANSIBLE_PLAYBOOK, "-i", str(tmp_path / "devices.opswat.yml"), "-c", "local",
         "-e", "ansible_python_interpreter=%s" % sys.executable, str(tmp_path / "play.yml"), "-v"],
        tmp_path, secrets_of(simulator), env=dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="1", HOME=str(home)))
    assert run.returncode == 0, run.output[-4000:]
    assert "1 status changes and 0 deletions of the last" in run.output
    assert endpoints(simulator).count("devices") == 3  # the first parse only


def test_a_check_that_fails_lists_every_device(simulator, run_inventory, tmp_path):  # noqa: F811
    config = cached_config(simulator, tmp_path)
    run_inventory(config)
    # An enrolment Status Change does not report: the merge misses it, and the account's count tells.
    simulator.set_status_changed(count_enrolments=False)
    enrolled = simulator.enrol_device()
    simulator.clear_log()
    refreshed = run_inventory(config, args=("--list", "--flush-cache"))
    monitored = len([device for device in simulator.fleet.devices
                     if device["status"] not in ("unknown", "ignored", "out_of_license_usage")])
    assert "Account Details counts %d monitored devices, the merged inventory %d: listing every device" % (
        monitored, monitored - 1) in " ".join(refreshed.output.split())
    assert endpoints(simulator)[:2] == ["status_changed", "account"] and endpoints(simulator).count("devices") == 4
    assert enrolled in [ansible_runs.plain(hostvars["opswat_device_id"]) for hostvars in refreshed.hostvars.values()]


# A failed Device Details or Account Details read, and change records that cannot be used, keep the last inventory
# the same way: the fault matrix's inventory_refresh cases run each of them through ansible-inventory.
def test_changes_that_cannot_be_read_keep_the_last_inventory(simulator, run_inventory, tmp_path,  # noqa: F811
                                                             private_state_directory):
    config = cached_config(simulator, tmp_path)
    first = run_inventory(config)
    kept = open(kept_fleet(private_state_directory)).read()
    cache_files = sorted((tmp_path / "cache").iterdir())
    cached = [path.read_text() for path in cache_files]
    simulator.random_changes(60, seed=SEED)  # two change pages, two Device Details requests
    simulator.add_fault("status", count=10, endpoint="status_changed", after=1, code=500)
    simulator.clear_log()
    refreshed = run_inventory(config, args=("--list", "--flush-cache"))
    assert "the changes since the last refresh could not be read, so the %d devices of that refresh are used" % FLEET + \
        " unchanged and not cached" in " ".join(refreshed.output.split())
    assert "HTTP 500" in refreshed.output
    assert refreshed.data == first.data  # never half-merged
    assert [path.read_text() for path in cache_files] == cached and open(kept_fleet(private_state_directory)).read() == kept
    assert endpoints(simulator).count("devices") == 0

    # The next run tries again, and merges.
    simulator.clear_faults()
    again = run_inventory(config, args=("--list", "--flush-cache"))
    assert "60 status changes and 0 deletions" in again.output
    assert again.data == full_listing(simulator, run_inventory, config)


def test_an_old_full_listing_is_listed_again(simulator, run_inventory, tmp_path, private_state_directory):  # noqa: F811
    config = cached_config(simulator, tmp_path, full_refresh_interval=3600)
    run_inventory(config)
    path = kept_fleet(private_state_directory)
    kept = json.load(open(path))
    kept.update(listed_at=kept["listed_at"] - 3600, checked_at=kept["checked_at"] - 60)
    with open(path, "w") as handle:
        json.dump(kept, handle)
    simulator.clear_log()
    refreshed = run_inventory(config, args=("--list", "--flush-cache"))
    assert "listing every device: the last full listing is older than full_refresh_interval (3600 s)" in refreshed.output
    assert endpoints(simulator) == ["devices"] * 3


def test_incremental_refresh_can_be_turned_off(simulator, run_inventory, tmp_path, private_state_directory):  # noqa: F811
    config = cached_config(simulator, tmp_path, incremental_refresh=False)
    run_inventory(config)
    simulator.clear_log()
    run_inventory(config, args=("--list", "--flush-cache"))
    assert endpoints(simulator) == ["devices"] * 3
    assert kept_fleets(private_state_directory) == []
