# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: devices
short_description: Managed devices of OPSWAT MetaDefender IT Access as inventory hosts
version_added: 0.1.0
description:
  - Lists the devices of an IT Access account with Get Devices v3.7 (a cursor, O(page_size) devices a request)
    and adds one host per device. Every device becomes exactly one host, also when several devices share a name.
  - The inventory source is a YAML file whose name ends with C(opswat.yml) or C(opswat.yaml), for example
    C(devices.opswat.yml), holding O(plugin=opswat.it_access.devices).
  - The host name is the first non-empty field of O(hostnames). Host names that two or more devices share, and the
    reserved names C(localhost), C(127.0.0.1), C(::1), C(all) and C(ungrouped), get C(_) and the first 8 characters
    of the device ID appended (the whole ID if that is still taken, then C(_2), C(_3)...). A name that only one
    device has is used as it is.
  - The device fields become host variables named O(vars_prefix) followed by the field name, for example
    C(opswat_device_id), C(opswat_status), C(opswat_network_info). Three computed variables are added,
    C(opswat_ipv4_addresses), C(opswat_macs) and C(opswat_os_type) (see the notes).
  - Ansible never renders a value that comes from the API as a template, not in O(compose), O(groups) or
    O(keyed_groups) either. A device named C({{ 7 * 7 }}) keeps that name, never C(49). Since ansible-core 2.19 no
    value an inventory plugin sets is trusted as a template; values read back from the cache are copied so that no
    cache plugin can hand back a trusted one.
  - C(ansible-inventory --list) shows each of these strings as an object with the one key C(__ansible_unsafe),
    because ansible-core's JSON output marks so every value not trusted as a template, whatever the plugin does.
    C(ansible-inventory --list --yaml) shows plain values.
  - Filters are applied to the devices the API returns. Values inside one filter are OR'ed, different filters are
    AND'ed, as for M(opswat.it_access.opswat_device_info).
  - No group is created unless O(groups) or O(keyed_groups) asks for one; the examples show groups by status,
    severity, device type, OS type and IT Access group.
  - At the service's 10 requests a minute, listing 10,000 devices takes 200 requests, about 20 minutes.
    Enable the inventory cache (O(cache=true)); a run that finds its answer in the cache sends no request at all.
  - With the cache on, a refresh (a cache miss or an expired entry, C(--flush-cache), the C(refresh_inventory) meta task)
    asks the Status Change API what changed since the last refresh instead of listing the fleet again, reads the
    changed devices and merges them (see O(incremental_refresh)), about 7 requests for 100 changes among 10,000
    devices.
author:
  - opswat.it_access maintainers (@opswat-it-access)
requirements:
  - requests
extends_documentation_fragment:
  - opswat.it_access.connection.PLUGIN
  - opswat.it_access.device_filters
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks the file as a source for this plugin.
    type: str
    required: true
    choices: [opswat.it_access.devices]
  group_name:
    description:
      - Keep devices in one of these IT Access groups. Names match exactly, case-sensitive.
      - Each name may be a template, for example C({{ finance_group_name }}).
    type: list
    elements: str
  max_devices:
    description:
      - Add at most this many devices, the first ones by enrolment time that match the filters.
      - The listing stops as soon as it has them, which saves requests.
    type: int
  hostnames:
    description:
      - Where the host name comes from, in order of preference; the first that gives a non-empty value wins.
        Values are stripped of surrounding spaces; V(N/A) counts as empty.
      - V(first_ipv4) is the first usable IPv4 address of the device's adapters (see O(ansible_host_sources)).
        V(first_mac) is the first MAC address, as C(aa:bb:cc:dd:ee:ff). V(public_ip) is the address the service
        saw the device connect from.
      - V(host_name) and V(public_ip) are fields of Get Devices v3.6 and v3.7; they give a name only when the API
        sends them.
      - When none of them gives a name, the device ID is used.
    type: list
    elements: str
    choices: [device_name, host_name, nickname, first_ipv4, public_ip, first_mac, device_id]
    default: [device_name, host_name, first_ipv4, device_id]
  ansible_host_sources:
    description:
      - Where C(ansible_host) comes from, in order of preference; the first that gives a usable address wins.
        When none does, C(ansible_host) is not set and Ansible connects to the host name.
      - V(first_ipv4) is the first usable IPv4 address of the device's adapters. An address is usable unless it is
        missing, V(N/A), not an address, V(0.0.0.0), link-local (C(169.254.0.0/16)), loopback, multicast or reserved.
      - V(public_ip) is the address the service saw the device connect from (IPv4 or IPv6), with the same checks.
      - V(host_name) is the device's C(host_name) field, a DNS name.
      - An empty list never sets C(ansible_host).
    type: list
    elements: str
    choices: [first_ipv4, public_ip, host_name]
    default: [first_ipv4]
  vars_prefix:
    description:
      - Prefix of the host variables that hold the device fields, for example C(opswat_status) for the field
        C(status). Letters, digits and underscores; may be empty.
      - A variable whose name would start with C(ansible_) is never set from API data, so the API cannot set
        connection variables.
    type: str
    default: opswat_
  incremental_refresh:
    description:
      - With O(cache=true), refresh the inventory from the fleet of the last refresh and the changes since then,
        instead of listing every device.
      - A refresh asks Status Change for the devices whose status changed, and those deleted, since the last
        refresh (with a 120 s overlap, so that nothing falls between two refreshes), reads the changed devices with
        Device Details (50 a request), and merges them into the fleet of the last refresh, in the field names and
        shapes of a listing, so that O(compose), O(groups) and O(keyed_groups) give the same result as for a
        listed device.
      - Without filters, the result is checked against the account's count of monitored devices (one Account
        Details request); when the counts differ, the fleet is listed in full, with a warning.
      - When the changes cannot be read (a rate limit outlasting O(rate_limit_timeout), a server error, an
        unexpected answer), the inventory of the last refresh is used unchanged, with a warning, and nothing is
        cached, so the next run tries again. Rejected credentials fail the source.
      - Every device is listed in full when there is no fleet of an earlier refresh on this machine (the fleet
        is kept in the user's state directory under the temporary directory, which does not outlive a reboot),
        when the last full listing is older than O(full_refresh_interval), and always with O(max_devices).
      - A change that is not a status change (a device moved to another group or renamed in the console, a new
        IP address) reaches the inventory only with the next full listing, so host variables other than the status
        may be up to O(full_refresh_interval) old.
      - V(false) lists every device on every refresh.
    type: bool
    default: true
  full_refresh_interval:
    description:
      - Seconds after a full listing when the next refresh lists every device again instead of merging changes;
        from 1 to 86400 (the API keeps 24 hours of changes).
      - This bounds how old a host variable that is not the status can be (see O(incremental_refresh)).
    type: int
    default: 86400
notes:
  - "Host variables: every field of the device as the API returns it, under O(vars_prefix): C(opswat_device_id),
    C(opswat_device_name), C(opswat_host_name), C(opswat_nickname), C(opswat_status), C(opswat_severity),
    C(opswat_device_type), C(opswat_group_name), C(opswat_os_info), C(opswat_network_info), C(opswat_issue),
    C(opswat_last_seen), C(opswat_enrolled_at), C(opswat_public_ip) and every other field the API sends.
    Characters other than letters, digits and underscores in a field name become underscores."
  - "Computed host variables: C(opswat_ipv4_addresses) (the usable IPv4 addresses of the adapters, in order),
    C(opswat_macs) (the MAC addresses as C(aa:bb:cc:dd:ee:ff)) and C(opswat_os_type) (the C(type) of the first
    C(os_info) entry, or null). They take precedence over an API field of the same name."
  - Templates in the inventory file are rendered in O(api_url), O(access_token), O(client_id), O(client_secret),
    O(ca_path) and O(group_name), with the extra variables (C(-e)) available, so credentials can come from a vault
    or a lookup. Values from environment variables are used as they are, never rendered, as the modules use them.
  - The cache key is made of the inventory file path, O(api_url), O(client_id), the filters and O(max_devices),
    never of a secret. With O(access_token) alone, two accounts on the same O(api_url) read by the same inventory
    file share a cache entry. The cache holds the filtered device list, so O(hostnames), O(vars_prefix),
    O(compose), O(groups) and O(keyed_groups) can change without a new request.
  - Errors are reported with the token, the client secret and every fetched token masked. At C(-vvv) every
    request is shown, without its query string.
seealso:
  - module: opswat.it_access.opswat_device_info
  - ref: inventory_plugins
    description: Using inventory plugins.
"""

EXAMPLES = r"""
---
# devices.opswat.yml: every device; credentials from OPSWAT_CLIENT_ID and OPSWAT_CLIENT_SECRET
plugin: opswat.it_access.devices

---
# critical.opswat.yml: non-compliant or critical Windows and macOS laptops, grouped, cached for an hour
plugin: opswat.it_access.devices
client_id: "{{ lookup('ansible.builtin.env', 'OPSWAT_CLIENT_ID') }}"
client_secret: "{{ vault_opswat_client_secret }}"
status: [non_compliant, quarantined]
device_type: [laptop]
os_type: [windows, mac]
keyed_groups:
  # opswat_status_non_compliant, opswat_status_quarantined
  - key: opswat_status
    prefix: opswat_status
  # opswat_severity_critical, opswat_severity_warning, opswat_severity_no_issues
  - key: opswat_severity
    prefix: opswat_severity
  # opswat_os_windows, opswat_os_mac
  - key: opswat_os_type
    prefix: opswat_os
  # opswat_group_Finance, opswat_group_Sales_Laptops
  - key: opswat_group_name
    prefix: opswat_group
groups:
  needs_attention: opswat_severity == 'critical' or opswat_issue.total_critical | default(0) > 0
compose:
  ansible_user: "'admin'"
  agent_version: opswat_agent_version
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/opswat_inventory
# after an hour, a refresh merges the status changes since the last one (a few requests); a full listing every 6 hours
cache_timeout: 3600
full_refresh_interval: 21600

---
# servers.opswat.yml: servers by DNS name, the address they connect from as ansible_host
plugin: opswat.it_access.devices
api_url: https://product.my.us.opswat.com
device_type: [server]
hostnames: [host_name, device_name, device_id]
ansible_host_sources: [public_ip, first_ipv4]
vars_prefix: itaccess_
strict: true
"""

import json
import os
import re
import time

from ansible.errors import AnsibleParserError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.connection import CONNECTION_OPTIONS, config_from_params
from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    FILTER_CHOICES, check_listing_options, list_matching, validate_filters)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import AuthenticationError, OpswatError
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import check_change_age
from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory import (
    ANSIBLE_HOST_SOURCES, HOSTNAME_SOURCES, ansible_host, assign_hostnames, cache_digest, cached_devices,
    device_hostvars)
from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory_refresh import (
    RefreshBase, base_path, change_window, merge_changes, monitored_count, read_base, write_base)

PLUGIN_NAME = "opswat.it_access.devices"
FILE_SUFFIXES = ("opswat.yml", "opswat.yaml")
# Bump when the shape of a cache entry changes: an entry of another version is a cache miss.
CACHE_FORMAT = 1

# Options that may hold templates (credentials from a vault or a lookup). Typed options (int, float, bool) are
# converted by the config manager before a template could be rendered, so they cannot be templates.
TEMPLATED_OPTIONS = ("api_url", "access_token", "client_id", "client_secret", "ca_path", "proxy_url", "group_name")

_PREFIX_RE = re.compile(r"^[A-Za-z0-9_]*$")


def check_choices(name, values, choices):
    """Fail, naming the option and listing its valid values, when one of ``values`` is not in ``choices``."""
    wrong = [value for value in values if value not in choices]
    if wrong:
        raise AnsibleParserError("%s: %s: unknown value(s) %s; choose from %s"
                                 % (PLUGIN_NAME, name, ", ".join(map(str, wrong)), ", ".join(choices)))


class Settings(object):
    """The validated options of one parse: config, filters, max_devices, page_size, hostnames,
    ansible_host_sources, prefix, incremental_refresh, full_refresh_interval."""

    def __init__(self, **values):
        self.__dict__.update(values)


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Hosts from the devices of an IT Access account."""

    NAME = PLUGIN_NAME

    def __init__(self):
        super(InventoryModule, self).__init__()
        self._raw_config = {}  # the inventory file as written, before the config manager converts it

    def verify_file(self, path):
        if not super(InventoryModule, self).verify_file(path):
            return False
        if path.endswith(FILE_SUFFIXES):
            return True
        self.display.vvv("Skipping %s: the file name of an %s source must end with %s"
                         % (path, PLUGIN_NAME, " or ".join(FILE_SUFFIXES)))
        return False

    def set_options(self, task_keys=None, var_options=None, direct=None):
        # The config manager checks the choices too, but names the valid values only in a help text that the
        # warning of a failed source leaves out: the same check first, with the values in the message itself.
        direct = direct or {}
        choice_options = [(name, choices) for name, choices in FILTER_CHOICES.items() if choices]
        choice_options += [("hostnames", HOSTNAME_SOURCES), ("ansible_host_sources", ANSIBLE_HOST_SOURCES)]
        for name, choices in choice_options:
            values = direct.get(name)
            if isinstance(values, (str, list)):
                check_choices(name, [values] if isinstance(values, str) else values, choices)
        super(InventoryModule, self).set_options(task_keys=task_keys, var_options=var_options, direct=direct)

    def parse(self, inventory, loader, path, cache=True):
        super(InventoryModule, self).parse(inventory, loader, path, cache=cache)
        self._raw_config = self._read_config_data(path) or {}
        settings = self._settings()
        for warning in settings.config.warnings:
            self.display.warning("%s: %s" % (PLUGIN_NAME, warning))

        use_cache = bool(self.get_option("cache"))
        # cache is False for --flush-cache and meta: refresh_inventory: a refresh, even if the entry is fresh.
        devices = None
        cache_key = None
        if use_cache:
            self.load_cache_plugin()
            cache_key = self.devices_cache_key(path, settings)
            if cache:
                devices = self._read_cache(cache_key)
        if devices is None:
            devices, current = self._refresh(settings, cache_key)
            # A fleet kept after a failed refresh is not cached: the next run tries again.
            if use_cache and current:
                self._cache[cache_key] = dict(format=CACHE_FORMAT, devices=devices)
        self._populate(devices, settings)

    # ------------------------------------------------------------------ options

    def _value(self, name):
        """The option's value; templates are rendered in TEMPLATED_OPTIONS set in the inventory file.

        The file is loaded as trusted, so its templates render. A value from an environment variable is used as it is,
        as the modules use it (ansible-core would trust it too, but a secret may happen to contain braces).
        """
        value, origin = self.get_option_and_origin(name)
        if value is None or name not in TEMPLATED_OPTIONS or origin != "Direct":
            return value
        try:
            value = self.templar.template(value)
        except Exception as error:  # pylint: disable=broad-exception-caught  # any templating failure
            if CONNECTION_OPTIONS.get(name, {}).get("no_log"):
                # The message could quote the value, which may be the secret itself.
                raise AnsibleParserError("%s: %s: the template could not be rendered (%s; details hidden: the value"
                                         " is a secret)" % (PLUGIN_NAME, name, type(error).__name__)) from None
            raise AnsibleParserError("%s: %s: the template could not be rendered: %s" % (PLUGIN_NAME, name, error)) from None
        if isinstance(value, list):
            return [str(item) if isinstance(item, str) else item for item in value]
        return str(value) if isinstance(value, str) else value

    def _settings(self):
        """Every option checked, before the cache is read and before any request."""
        self.templar.available_variables = self._vars or {}
        params = dict((name, self._value(name)) for name in CONNECTION_OPTIONS)
        for name, option in CONNECTION_OPTIONS.items():
            if option["type"] == "bool":
                params[name] = self._strict_bool(name, option["env"], params[name])
        filter_values = dict((name, self._value(name)) for name in FILTER_CHOICES)
        sources = dict((name, option["env"]) for name, option in CONNECTION_OPTIONS.items()
                       if str(self.get_option_and_origin(name)[1]).startswith("env:"))
        try:
            config = config_from_params(params, sources=sources)
            filters = validate_filters(filter_values)
        except OpswatError as error:
            raise AnsibleParserError("%s: %s" % (PLUGIN_NAME, error.message)) from None

        max_devices = self.get_option("max_devices")
        page_size = self.get_option("page_size")
        try:
            check_listing_options(page_size, max_devices)
        except OpswatError as error:
            raise AnsibleParserError("%s: %s" % (PLUGIN_NAME, error.message)) from None
        hostnames = self._choices("hostnames", HOSTNAME_SOURCES)
        if not hostnames:
            raise AnsibleParserError("%s: hostnames: must name at least one of %s" % (PLUGIN_NAME, ", ".join(HOSTNAME_SOURCES)))
        ansible_host_sources = self._choices("ansible_host_sources", ANSIBLE_HOST_SOURCES)
        prefix = self.get_option("vars_prefix") or ""
        if not _PREFIX_RE.match(prefix):
            raise AnsibleParserError("%s: vars_prefix: must hold only letters, digits and underscores, got %r"
                                     % (PLUGIN_NAME, prefix))
        return Settings(config=config, filters=filters, max_devices=max_devices, page_size=page_size, hostnames=hostnames,
                        ansible_host_sources=ansible_host_sources, prefix=prefix,
                        incremental_refresh=self._strict_bool("incremental_refresh", None,
                                                              self.get_option("incremental_refresh")),
                        full_refresh_interval=self._full_refresh_interval())

    def _full_refresh_interval(self):
        # The raw value: the config manager would read true as 1.
        interval = self._raw_config.get("full_refresh_interval", self.get_option("full_refresh_interval"))
        try:
            return check_change_age("full_refresh_interval", interval)
        except OpswatError as error:
            raise AnsibleParserError("%s: %s" % (PLUGIN_NAME, error.message)) from None

    def _strict_bool(self, name, env_name, value):
        """The option as the modules read it: ansible's config manager turns any unknown word into false, which for
        validate_certs would switch TLS verification off on a typo. The raw value is checked strictly instead."""
        _value, origin = self.get_option_and_origin(name)
        if origin == "Direct":
            raw = self._raw_config.get(name, value)
        elif env_name and str(origin).startswith("env:"):
            raw = os.environ.get(env_name, value)
        else:
            return value
        try:
            return boolean(raw, strict=True)
        except TypeError:
            raise AnsibleParserError("%s: %s: must be true or false, got %r" % (PLUGIN_NAME, name, raw)) from None

    def _choices(self, name, choices):
        values = self.get_option(name) or []
        check_choices(name, values, choices)
        return list(values)

    # ------------------------------------------------------------------ cache

    def devices_cache_key(self, path, settings):
        """The cache key: the inventory file, the API URL, the client ID, the filters and max_devices; no secret."""
        digest = cache_digest(settings.config, settings.filters, settings.max_devices)
        return "%s_%s" % (self.get_cache_key(path), digest)

    def _read_cache(self, cache_key):
        try:
            entry = self._cache[cache_key]
        except KeyError:
            self.display.vvv("%s: no cached devices, listing them" % PLUGIN_NAME)
            return None
        devices = cached_devices(entry, CACHE_FORMAT)
        if devices is None:
            self.display.vvv("%s: the cache entry has another format, listing the devices again" % PLUGIN_NAME)
            return None
        self.display.v("%s: %d devices from the cache, no request sent" % (PLUGIN_NAME, len(devices)))
        return devices

    # ------------------------------------------------------------------ the API

    def _client(self, config):
        return Client(config, log=self.display.vvv,
                      warn=lambda message: self.display.warning("%s: %s" % (PLUGIN_NAME, message)))

    def _refresh(self, settings, cache_key):
        """The devices of a refresh, and whether they are current (False: those of the last refresh, kept after the
        changes since could not be read)."""
        client = None
        try:
            client = self._client(settings.config)
            if cache_key is None or not settings.incremental_refresh or settings.max_devices is not None:
                return self._list(client, settings), True
            return self._refresh_from_base(client, settings, base_path(cache_key))
        except OpswatError as error:
            # The message is redacted by the client; no exception is chained, so no traceback carries more.
            raise AnsibleParserError("%s: %s" % (PLUGIN_NAME, error.message)) from None
        finally:
            if client is not None:
                client.close()

    def _list(self, client, settings):
        devices = list_matching(client, settings.filters, settings.page_size, settings.max_devices)
        self.display.v("%s: %d devices listed with %d requests" % (PLUGIN_NAME, len(devices), client.metrics["requests"]))
        self.display.vvv("%s: api_requests %s" % (PLUGIN_NAME, json.dumps(client.metrics, sort_keys=True)))
        return devices

    def _refresh_from_base(self, client, settings, path):
        """The fleet of the last refresh with the changes since merged, or listed in full when it cannot be."""
        started = time.time()
        base = read_base(path)
        age, reason = change_window(base, started, settings.full_refresh_interval)
        devices = None
        if age is not None:
            try:
                devices, reason = self._merged(client, settings, base, age)
            except AuthenticationError:
                raise
            except OpswatError as error:
                self.display.warning("%s: the changes since the last refresh could not be read, so the %d devices of"
                                     " that refresh are used unchanged and not cached: %s"
                                     % (PLUGIN_NAME, len(base.devices), error.message))
                return base.devices, False
        if devices is None:
            self.display.v("%s: listing every device: %s" % (PLUGIN_NAME, reason))
            devices = self._list(client, settings)
        listed_at = base.listed_at if reason is None else started
        try:
            write_base(path, RefreshBase(devices, listed_at, started))
        except (OSError, IOError) as error:
            self.display.warning("%s: the fleet could not be kept for the next incremental refresh (%s), which will"
                                 " list every device" % (PLUGIN_NAME, error))
        return devices, True

    def _merged(self, client, settings, base, age):
        """``(devices, None)``: the base with the changes of the last ``age`` seconds merged and checked;
        ``(None, reason)`` when the check fails."""
        changes = client.status_changes.within(age)
        changed_ids = [record["device_id"] for record in changes.devices]
        details = client.devices.details(changed_ids) if changed_ids else []
        devices = merge_changes(base.devices, changed_ids, details, changes.deleted_ids, settings.filters)
        if not settings.filters:
            used = client.account.get().get("devices_used")
            counted = monitored_count(devices)
            if isinstance(used, bool) or not isinstance(used, int):
                problem = "Account Details gives no devices_used count to check the merged inventory against"
            elif used != counted:
                problem = "Account Details counts %d monitored devices, the merged inventory %d" % (used, counted)
            else:
                problem = None
            if problem is not None:
                self.display.warning("%s: %s: listing every device" % (PLUGIN_NAME, problem))
                return None, problem
        self.display.v("%s: %d devices: %d status changes and %d deletions of the last %d s merged, with %d requests"
                       % (PLUGIN_NAME, len(devices), len(changed_ids), len(changes.deleted_ids), age,
                          client.metrics["requests"]))
        self.display.vvv("%s: api_requests %s" % (PLUGIN_NAME, json.dumps(client.metrics, sort_keys=True)))
        return devices, None

    # ------------------------------------------------------------------ hosts

    def _populate(self, devices, settings):
        strict = self.get_option("strict")
        compose = self.get_option("compose")
        groups = self.get_option("groups")
        keyed_groups = self.get_option("keyed_groups")
        names, renamed = assign_hostnames(devices, settings.hostnames)
        if renamed:
            self.display.warning("%s: %d devices share a host name with another device (or have a reserved one):"
                                 " their host names end with _ and the first 8 characters of the device ID"
                                 % (PLUGIN_NAME, renamed))
        for device, name in zip(devices, names):
            hostname = self.inventory.add_host(name)
            for variable, value in device_hostvars(device, settings.prefix).items():
                self.inventory.set_variable(hostname, variable, value)
            address = ansible_host(device, settings.ansible_host_sources)
            if address is not None:
                self.inventory.set_variable(hostname, "ansible_host", address)
            # compose and groups see the host's variables, ansible_host included.
            host_vars = self.inventory.get_host(hostname).get_vars()
            self._set_composite_vars(compose, host_vars, hostname, strict=strict)
            self._add_host_to_composed_groups(groups, host_vars, hostname, strict=strict)
            self._add_host_to_keyed_groups(keyed_groups, host_vars, hostname, strict=strict)
