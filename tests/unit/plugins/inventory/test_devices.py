# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The inventory plugin opswat.it_access.devices, against a fake client and canned devices (no HTTP)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest
import yaml

from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, is_trusted_as_template, trust_as_template

from ansible_collections.opswat.it_access.plugins.doc_fragments.device_filters import (
    ModuleDocFragment as DeviceFiltersFragment)
from ansible_collections.opswat.it_access.plugins.inventory import devices as plugin_module
from ansible_collections.opswat.it_access.plugins.inventory.devices import CACHE_FORMAT, InventoryModule
from ansible_collections.opswat.it_access.plugins.module_utils.devices import FILTER_CHOICES
from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    AuthenticationError, TransportError, UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.plugin_utils import inventory_refresh
from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory import ANSIBLE_HOST_SOURCES, HOSTNAME_SOURCES
from ansible_collections.opswat.it_access.tests.unit.plugins.inventory_devices_data import (
    DEFAULT_HOSTNAMES, EVIL, device)

SECRET = "cs-unit-0123456789-SECRET"
API_URL = "https://tenant.example.test"


class FakeChanges(object):
    """What ``client.status_changes.within`` returns."""

    def __init__(self, devices, deleted_ids):
        self.devices = devices
        self.deleted_ids = deleted_ids


class FakeClient(object):
    """Stands in for ``Client``: serves canned devices (listing, Device Details, Status Change, Account Details),
    records how it was used. ``changes`` is ``(changed devices, deleted ids)``; ``change_error`` is raised by a
    change read; ``devices_used`` is what Account Details counts (default: the monitored devices served)."""

    def __init__(self, devices, error=None, changes=None, change_error=None, devices_used=None):
        self.records = devices
        self.devices = self  # the plugin calls client.devices.list()
        self.status_changes = self
        self.account = self
        self.error = error
        self.changes = changes or ([], [])
        self.change_error = change_error
        self.devices_used = devices_used
        self.calls = []
        self.closed = False
        self.served = 0

    def list(self, page_size=50, max_devices=None):
        self.calls.append(dict(page_size=page_size, max_devices=max_devices))
        return self._iterate(max_devices)

    def within(self, age):
        self.calls.append(dict(changes_within=age))
        if self.change_error is not None:
            raise self.change_error
        changed, deleted = self.changes
        return FakeChanges([dict(device_id=item["device_id"], status=item["status"]) for item in changed], deleted)

    def details(self, ids):
        self.calls.append(dict(details=list(ids)))
        wanted = set(ids)
        return [dict(item) for item in self.changes[0] if item["device_id"] in wanted]

    def get(self):
        self.calls.append(dict(account=True))
        return dict(devices_used=self.devices_used)

    def _iterate(self, max_devices):
        if self.error is not None:
            raise self.error
        for item in self.records:
            if max_devices is not None and self.served >= max_devices:
                return
            self.served += 1
            yield item

    @property
    def metrics(self):
        return dict(requests=1 + self.served // 50, throttled=0, retries=0, waited_seconds=0.0)

    def close(self):
        self.closed = True


def base_options(**overrides):
    options = dict(
        plugin="opswat.it_access.devices",
        api_url=API_URL, access_token=None, client_id="client-key-1", client_secret=SECRET,
        validate_certs=True, ca_path=None, timeout=30.0, requests_per_minute=10, rate_limit_timeout=300.0,
        rate_limit_window=60.0, token_cache=True, max_listing_pages=10000, proxy_url=None,
        rate_limit_store="local", rate_limit_store_password=None, rate_limit_store_ca_path=None, rate_limit_key=None,
        status=None, severity=None, device_type=None, os_type=None, group_name=None,
        max_devices=None, page_size=50, hostnames=list(DEFAULT_HOSTNAMES), ansible_host_sources=["first_ipv4"],
        vars_prefix="opswat_",
        strict=False, compose={}, groups={}, keyed_groups=[], use_extra_vars=False, leading_separator=True,
        cache=False, cache_plugin="memory", cache_timeout=3600, cache_connection=None, cache_prefix="ansible_inventory_",
        incremental_refresh=True, full_refresh_interval=86400,
    )
    options.update(overrides)
    return options


class Harness(object):
    """An ``InventoryModule`` whose options come from a dict and whose client is a ``FakeClient``."""

    def __init__(self, tmp_path, devices=(), error=None, cache_store=None, extra_vars=None, origins=None, client=None,
                 **options):
        self.options = base_options(**options)
        self.origins = origins or {}
        self.client = client or FakeClient(list(devices), error)
        self.configs = []
        self.path = str(tmp_path / "devices.opswat.yml")
        with open(self.path, "w") as handle:
            handle.write("plugin: opswat.it_access.devices\n")
        self.cache_store = {} if cache_store is None else cache_store
        self.plugin = InventoryModule()
        self.plugin.ansible_name = "opswat.it_access.devices"  # what the plugin loader sets
        # parse() reads the extra variables (-e) before it reads the configuration: set them in between.
        self.plugin._read_config_data = lambda path: setattr(self.plugin, "_vars", dict(extra_vars or {}))
        self.plugin.get_option = self.options.__getitem__
        # Set in the inventory file unless told otherwise (the config manager's origin "Direct").
        self.plugin.get_option_and_origin = lambda name: (self.options[name], self.origins.get(name, "Direct"))
        self.plugin.load_cache_plugin = self._load_cache
        self.plugin._client = self._client
        self.inventory = InventoryData()

    def _load_cache(self):
        self.plugin._cache = self.cache_store

    def _client(self, config):
        self.configs.append(config)
        return self.client

    def parse(self, cache=True):
        self.plugin.parse(self.inventory, DataLoader(), self.path, cache=cache)
        return self.inventory

    @property
    def hosts(self):
        return self.inventory.hosts

    def hostvars(self, name):
        return self.inventory.get_host(name).get_vars()


@pytest.fixture(autouse=True)
def state_directory(tmp_path, monkeypatch):
    """The fleet kept for incremental refreshes goes to the test's own directory."""
    monkeypatch.setattr(inventory_refresh, "state_directory", lambda: str(tmp_path / "state"))
    return tmp_path / "state"


def render(template, variables):
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(template))


# ---------------------------------------------------------------------------------------------- verify_file


@pytest.mark.parametrize("name, accepted", [
    ("devices.opswat.yml", True),
    ("devices.opswat.yaml", True),
    ("opswat.yml", True),
    ("prod-opswat.yaml", True),
    ("devices.yml", False),
    ("opswat.yml.bak", False),
    ("opswat.json", False),
])
def test_verify_file_accepts_names_ending_in_opswat_yml(tmp_path, name, accepted):
    path = tmp_path / name
    path.write_text("plugin: opswat.it_access.devices\n")
    assert InventoryModule().verify_file(str(path)) is accepted


def test_verify_file_refuses_a_missing_file(tmp_path):
    assert InventoryModule().verify_file(str(tmp_path / "devices.opswat.yml")) is False


# ---------------------------------------------------------------------------------------------- ansible_host


def test_ansible_host_set_or_not_on_hosts(tmp_path):
    harness = Harness(tmp_path, [device(1), device(2, network_info=[{"mac": "a", "ipv4": "N/A"}])])
    harness.parse()
    assert harness.hostvars("dev-1")["ansible_host"] == "10.0.0.2"
    assert "ansible_host" not in harness.hostvars("dev-2")

    harness = Harness(tmp_path, [device(1)], ansible_host_sources=[])
    harness.parse()
    assert "ansible_host" not in harness.hostvars("dev-1")

    harness = Harness(tmp_path, [device(1)], ansible_host_sources=["public_ip"])
    harness.parse()
    assert harness.hostvars("dev-1")["ansible_host"] == "198.51.100.2"


# ---------------------------------------------------------------------------------------------- host variables


def test_a_malicious_device_name_is_never_rendered(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", "/home/unit-marker-5d2c")
    harness = Harness(tmp_path, [device(1, device_name=EVIL, nickname=EVIL), device(2)],
                      compose={"shown_name": trust_as_template("opswat_device_name"),
                               "decorated": trust_as_template("opswat_device_name ~ '!'")},
                      groups={"evil": trust_as_template("'lookup' in opswat_device_name")},
                      keyed_groups=[{"key": trust_as_template("opswat_device_name"), "prefix": "name"}])
    harness.parse()
    assert EVIL in harness.hosts
    hostvars = harness.hostvars(EVIL)
    assert hostvars["opswat_device_name"] == EVIL
    assert hostvars["opswat_nickname"] == EVIL
    assert hostvars["shown_name"] == EVIL
    assert hostvars["decorated"] == EVIL + "!"
    # Used in a template later, the value comes out as the text it is.
    assert render("{{ opswat_device_name }}", hostvars) == EVIL
    assert render("{{ shown_name }}", hostvars) == EVIL
    assert "unit-marker" not in json.dumps(dict((key, str(value)) for key, value in hostvars.items()))
    assert [host.name for host in harness.inventory.groups["evil"].get_hosts()] == [EVIL]
    # keyed_groups: a group named after the (sanitised) name, not after what the template would give
    assert "name____lookup__env___HOME_____" in harness.inventory.groups
    assert not [name for name in harness.inventory.groups if "marker" in name]


# ---------------------------------------------------------------------------------------------- parse


def fleet():
    return [
        device(1, status="non_compliant", severity="critical", device_type="laptop", group_name="Finance"),
        device(2, status="compliant", device_type="laptop", os_info={"type": "mac"}),
        device(3, status="non_compliant", severity="warning", device_type="server", os_info=[{"type": "linux"}]),
        device(4, status="quarantined", severity="critical", device_type="laptop", group_name="Quarantine"),
        device(5, status="exempted", device_type="desktop", group_name="Finance"),
    ]


def test_every_device_becomes_a_host(tmp_path):
    devices = fleet() + [device(6, device_name="dev-1")]  # a name shared with device 1
    harness = Harness(tmp_path, devices)
    harness.parse()
    assert len(harness.hosts) == len(devices)
    ids = sorted(harness.hostvars(name)["opswat_device_id"] for name in harness.hosts)
    assert ids == sorted(item["device_id"] for item in devices)
    assert harness.client.calls == [dict(page_size=50, max_devices=None)]
    assert harness.client.closed
    # Only the configuration is given to the client: the default log sink is the display's -vvv.
    assert harness.configs[0].client_secret == SECRET


def test_hosts_are_in_no_group_unless_asked(tmp_path):
    harness = Harness(tmp_path, fleet())
    harness.parse()
    assert sorted(harness.inventory.groups) == ["all", "ungrouped"]


@pytest.mark.parametrize("filters, expected", [
    (dict(status=["non_compliant"]), ["dev-1", "dev-3"]),
    (dict(status=["non_compliant", "quarantined"]), ["dev-1", "dev-3", "dev-4"]),
    (dict(status=["non_compliant", "quarantined"], device_type=["laptop"]), ["dev-1", "dev-4"]),
    (dict(severity=["critical"], group_name=["Finance"]), ["dev-1"]),
    (dict(os_type=["linux", "mac"]), ["dev-2", "dev-3"]),
    (dict(group_name=["finance"]), []),  # case-sensitive
])
def test_filters_or_within_and_across(tmp_path, filters, expected):
    harness = Harness(tmp_path, fleet(), **filters)
    harness.parse()
    assert sorted(harness.hosts) == expected


def test_max_devices_without_filters_lets_the_client_stop(tmp_path):
    harness = Harness(tmp_path, fleet(), max_devices=2, page_size=20)
    harness.parse()
    assert sorted(harness.hosts) == ["dev-1", "dev-2"]
    assert harness.client.calls == [dict(page_size=20, max_devices=2)]


def test_max_devices_with_filters_counts_matching_devices(tmp_path):
    harness = Harness(tmp_path, fleet(), max_devices=2, status=["non_compliant", "quarantined"])
    harness.parse()
    assert sorted(harness.hosts) == ["dev-1", "dev-3"]
    assert harness.client.calls == [dict(page_size=50, max_devices=None)]
    assert harness.client.served == 3  # stopped as soon as it had two


@pytest.mark.parametrize("options, option", [
    (dict(status=["non-compliant"]), "status"),
    (dict(severity=["high"]), "severity"),
    (dict(device_type="desktop,robot"), "device_type"),
    (dict(os_type=["win"]), "os_type"),
    (dict(max_devices=0), "max_devices"),
    (dict(page_size=51), "page_size"),
    (dict(page_size=0), "page_size"),
    (dict(hostnames=[]), "hostnames"),
    (dict(hostnames=["fqdn"]), "hostnames"),
    (dict(ansible_host_sources=["private_ip"]), "ansible_host_sources"),
    (dict(vars_prefix="opswat-"), "vars_prefix"),
    (dict(api_url="ftp://tenant.example.test"), "api_url"),
    (dict(client_secret=None), "client_secret"),
    (dict(client_id=None, client_secret=None), "access_token"),
    (dict(timeout=0), "timeout"),
])
def test_bad_options_fail_before_any_request(tmp_path, options, option):
    harness = Harness(tmp_path, fleet(), **options)
    with pytest.raises(AnsibleParserError) as raised:
        harness.parse()
    assert "opswat.it_access.devices: %s:" % option in str(raised.value)
    assert harness.configs == []  # no client was even created


def test_filter_choices_are_the_shared_ones():
    documentation = yaml.safe_load(plugin_module.DOCUMENTATION)
    assert "opswat.it_access.device_filters" in documentation["extends_documentation_fragment"]
    options = dict(yaml.safe_load(DeviceFiltersFragment.DOCUMENTATION)["options"], **documentation["options"])
    for name, choices in FILTER_CHOICES.items():
        assert options[name].get("choices") == choices
    assert documentation["options"]["hostnames"]["choices"] == list(HOSTNAME_SOURCES)
    assert documentation["options"]["ansible_host_sources"]["choices"] == list(ANSIBLE_HOST_SOURCES)


def test_documentation_and_examples_are_valid_yaml():
    documentation = yaml.safe_load(plugin_module.DOCUMENTATION)
    assert documentation["name"] == "devices"
    assert "opswat.it_access.connection.PLUGIN" in documentation["extends_documentation_fragment"]
    examples = [example for example in yaml.safe_load_all(plugin_module.EXAMPLES) if example]
    assert len(examples) == 3
    assert all(example["plugin"] == "opswat.it_access.devices" for example in examples)


@pytest.mark.parametrize("option, variable, value", [
    ("timeout", "OPSWAT_TIMEOUT", float("nan")),
    ("api_url", "OPSWAT_API_URL", "https://tenant.example.test:70000"),
    ("requests_per_minute", "OPSWAT_REQUESTS_PER_MINUTE", 0),
])
def test_a_bad_option_from_the_environment_names_the_variable(tmp_path, option, variable, value):
    harness = Harness(tmp_path, fleet(), origins={option: "env: %s" % variable}, **{option: value})
    with pytest.raises(AnsibleParserError) as raised:
        harness.parse()
    assert "opswat.it_access.devices: %s (%s): " % (variable, option) in str(raised.value)
    assert harness.configs == []


@pytest.mark.parametrize("error", [
    AuthenticationError("POST /o/oauth/token: the client credentials were rejected (HTTP 401)", status=401),
    TransportError("POST /o/api/v3.7/devices: could not connect to tenant.example.test: refused"),
])
def test_client_errors_become_parser_errors_without_a_chained_exception(tmp_path, error):
    harness = Harness(tmp_path, fleet(), error=error)
    with pytest.raises(AnsibleParserError) as raised:
        harness.parse()
    assert str(raised.value).startswith("opswat.it_access.devices: POST ")
    assert error.message in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
    assert harness.client.closed


def test_the_log_sink_is_display_vvv_and_warnings_go_to_display_warning(monkeypatch):
    seen = {}

    def fake_client(config, on_secret=None, log=None, warn=None):
        seen.update(config=config, log=log, warn=warn)
        return "client"

    monkeypatch.setattr(plugin_module, "Client", fake_client)
    plugin = InventoryModule()
    warnings = []
    monkeypatch.setattr(plugin.display, "warning", warnings.append)
    assert plugin._client("config") == "client"
    assert seen["log"] == plugin.display.vvv
    seen["warn"]("the pace is no longer shared")  # as the client says when its pace file is unusable
    assert warnings == ["opswat.it_access.devices: the pace is no longer shared"]


# ---------------------------------------------------------------------------------------------- templates


def test_credentials_may_be_templates_from_the_config_file(tmp_path):
    harness = Harness(tmp_path, fleet(), client_secret=trust_as_template("{{ vault_secret }}"),
                      api_url=trust_as_template("{{ 'https://' ~ tenant_host }}"),
                      group_name=[trust_as_template("{{ finance }}")],
                      extra_vars=dict(vault_secret=SECRET, tenant_host="tenant.example.test", finance="Finance"))
    harness.parse()
    config = harness.configs[0]
    assert config.client_secret == SECRET
    assert config.api_url == "https://tenant.example.test"
    assert sorted(harness.hosts) == ["dev-1", "dev-5"]


def test_values_from_the_environment_are_never_rendered(tmp_path):
    # The config manager marks environment values as trusted templates; the plugin uses them as they are anyway.
    harness = Harness(tmp_path, fleet(), client_id=trust_as_template(EVIL), group_name=[trust_as_template(EVIL)],
                      origins=dict(client_id="env: OPSWAT_CLIENT_ID", group_name="env: X"))
    harness.parse()
    assert harness.configs[0].client_id == EVIL
    assert harness.hosts == {}  # no device is in the group named like the template


def test_untrusted_values_are_never_rendered(tmp_path):
    harness = Harness(tmp_path, fleet(), client_id=EVIL)
    harness.parse()
    assert harness.configs[0].client_id == EVIL


def test_a_failing_secret_template_does_not_quote_it(tmp_path):
    harness = Harness(tmp_path, fleet(), client_secret=trust_as_template("{{ undefined_secret_var }}-" + SECRET))
    with pytest.raises(AnsibleParserError) as raised:
        harness.parse()
    assert "client_secret: the template could not be rendered" in str(raised.value)
    assert SECRET not in str(raised.value) and "undefined_secret_var" not in str(raised.value)

    harness = Harness(tmp_path, fleet(), group_name=[trust_as_template("{{ undefined_group_var }}")])
    with pytest.raises(AnsibleParserError) as raised:
        harness.parse()
    assert "group_name: the template could not be rendered" in str(raised.value)
    assert "undefined_group_var" in str(raised.value)


# ---------------------------------------------------------------------------------------------- constructed


def test_keyed_groups_compose_and_groups(tmp_path):
    harness = Harness(tmp_path, fleet(),
                      keyed_groups=[{"key": trust_as_template("opswat_status"), "prefix": "opswat_status"},
                                    {"key": trust_as_template("opswat_os_type"), "prefix": "os"}],
                      groups={"critical": trust_as_template("opswat_severity == 'critical'")},
                      compose={"ansible_user": trust_as_template("'admin'"),
                               "address": trust_as_template("ansible_host")})
    harness.parse()
    groups = harness.inventory.groups

    def members(group):
        return sorted(host.name for host in groups[group].get_hosts())

    assert members("opswat_status_non_compliant") == ["dev-1", "dev-3"]
    assert members("opswat_status_quarantined") == ["dev-4"]
    assert members("os_linux") == ["dev-3"]
    assert members("critical") == ["dev-1", "dev-4"]
    assert harness.hostvars("dev-1")["ansible_user"] == "admin"
    assert harness.hostvars("dev-1")["address"] == "10.0.0.2"


def test_strict_makes_a_bad_compose_fail(tmp_path):
    compose = {"broken": trust_as_template("opswat_no_such_field.attribute")}
    harness = Harness(tmp_path, fleet(), compose=compose)
    harness.parse()
    assert "broken" not in harness.hostvars("dev-1")
    harness = Harness(tmp_path, fleet(), compose=compose, strict=True)
    with pytest.raises(AnsibleError, match="Could not set broken"):
        harness.parse()


# ---------------------------------------------------------------------------------------------- cache


def test_a_cache_hit_sends_no_request(tmp_path):
    store = {}
    first = Harness(tmp_path, fleet(), cache=True, cache_store=store)
    first.parse()
    assert len(first.configs) == 1  # a miss: listed, then stored
    assert len(store) == 1
    key, entry = list(store.items())[0]
    assert entry == dict(format=CACHE_FORMAT, devices=fleet())

    second = Harness(tmp_path, [], cache=True, cache_store=store)
    second.parse()
    assert second.configs == [] and second.client.calls == []
    assert sorted(second.hosts) == sorted(first.hosts)
    assert second.hostvars("dev-1")["opswat_status"] == "non_compliant"
    assert key in store


def test_refresh_lists_again_and_updates_the_cache(tmp_path):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store, incremental_refresh=False).parse()
    refreshed = Harness(tmp_path, fleet()[:2], cache=True, cache_store=store, incremental_refresh=False)
    refreshed.parse(cache=False)  # --flush-cache, meta: refresh_inventory
    assert len(refreshed.configs) == 1
    assert refreshed.client.calls == [dict(page_size=50, max_devices=None)]
    assert list(store.values())[0]["devices"] == fleet()[:2]


# ---------------------------------------------------------------------------------------------- incremental refresh


def changed_fleet():
    """fleet() after device 2 turned non-compliant and device 5 was deleted."""
    devices = fleet()
    devices[1] = dict(devices[1], status="non_compliant", severity="critical")
    return devices[:4]


def refreshed(tmp_path, store, client, cache=False, **options):
    harness = Harness(tmp_path, cache=True, cache_store=store, client=client, **options)
    harness.parse(cache=cache)
    return harness


def test_a_refresh_merges_the_changes_since_the_last_one(tmp_path, state_directory):
    store = {}
    first = Harness(tmp_path, fleet(), cache=True, cache_store=store)
    first.parse()
    assert first.client.calls == [dict(page_size=50, max_devices=None)]  # nothing kept yet: a full listing
    assert len(list(state_directory.iterdir())) == 1
    after = changed_fleet()
    client = FakeClient([], changes=([after[1]], [fleet()[4]["device_id"]]), devices_used=4)
    harness = refreshed(tmp_path, store, client)
    ages = [call["changes_within"] for call in client.calls if "changes_within" in call]
    assert len(ages) == 1 and inventory_refresh.CHANGE_WINDOW_OVERLAP_SECONDS <= ages[0] < 200
    assert client.calls[1:] == [dict(details=[after[1]["device_id"]]), dict(account=True)]  # and no listing
    assert list(store.values())[0]["devices"] == after
    assert sorted(harness.hosts) == ["dev-1", "dev-2", "dev-3", "dev-4"]
    assert harness.hostvars("dev-2")["opswat_status"] == "non_compliant"
    # The next refresh starts from the merged fleet.
    client = FakeClient([], devices_used=4)
    refreshed(tmp_path, store, client)
    assert list(store.values())[0]["devices"] == after


def test_an_expired_entry_is_refreshed_from_the_kept_fleet(tmp_path):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store).parse()
    store.clear()  # what a cache plugin does with an entry past cache_timeout
    client = FakeClient([], devices_used=5)
    harness = refreshed(tmp_path, store, client, cache=True)
    assert [list(call) for call in client.calls] == [["changes_within"], ["account"]]
    assert len(harness.hosts) == 5
    assert list(store.values())[0]["devices"] == fleet()


def test_a_count_that_differs_lists_every_device_with_a_warning(tmp_path, monkeypatch):
    warnings = []
    monkeypatch.setattr(InventoryModule().display, "warning", warnings.append)
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store).parse()
    # No change reported, yet the account counts one device less: the merge missed something.
    client = FakeClient(changed_fleet(), devices_used=4)
    refreshed(tmp_path, store, client)
    assert client.calls[-1] == dict(page_size=50, max_devices=None)
    assert list(store.values())[0]["devices"] == changed_fleet()
    assert any("counts 4 monitored devices, the merged inventory 5: listing every device" in text for text in warnings)


def test_with_filters_there_is_no_count_to_check(tmp_path):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store, status=["non_compliant"]).parse()
    after = changed_fleet()
    client = FakeClient([], changes=([after[1]], []))
    harness = refreshed(tmp_path, store, client, status=["non_compliant"])
    assert not [call for call in client.calls if "account" in call or "page_size" in call]
    assert sorted(harness.hosts) == ["dev-1", "dev-2", "dev-3"]


@pytest.mark.parametrize("error", [
    TransportError("POST /o/api/v3/devices/status_changed: timed out after 30 s"),
    UnexpectedResponseError("POST /o/api/v3/devices/status_changed: unexpected answer: monitored_devices[3].device_id"
                            " is missing"),
])
def test_changes_that_cannot_be_read_keep_the_last_fleet_uncached(tmp_path, monkeypatch, error):
    warnings = []
    monkeypatch.setattr(InventoryModule().display, "warning", warnings.append)
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store).parse()
    cached = json.loads(json.dumps(store))
    store.clear()
    client = FakeClient([], change_error=error)
    harness = refreshed(tmp_path, store, client)
    assert len(harness.hosts) == 5
    assert store == {}  # not cached: the next run tries again
    assert [list(call) for call in client.calls] == [["changes_within"]]
    assert any("the 5 devices of that refresh are used unchanged and not cached: %s" % error.message in text
               for text in warnings)
    # The kept fleet is untouched too.
    client = FakeClient([], devices_used=5)
    refreshed(tmp_path, store, client)
    assert list(store.values()) == list(cached.values())


def test_rejected_credentials_fail_the_refresh(tmp_path):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store).parse()
    client = FakeClient([], change_error=AuthenticationError("POST /o/oauth/token: the client credentials were"
                                                             " rejected (HTTP 401)", status=401))
    with pytest.raises(AnsibleParserError, match="credentials were rejected"):
        refreshed(tmp_path, store, client)


@pytest.mark.parametrize("options", [dict(incremental_refresh=False), dict(max_devices=3)])
def test_every_device_is_listed_when_the_refresh_may_not_merge(tmp_path, options):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store, **options).parse()
    client = FakeClient(fleet(), devices_used=5)
    refreshed(tmp_path, store, client, **options)
    assert [list(call) for call in client.calls] == [["page_size", "max_devices"]]


def test_an_old_full_listing_is_listed_again(tmp_path, state_directory):
    store = {}
    Harness(tmp_path, fleet(), cache=True, cache_store=store).parse()
    path = list(state_directory.iterdir())[0]
    kept = json.loads(path.read_text())
    kept["listed_at"] -= 3600
    kept["checked_at"] -= 3600
    path.write_text(json.dumps(kept))
    client = FakeClient(fleet(), devices_used=5)
    refreshed(tmp_path, store, client, full_refresh_interval=3600)
    assert [list(call) for call in client.calls] == [["page_size", "max_devices"]]
    assert json.loads(path.read_text())["listed_at"] > kept["listed_at"]
    # A merge keeps the time of the full listing it derives from.
    listed_at = json.loads(path.read_text())["listed_at"]
    refreshed(tmp_path, store, FakeClient([], devices_used=5), full_refresh_interval=3600)
    assert json.loads(path.read_text())["listed_at"] == listed_at


@pytest.mark.parametrize("options, message", [
    (dict(full_refresh_interval=0), "full_refresh_interval: must be an integer number of seconds from 1 to 86400"),
    (dict(full_refresh_interval=86401), "full_refresh_interval: must be an integer"),
    (dict(full_refresh_interval=True), "full_refresh_interval: must be an integer"),
    (dict(incremental_refresh="maybe"), "incremental_refresh: must be true or false"),
])
def test_bad_refresh_options_fail_before_any_request(tmp_path, options, message):
    harness = Harness(tmp_path, fleet(), cache=True, **options)
    with pytest.raises(AnsibleParserError, match=message):
        harness.parse()
    assert harness.configs == []


def test_without_the_cache_option_the_cache_is_not_touched(tmp_path):
    store = {}
    harness = Harness(tmp_path, fleet(), cache_store=store)
    harness.parse()
    harness.parse(cache=False)
    assert store == {}
    assert len(harness.configs) == 2


def test_a_cache_entry_of_another_format_is_a_miss(tmp_path):
    store = {}
    key = Harness(tmp_path, fleet(), cache=True, cache_store=store)
    key.parse()
    assert len(store) == 1
    cache_key = list(store)[0]
    for stale in ([device(9)], dict(format=CACHE_FORMAT + 1, devices=[]), dict(format=CACHE_FORMAT, devices=["x"]),
                  dict(format=CACHE_FORMAT, devices=[device(9, os_info={"type": ["windows"]})])):
        store[cache_key] = stale
        harness = Harness(tmp_path, fleet(), cache=True, cache_store=store)
        harness.parse()
        assert len(harness.configs) == 1
        assert store[cache_key]["devices"] == fleet()


def test_cached_values_are_untrusted_after_reading(tmp_path):
    store = {}
    Harness(tmp_path, [device(1, device_name="evil")], cache=True, cache_store=store).parse()
    assert len(store) == 1
    entry = list(store.values())[0]
    entry["devices"][0]["device_name"] = trust_as_template(EVIL)
    harness = Harness(tmp_path, [], cache=True, cache_store=store)
    harness.parse()
    assert not is_trusted_as_template(harness.hostvars(EVIL)["opswat_device_name"])
    assert render("{{ opswat_device_name }}", harness.hostvars(EVIL)) == EVIL


def cache_key_of(tmp_path, **options):
    harness = Harness(tmp_path, [], **options)
    harness.plugin.loader = DataLoader()
    return harness.plugin.devices_cache_key(harness.path, harness.plugin._settings())


def test_the_cache_key(tmp_path):
    plain = cache_key_of(tmp_path)
    assert plain.startswith("opswat.it_access.devices_k")
    assert SECRET not in plain
    assert cache_key_of(tmp_path, client_secret="another-secret") == plain
    assert cache_key_of(tmp_path, page_size=10, hostnames=["device_id"], vars_prefix="x_") == plain
    assert cache_key_of(tmp_path, api_url="https://other.example.test") != plain
    assert cache_key_of(tmp_path, client_id="client-key-2") != plain
    assert cache_key_of(tmp_path, max_devices=5) != plain
    by_status = cache_key_of(tmp_path, status=["compliant", "non_compliant"])
    assert by_status != plain
    assert cache_key_of(tmp_path, status=["non_compliant", "compliant"]) == by_status
    assert cache_key_of(tmp_path, group_name=["Finance"]) != plain
    token_only = cache_key_of(tmp_path, client_id=None, client_secret=None, access_token="at-" + SECRET)
    assert SECRET not in token_only


def test_every_device_once_with_the_cache_too(tmp_path):
    devices = [device(number, device_name="shared") for number in range(20)]
    store = {}
    Harness(tmp_path, devices, cache=True, cache_store=store).parse()
    harness = Harness(tmp_path, [], cache=True, cache_store=store)
    harness.parse()
    assert len(harness.hosts) == 20
