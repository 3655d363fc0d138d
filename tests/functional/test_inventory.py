# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin opswat.it_access.devices: real ansible-inventory (and ansible-playbook) runs against the simulator.

Every run is at -vvvv unless a test says otherwise, and its output, the inventory it wrote and any cache file are
searched for the known secrets: none may appear.
"""

from __future__ import absolute_import, division, print_function

import json
import math
import os
import subprocess
import sys

import pytest
import yaml

from conftest import (CLIENT_ID, CLIENT_SECRET, REQUESTS_PER_MINUTE, STATIC_TOKEN, WINDOW, ansible_runs,
                      leaked_secrets, requests_by_endpoint, secrets_of, start_simulator)
from ansible_runs import plain  # tests/support, put on sys.path by conftest

BIN = os.path.dirname(sys.executable)
EVIL_POSITION = 3  # tests/simulator/itaccess_sim/fleet.py AWKWARD_NAMES
EVIL_NAME = "{{ lookup('env','HOME') }}"
HOME_MARKER = "home-marker-3b7e91"


class InventoryRun(object):
    def __init__(self, returncode, output, data):
        self.returncode = returncode
        self.output = output
        self.data = data

    @property
    def hostvars(self):
        return self.data["_meta"]["hostvars"]

    @property
    def hosts(self):
        return list(self.hostvars)

    def members(self, group):
        """Hosts of a group, its child groups included."""
        entry = self.data.get(group, {})
        hosts = list(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts.extend(self.members(child))
        return hosts


def base_config(sim, **options):
    config = {"plugin": "opswat.it_access.devices", "api_url": sim.url, "client_id": CLIENT_ID,
              "client_secret": CLIENT_SECRET, "requests_per_minute": REQUESTS_PER_MINUTE, "rate_limit_window": WINDOW,
              "rate_limit_timeout": 30,
              "timeout": 10}
    config.update(options)
    return dict((key, value) for key, value in config.items() if value is not None)


@pytest.fixture
def simulator():
    """A smaller fleet than the other tests' (ansible-inventory's cost grows with every host), still 8 pages."""
    with start_simulator(devices=400) as sim:
        yield sim


@pytest.fixture
def home(tmp_path):
    """A HOME whose path is recognisable: a template that reads it would show the marker."""
    path = tmp_path / HOME_MARKER
    path.mkdir()
    return path


@pytest.fixture
def run_inventory(simulator, tmp_path, home):
    """Run ``ansible-inventory -i <file> ARGS`` on a configuration; with ``--list``, ``data`` is its JSON."""

    def run(config=None, args=("--list",), text=None, file_name="devices.opswat.yml", env=None, verbosity=4,
            expect_rc=0):
        source = text if text is not None else (config if config is not None else base_config(simulator))
        run_env = dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="1", HOME=str(home))
        run_env.update(env or {})
        command_run, data = ansible_runs.run_inventory(tmp_path, {file_name: source}, secrets_of(simulator), args=args,
                                                       env=run_env, verbosity=verbosity)
        assert command_run.returncode == expect_rc, command_run.output[-6000:]
        return InventoryRun(command_run.returncode, command_run.output, data)

    return run


def os_types(device):
    info = device.get("os_info")
    return set(entry.get("type") for entry in (info if isinstance(info, list) else [info]) if entry)


# ---------------------------------------------------------------------------------------------- every device


def test_every_device_becomes_a_host_exactly_once(simulator, run_inventory):
    result = run_inventory()
    fleet = simulator.fleet.devices
    assert len(result.hosts) == len(fleet) == 400
    assert sorted(plain(vars_["opswat_device_id"]) for vars_ in result.hostvars.values()) == sorted(
        device["device_id"] for device in fleet)
    # The fewest requests: one token, 8 pages of 50; nothing else.
    assert len(requests_by_endpoint(simulator, "devices")) == math.ceil(400 / 50)
    assert set(entry["endpoint"] for entry in simulator.request_log()) == set(["token", "devices"])
    assert [entry for entry in simulator.request_log() if entry["status"] != 200] == []
    # -vvv shows the requests (redacted by the client), and a summary.
    assert "POST /o/api/v3.7/devices -> HTTP 200" in result.output
    assert "opswat.it_access.devices: 400 devices listed with 9 requests" in result.output
    # No group is created unless asked for.
    assert sorted(group for group in result.data if group != "_meta") == ["all", "ungrouped"]


def test_host_names_hostvars_and_ansible_host(simulator, run_inventory):
    result = run_inventory()
    by_id = dict((plain(vars_["opswat_device_id"]), (name, plain(vars_))) for name, vars_ in result.hostvars.items())
    computed = ("opswat_ipv4_addresses", "opswat_macs", "opswat_os_type")
    for device in simulator.fleet.devices:
        name, hostvars = by_id[device["device_id"]]
        assert name == device["device_name"].strip()  # the simulator's names are unique
        for field in ("device_id", "device_name", "status", "severity", "device_type", "group_name", "os_info",
                      "network_info", "issue", "enrolled_at", "last_seen"):
            assert hostvars["opswat_" + field] == device[field]
        assert hostvars["opswat_host_name"] == device["host_name"] and hostvars["opswat_public_ip"] == device["public_ip"]
        # Every field the API sent, as it sent it (v3.7: host_name and public_ip included).
        for variable, value in hostvars.items():
            if variable.startswith("opswat_") and variable not in computed:
                assert value == device[variable[len("opswat_"):]]
        usable = [adapter["ipv4"] for adapter in device["network_info"] if adapter["ipv4"] not in ("N/A", "0.0.0.0")]
        assert hostvars["opswat_ipv4_addresses"] == usable
        if usable:
            assert hostvars["ansible_host"] == usable[0]
        else:
            assert "ansible_host" not in hostvars
        assert hostvars["opswat_os_type"] == device["os_info"]["type"]
        assert hostvars["opswat_macs"] == [adapter["mac"] for adapter in device["network_info"]]
        assert not [variable for variable in hostvars if variable.startswith("ansible_") and variable != "ansible_host"]


def test_shared_host_names_are_disambiguated_and_no_device_is_lost(simulator, run_inventory):
    # Nicknames such as "Alice's laptop" are shared by several devices.
    result = run_inventory(base_config(simulator, hostnames=["nickname"]))
    assert len(result.hosts) == 400
    shared = {}
    for device in simulator.fleet.devices:
        shared.setdefault(device["nickname"].strip(), []).append(device)
    assert len([devices for devices in shared.values() if len(devices) > 1]) > 5
    for nickname, devices in shared.items():
        for device in devices:
            expected = nickname if len(devices) == 1 else "%s_%s" % (nickname, device["device_id"][:8])
            assert plain(result.hostvars[expected]["opswat_device_id"]) == device["device_id"]
    assert "devices share a host name with another device" in result.output


def test_ansible_host_can_be_turned_off(simulator, run_inventory):
    result = run_inventory(base_config(simulator, ansible_host_sources=[], max_devices=20, vars_prefix="itaccess_"))
    assert len(result.hosts) == 20
    for hostvars in result.hostvars.values():
        assert "ansible_host" not in hostvars
        assert "itaccess_device_id" in hostvars and "opswat_device_id" not in hostvars


# ---------------------------------------------------------------------------------------------- filters


def test_filters_or_within_and_across(simulator, run_inventory):
    result = run_inventory(base_config(simulator, status=["non_compliant", "quarantined"], os_type=["windows", "mac"],
                                       device_type=["laptop", "desktop"]))
    expected = [device["device_id"] for device in simulator.fleet.devices
                if device["status"] in ("non_compliant", "quarantined") and os_types(device) & set(["windows", "mac"])
                and device["device_type"] in ("laptop", "desktop")]
    assert expected
    assert sorted(plain(vars_["opswat_device_id"]) for vars_ in result.hostvars.values()) == sorted(expected)


def test_group_name_filter_is_exact(simulator, run_inventory):
    result = run_inventory(base_config(simulator, group_name=["Sales Laptops"], severity=["critical", "warning"]))
    expected = [device["device_id"] for device in simulator.fleet.devices
                if device["group_name"] == "Sales Laptops" and device["severity"] in ("critical", "warning")]
    assert expected
    assert sorted(plain(vars_["opswat_device_id"]) for vars_ in result.hostvars.values()) == sorted(expected)
    assert run_inventory(base_config(simulator, group_name=["sales laptops"])).hosts == []


def test_max_devices_stops_the_listing(simulator, run_inventory):
    result = run_inventory(base_config(simulator, max_devices=7))
    assert sorted(plain(vars_["opswat_device_id"]) for vars_ in result.hostvars.values()) == sorted(
        device["device_id"] for device in simulator.fleet.devices[:7])
    listing = requests_by_endpoint(simulator, "devices")
    assert len(listing) == 1 and listing[0]["body"]["limit"] == 7


@pytest.mark.parametrize("options, option", [
    (dict(status=["non-compliant"]), "status"),
    (dict(os_type=["win"]), "os_type"),
    (dict(max_devices=0), "max_devices"),
    (dict(page_size=500), "page_size"),
    (dict(vars_prefix="opswat-"), "vars_prefix"),
    (dict(hostnames=["fqdn"]), "hostnames"),
    (dict(client_secret=None), "client_secret"),
])
def test_a_bad_option_fails_clearly_before_any_request(simulator, run_inventory, options, option):
    result = run_inventory(base_config(simulator, **options), expect_rc=1)
    assert "'%s'" % option in result.output or "%s:" % option in result.output
    assert simulator.request_log() == []


@pytest.mark.parametrize("options, expected", [
    (dict(status=["non-compliant"]), "status: unknown value(s) non-compliant; choose from compliant, non_compliant,"),
    (dict(severity="urgent"), "severity: unknown value(s) urgent; choose from "),
    (dict(hostnames=["device_name", "fqdn"]), "hostnames: unknown value(s) fqdn; choose from device_name, host_name,"),
])
def test_a_bad_choice_is_reported_with_the_valid_values_in_the_first_line(simulator, run_inventory, options, expected):
    # Without UNPARSED_FAILED a pipeline shows only the warning line: it must say what to write instead.
    result = run_inventory(base_config(simulator, **options), env=dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="0"),
                           verbosity=0)
    warning = [line for line in result.output.splitlines() if "Failed to parse inventory with 'auto' plugin:" in line]
    assert len(warning) == 1 and expected in warning[0], result.output[-3000:]
    assert simulator.request_log() == []


# ---------------------------------------------------------------------------------------------- constructed


def test_keyed_groups_groups_and_compose(simulator, run_inventory):
    # 300 devices: constructed features render templates for every host, which takes a while on 1200.
    config = base_config(
        simulator, max_devices=300,
        keyed_groups=[{"key": "opswat_status", "prefix": "opswat_status"},
                      {"key": "opswat_os_type", "prefix": "os"},
                      {"key": "opswat_group_name", "prefix": "itaccess_group"}],
        groups={"critical": "opswat_severity == 'critical'", "needs_patching": "opswat_issue.total_critical > 0"},
        compose={"ansible_user": "'admin'", "agent": "opswat_agent_version", "address": "ansible_host | default('none')"})
    result = run_inventory(config)
    fleet = simulator.fleet.devices[:300]
    for status in set(device["status"] for device in fleet):
        assert len(result.members("opswat_status_" + status)) == len([device for device in fleet if device["status"] == status])
    assert len(result.members("os_linux")) == len([device for device in fleet if "linux" in os_types(device)])
    assert len(result.members("itaccess_group_Sales_Laptops")) == len(
        [device for device in fleet if device["group_name"] == "Sales Laptops"])
    assert len(result.members("critical")) == len([device for device in fleet if device["severity"] == "critical"])
    assert len(result.members("needs_patching")) == len([device for device in fleet if device["issue"]["total_critical"]])
    first = fleet[0]
    hostvars = plain(result.hostvars[first["device_name"]])
    assert hostvars["ansible_user"] == "admin"
    assert hostvars["agent"] == first["agent_version"]
    assert hostvars["address"] == hostvars.get("ansible_host", "none")

    graph = run_inventory(config, args=("--graph",), verbosity=0)
    assert "@opswat_status_non_compliant:" in graph.output
    assert "@critical:" in graph.output


def test_strict(simulator, run_inventory):
    config = base_config(simulator, max_devices=5, compose={"broken": "opswat_no_such_field.attribute"})
    result = run_inventory(config)
    assert len(result.hosts) == 5
    assert not [hostvars for hostvars in result.hostvars.values() if "broken" in hostvars]
    config["strict"] = True
    result = run_inventory(config, expect_rc=1)
    assert "Could not set broken" in result.output


# ---------------------------------------------------------------------------------------------- unsafe


def test_a_malicious_device_name_is_never_rendered(simulator, run_inventory, home):
    evil = simulator.fleet.devices[EVIL_POSITION]
    assert evil["device_name"] == EVIL_NAME
    config = base_config(
        simulator, max_devices=12,
        compose={"shown_name": "opswat_device_name", "decorated": "'[' ~ opswat_device_name ~ ']'"},
        groups={"templated_names": "'lookup' in opswat_device_name"},
        keyed_groups=[{"key": "opswat_device_name", "prefix": "name"}])
    result = run_inventory(config)
    raw = json.dumps(result.data)
    assert str(home) not in raw and HOME_MARKER not in raw
    assert EVIL_NAME in result.hosts
    hostvars = plain(result.hostvars[EVIL_NAME])
    assert hostvars["opswat_device_name"] == EVIL_NAME
    assert hostvars["shown_name"] == EVIL_NAME
    assert hostvars["decorated"] == "[%s]" % EVIL_NAME
    assert result.members("templated_names") == [EVIL_NAME]
    # Every awkward name of the fleet stays exactly as the API gave it.
    for device in simulator.fleet.devices[:12]:
        name = device["device_name"].strip()
        assert plain(result.hostvars[name]["opswat_device_name"]) == device["device_name"]
        assert plain(result.hostvars[name]["shown_name"]) == device["device_name"]

    graph = run_inventory(config, args=("--graph",), verbosity=0)
    assert EVIL_NAME in graph.output
    assert HOME_MARKER not in graph.output


def test_a_playbook_never_renders_device_names(simulator, tmp_path, home):
    """The names reach a play through hostvars and compose: they come out as text, never rendered."""
    inventory = tmp_path / "devices.opswat.yml"
    inventory.write_text(json.dumps(base_config(simulator, max_devices=12, compose={"shown_name": "opswat_device_name"})))
    names_file = tmp_path / "names.json"
    play = [{
        "hosts": "localhost", "gather_facts": False, "connection": "local",
        "tasks": [
            {"ansible.builtin.copy": {
                "content": "{{ groups['all'] | map('extract', hostvars) | map(attribute='shown_name') | list | to_json }}",
                "dest": str(names_file), "mode": "0600"}},
            {"ansible.builtin.debug": {"msg": "name={{ hostvars[groups['all'][%d]].opswat_device_name }}" % EVIL_POSITION}},
        ],
    }]
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps(play))
    completed = ansible_runs.run_command(
        [ansible_runs.ANSIBLE_PLAYBOOK, "-i", str(inventory), str(playbook), "-e", "ansible_python_interpreter=%s" % sys.executable],
        tmp_path, secrets_of(simulator), env=dict(HOME=str(home), ANSIBLE_INVENTORY_UNPARSED_FAILED="1"))
    assert completed.returncode == 0, completed.output[-6000:]
    names = json.loads(names_file.read_text())
    assert names == [device["device_name"] for device in simulator.fleet.devices[:12]]
    assert '"msg": "name=%s"' % EVIL_NAME in completed.output
    assert HOME_MARKER not in completed.output and HOME_MARKER not in names_file.read_text()


def test_yaml_and_host_output_show_plain_values(simulator, tmp_path, home):
    """docs/inventory.md: --list JSON wraps untrusted strings in __ansible_unsafe (the core's encoder); --yaml and
    --host show them plain, and still as text, never rendered."""
    inventory = tmp_path / "devices.opswat.yml"
    # Host names from the device ids: a pattern of --host cannot hold the evil name's comma.
    inventory.write_text(json.dumps(base_config(simulator, max_devices=5, hostnames=["device_id"])))
    evil_id = simulator.fleet.devices[EVIL_POSITION]["device_id"]
    outputs = {}
    for args in (("--list", "--yaml"), ("--host", evil_id)):
        completed = ansible_runs.run_command(
            [ansible_runs.ANSIBLE_INVENTORY, "-i", str(inventory)] + list(args), tmp_path, secrets_of(simulator),
            env=dict(HOME=str(home), ANSIBLE_INVENTORY_UNPARSED_FAILED="1", ANSIBLE_LOCALHOST_WARNING="0"))
        assert completed.returncode == 0, completed.output[-3000:]
        assert "__ansible_unsafe" not in completed.output and HOME_MARKER not in completed.output
        outputs[args[0]] = completed.output
    listed = yaml.safe_load(outputs["--list"])["all"]["children"]["ungrouped"]["hosts"]
    assert listed[evil_id]["opswat_device_name"] == EVIL_NAME
    host_vars = json.loads(outputs["--host"][outputs["--host"].index("{"):])
    assert host_vars["opswat_device_name"] == EVIL_NAME


# ---------------------------------------------------------------------------------------------- cache


def test_the_cache_answers_without_any_request(simulator, run_inventory, tmp_path):
    cache_dir = tmp_path / "cache"
    config = base_config(simulator, cache=True, cache_plugin="ansible.builtin.jsonfile", cache_connection=str(cache_dir),
                         cache_timeout=600, status=["non_compliant"])
    first = run_inventory(config)
    assert requests_by_endpoint(simulator, "devices")
    files = list(cache_dir.iterdir())
    assert len(files) == 1
    for path in files:
        assert not leaked_secrets(path.name + path.read_text(), simulator)
        assert CLIENT_ID not in path.name

    simulator.clear_log()
    second = run_inventory(config)
    assert simulator.request_log() == []  # a cache hit sends no request at all, not even for a token
    assert second.data == first.data
    assert "devices from the cache, no request sent" in second.output

    # What is built from the devices may change without a request...
    config.update(hostnames=["device_id"], keyed_groups=[{"key": "opswat_severity", "prefix": "severity"}])
    third = run_inventory(config)
    assert simulator.request_log() == []
    assert sorted(third.hosts) == sorted(plain(vars_["opswat_device_id"]) for vars_ in first.hostvars.values())
    assert third.members("severity_critical")

    # ...what selects the devices is part of the key: other filters are another entry.
    config["status"] = ["compliant"]
    fourth = run_inventory(config)
    assert requests_by_endpoint(simulator, "devices")
    assert len(list(cache_dir.iterdir())) == 2
    assert set(plain(vars_["opswat_status"]) for vars_ in fourth.hostvars.values()) == set(["compliant"])

    # --flush-cache refreshes: from the status changes since (tests/functional/test_inventory_refresh.py), or by
    # listing every device when the incremental refresh is off.
    simulator.clear_log()
    run_inventory(config, args=("--list", "--flush-cache"))
    assert requests_by_endpoint(simulator, "status_changed") and not requests_by_endpoint(simulator, "devices")
    run_inventory(dict(config, incremental_refresh=False), args=("--list", "--flush-cache"))
    assert requests_by_endpoint(simulator, "devices")


def test_the_cached_malicious_name_is_still_not_rendered(simulator, run_inventory, tmp_path):
    config = base_config(simulator, cache=True, cache_plugin="ansible.builtin.jsonfile",
                         cache_connection=str(tmp_path / "cache"), max_devices=12,
                         compose={"shown_name": "opswat_device_name"})
    run_inventory(config)
    simulator.clear_log()
    result = run_inventory(config)
    assert simulator.request_log() == []
    assert plain(result.hostvars[EVIL_NAME]["shown_name"]) == EVIL_NAME
    assert HOME_MARKER not in json.dumps(result.data)


# ---------------------------------------------------------------------------------------------- credentials


def test_credentials_from_the_environment(simulator, run_inventory):
    config = {"plugin": "opswat.it_access.devices", "max_devices": 10}
    env = dict(OPSWAT_API_URL=simulator.url, OPSWAT_CLIENT_ID=CLIENT_ID, OPSWAT_CLIENT_SECRET=CLIENT_SECRET,
               OPSWAT_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE), OPSWAT_TIMEOUT="10", OPSWAT_VALIDATE_CERTS="true")
    result = run_inventory(config, env=env)
    assert len(result.hosts) == 10


def test_environment_values_are_never_rendered(simulator, run_inventory):
    config = {"plugin": "opswat.it_access.devices", "max_devices": 10}
    env = dict(OPSWAT_API_URL=simulator.url, OPSWAT_CLIENT_ID=EVIL_NAME, OPSWAT_CLIENT_SECRET=CLIENT_SECRET,
               OPSWAT_REQUESTS_PER_MINUTE=str(REQUESTS_PER_MINUTE))
    result = run_inventory(config, env=env, expect_rc=1)
    assert "the client credentials were rejected (HTTP 401)" in result.output
    token_requests = requests_by_endpoint(simulator, "token")
    assert [entry["body"]["client_id"] for entry in token_requests] == [EVIL_NAME]


def test_credentials_from_a_vault_and_templates(simulator, run_inventory, tmp_path):
    password_file = tmp_path / "vault-password"
    password_file.write_text("inventory-vault-password\n")
    encrypted = subprocess.run(
        [os.path.join(BIN, "ansible-vault"), "encrypt_string", "--vault-password-file", str(password_file),
         "--name", "client_secret", CLIENT_SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=True).stdout
    assert CLIENT_SECRET not in encrypted
    text = "\n".join([
        "plugin: opswat.it_access.devices",
        "api_url: \"{{ lookup('ansible.builtin.env', 'SIM_URL') }}\"",
        "client_id: \"{{ opswat_client_id }}\"",
        encrypted.strip(),
        "requests_per_minute: %d" % REQUESTS_PER_MINUTE,
        "max_devices: 10",
        "group_name: [\"{{ wanted_group }}\", Finance]",
        "",
    ])
    result = run_inventory(text=text, env=dict(SIM_URL=simulator.url),
                           args=("--list", "--vault-password-file", str(password_file),
                                 "-e", "opswat_client_id=%s" % CLIENT_ID, "-e", "wanted_group=Engineering"))
    assert 0 < len(result.hosts) <= 10
    assert set(plain(vars_["opswat_group_name"]) for vars_ in result.hostvars.values()) <= set(["Engineering", "Finance"])


def test_an_access_token_alone(simulator, run_inventory):
    result = run_inventory(base_config(simulator, client_id=None, client_secret=None, access_token=STATIC_TOKEN,
                                       max_devices=60))
    assert len(result.hosts) == 60
    assert requests_by_endpoint(simulator, "token") == []


def test_errors_carry_no_secret(simulator, run_inventory):
    simulator.expire_tokens()
    result = run_inventory(base_config(simulator, client_id=None, client_secret=None, access_token=STATIC_TOKEN),
                           expect_rc=1)
    assert "the access token was rejected" in result.output
    assert "Traceback" not in result.output

    wrong = "wrong-secret-9c1f-never-printed"
    result = run_inventory(base_config(simulator, client_secret=wrong), expect_rc=1)
    assert "the client credentials were rejected (HTTP 401)" in result.output
    assert wrong not in result.output


def test_a_file_with_another_name_is_refused(simulator, run_inventory):
    result = run_inventory(file_name="devices.yml", verbosity=3, expect_rc=1)
    assert "must end with opswat.yml or opswat.yaml" in result.output
    assert simulator.request_log() == []
