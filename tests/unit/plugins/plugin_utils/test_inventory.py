# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host building of the devices inventory: host names, ansible_host, host variables, untrusted copies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, is_trusted_as_template, trust_as_template

from ansible_collections.opswat.it_access.plugins.plugin_utils.inventory import (
    ansible_host, assign_hostnames, cache_digest, cached_devices, device_hostvars, preferred_name, untrusted_copy,
    usable_ip)
from ansible_collections.opswat.it_access.tests.unit.plugins.inventory_devices_data import (
    DEFAULT_HOSTNAMES, EVIL, device)


def render(template, variables):
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template(template))


def test_host_name_preference_order():
    assert preferred_name(device(1), DEFAULT_HOSTNAMES) == "dev-1"
    assert preferred_name(device(1, device_name=""), DEFAULT_HOSTNAMES) == "dev-1.corp.example.com"
    assert preferred_name(device(1, device_name="  N/A ", host_name=None), DEFAULT_HOSTNAMES) == "10.0.0.2"
    no_address = device(1, device_name=None, host_name="   ", network_info=[{"mac": "x", "ipv4": "N/A"}])
    assert preferred_name(no_address, DEFAULT_HOSTNAMES) == device(1)["device_id"]
    assert preferred_name(device(1), ["nickname"]) == "Device 1"
    assert preferred_name(device(1), ["public_ip"]) == "198.51.100.2"
    assert preferred_name(device(1), ["first_mac"]) == "8c:ec:4b:00:00:01"
    # None of the preferences gives a name: the device ID.
    assert preferred_name(device(1, nickname=""), ["nickname"]) == device(1)["device_id"]


def test_host_names_are_stripped_and_numbers_accepted():
    assert preferred_name(device(1, device_name="  web-1 \n"), DEFAULT_HOSTNAMES) == "web-1"
    assert preferred_name(device(1, device_name=12345), DEFAULT_HOSTNAMES) == "12345"
    assert preferred_name(device(1, device_name={"not": "a name"}), DEFAULT_HOSTNAMES) == "dev-1.corp.example.com"


def test_unique_names_are_kept():
    devices = [device(number) for number in range(5)]
    names, renamed = assign_hostnames(devices, DEFAULT_HOSTNAMES)
    assert names == ["dev-%d" % number for number in range(5)]
    assert renamed == 0


def test_shared_names_get_the_device_id_prefix_and_no_device_is_dropped():
    devices = [device(1, device_name="web"), device(2), device(3, device_name="web"), device(4, device_name="web")]
    names, renamed = assign_hostnames(devices, DEFAULT_HOSTNAMES)
    assert names == ["web_%s" % devices[0]["device_id"][:8], "dev-2", "web_%s" % devices[2]["device_id"][:8],
                     "web_%s" % devices[3]["device_id"][:8]]
    assert len(set(names)) == len(devices)
    assert renamed == 3


def test_disambiguation_is_deterministic():
    devices = [device(number, device_name="same") for number in range(10)]
    copies = [dict(item) for item in devices]
    assert assign_hostnames(devices, DEFAULT_HOSTNAMES) == assign_hostnames(copies, DEFAULT_HOSTNAMES)


def test_a_suffixed_name_never_takes_a_name_another_device_has():
    first = device(1, device_name="web", device_id="aaaaaaaa" + "1" * 24)
    second = device(2, device_name="web", device_id="bbbbbbbb" + "2" * 24)
    # A third device is literally named like the first one's disambiguated name.
    squatter = device(3, device_name="web_aaaaaaaa")
    names, _renamed = assign_hostnames([first, second, squatter], DEFAULT_HOSTNAMES)
    assert names == ["web_" + first["device_id"], "web_bbbbbbbb", "web_aaaaaaaa"]


def test_ids_sharing_their_first_8_characters_fall_back_to_the_whole_id():
    first = device(1, device_name="web", device_id="abcdef01" + "1" * 24)
    second = device(2, device_name="web", device_id="abcdef01" + "2" * 24)
    names, _renamed = assign_hostnames([first, second], DEFAULT_HOSTNAMES)
    assert names == ["web_abcdef01", "web_" + second["device_id"]]


def test_even_duplicate_device_ids_give_distinct_names():
    twins = [device(1, device_name="web"), device(1, device_name="web"), device(1, device_name="web")]
    names, _renamed = assign_hostnames(twins, DEFAULT_HOSTNAMES)
    assert len(set(names)) == 3


@pytest.mark.parametrize("reserved", ["localhost", "127.0.0.1", "::1", "all", "ungrouped"])
def test_reserved_names_are_always_suffixed(reserved):
    item = device(1, device_name=reserved)
    names, renamed = assign_hostnames([item], DEFAULT_HOSTNAMES)
    assert names == ["%s_%s" % (reserved, item["device_id"][:8])]
    assert renamed == 1


def test_a_device_without_any_name_or_id_still_becomes_a_host():
    nameless = dict((key, value) for key, value in device(1).items()
                    if key not in ("device_name", "host_name", "device_id", "network_info"))
    names, _renamed = assign_hostnames([device(0), nameless], DEFAULT_HOSTNAMES)
    assert names == ["dev-0", "opswat_device_2"]


@pytest.mark.parametrize("value, expected", [
    ("10.1.2.3", "10.1.2.3"),
    (" 192.168.0.10 ", "192.168.0.10"),
    ("N/A", None),
    ("n/a", None),
    ("", None),
    (None, None),
    ("0.0.0.0", None),
    ("169.254.10.20", None),
    ("127.0.0.1", None),
    ("224.0.0.1", None),
    ("255.255.255.255", None),
    ("10.0.0.300", None),
    ("not an address", None),
    ("2001:db8::1", None),
    (["10.1.2.3"], None),
])
def test_usable_ipv4(value, expected):
    assert usable_ip(value) == expected


def test_public_ip_may_be_ipv6():
    assert usable_ip("2001:db8::1", versions=(4, 6)) == "2001:db8::1"
    assert usable_ip("fe80::1", versions=(4, 6)) is None


def test_ansible_host_is_the_first_usable_ipv4_by_default():
    item = device(1, network_info=[{"mac": "a", "ipv4": "N/A"}, {"mac": "b", "ipv4": "169.254.1.1"},
                                   {"mac": "c", "ipv4": "0.0.0.0"}, {"mac": "d", "ipv4": "172.16.5.4"},
                                   {"mac": "e", "ipv4": "10.9.9.9"}])
    assert ansible_host(item, ["first_ipv4"]) == "172.16.5.4"


def test_ansible_host_sources():
    item = device(1, network_info=[{"mac": "a", "ipv4": "N/A"}])
    assert ansible_host(item, ["first_ipv4"]) is None
    assert ansible_host(item, ["first_ipv4", "public_ip"]) == "198.51.100.2"
    assert ansible_host(item, ["host_name"]) == "dev-1.corp.example.com"
    assert ansible_host(item, []) is None
    # network_info documented as an object as well as a list
    assert ansible_host(device(1, network_info={"mac": "a", "ipv4": "10.2.3.4"}), ["first_ipv4"]) == "10.2.3.4"


def test_hostvars_carry_every_field_under_the_prefix():
    item = device(1, network_info=[{"mac": "8C-EC-4B-62-75-20", "ipv4": "N/A"}, {"mac": "x", "ipv4": "10.1.1.1"}])
    hostvars = device_hostvars(item, "opswat_")
    for field, value in item.items():
        assert hostvars["opswat_" + field] == value
    assert hostvars["opswat_ipv4_addresses"] == ["10.1.1.1"]
    assert hostvars["opswat_macs"] == ["8c:ec:4b:62:75:20"]
    assert hostvars["opswat_os_type"] == "windows"
    assert device_hostvars(item, "itaccess_")["itaccess_status"] == "compliant"
    assert device_hostvars(item, "")["status"] == "compliant"


def test_os_type_accepts_a_list_of_os_info_and_missing_data():
    assert device_hostvars(device(1, os_info=[{"type": "linux"}]), "opswat_")["opswat_os_type"] == "linux"
    assert device_hostvars(device(1, os_info=None), "opswat_")["opswat_os_type"] is None


def test_field_names_are_made_variable_names():
    hostvars = device_hostvars({"device_id": "1", "odd-field.name": 1, "2fa": True}, "")
    assert hostvars["odd_field_name"] == 1
    assert "2fa" not in hostvars
    assert device_hostvars({"device_id": "1", "2fa": True}, "opswat_")["opswat_2fa"] is True


def test_the_api_can_never_set_a_connection_variable():
    hostile = device(1, ansible_ssh_common_args="-o ProxyCommand=touch /tmp/pwned", ANSIBLE_HOST="1.2.3.4",
                     ssh_common_args="x")
    for prefix in ("", "ansible_", "Ansible_"):
        hostvars = device_hostvars(hostile, prefix)
        assert not [name for name in hostvars if name.lower().startswith("ansible_")]
    assert device_hostvars(hostile, "")["status"] == "compliant"


def test_values_from_the_api_are_set_as_plain_untrusted_strings():
    # The client parses the answers with json.loads: plain strings, which ansible-core 2.19+ never renders.
    item = json.loads(json.dumps(device(1, device_name=EVIL, os_info={"name": EVIL},
                                        network_info=[{"mac": "a", "ipv4": "10.1.1.1"}])))
    hostvars = device_hostvars(item, "opswat_")
    assert hostvars["opswat_device_name"] == EVIL
    assert not is_trusted_as_template(hostvars["opswat_device_name"])
    assert not is_trusted_as_template(hostvars["opswat_os_info"]["name"])
    assert not is_trusted_as_template(ansible_host(item, ["first_ipv4"]))
    assert render("{{ opswat_device_name }}", hostvars) == EVIL


def test_an_untrusted_copy_drops_every_trust_mark():
    copied = untrusted_copy({"name": trust_as_template(EVIL), "list": [trust_as_template("{{ x }}")], "n": 1})
    assert copied == {"name": EVIL, "list": ["{{ x }}"], "n": 1}
    assert not is_trusted_as_template(copied["name"]) and not is_trusted_as_template(copied["list"][0])


@pytest.mark.parametrize("entry", [
    None, [], {"format": 2, "devices": []}, {"format": 1, "devices": {}}, {"format": 1, "devices": ["x"]},
    {"format": 1, "devices": [{"device_id": "a", "status": {"not": "a value"}}]},
])
def test_a_cache_entry_of_another_shape_gives_no_devices(entry):
    assert cached_devices(entry, 1) is None


def test_cached_devices_are_untrusted_copies():
    entry = {"format": 1, "devices": [{"device_id": "a", "device_name": trust_as_template(EVIL)}]}
    devices = cached_devices(entry, 1)
    assert devices == [{"device_id": "a", "device_name": EVIL}]
    assert not is_trusted_as_template(devices[0]["device_name"])


class Config(object):
    """The connection settings, as far as the cache key goes."""

    def __init__(self, **values):
        self.__dict__.update(values)


def test_the_cache_digest_holds_what_the_devices_depend_on_and_no_secret():
    config = Config(api_url="https://a.example.test", client_id="id-1", client_secret="cs-SECRET")
    digest = cache_digest(config, {"status": {"exempted", "compliant"}}, 10)
    assert digest == cache_digest(config, {"status": {"compliant", "exempted"}}, 10)
    assert digest != cache_digest(config, {"status": {"compliant"}}, 10) != cache_digest(config, {}, None)
    other = Config(api_url="https://a.example.test", client_id="id-1", client_secret="another-SECRET")
    assert cache_digest(other, {"status": {"exempted", "compliant"}}, 10) == digest
