# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ThreatsClient: the request body, pages of 50 and their ends, max_entries, an unknown device, hostile answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, UnexpectedResponseError

THREATS = "/o/api/v3/get_threats"
DEVICE = "0123456789abcdef0123456789abcdef"
VERBOSE = {"antimalware_scan": 1, "local_antimalware_threats": 0}


def threats(first, count):
    return [{"file": "C:\\file%d.exe" % number, "hash": "%064x" % number, "critical": True,
             "scan_time": "2025-06-01T00:00:00Z"} for number in range(first, first + count)]


def test_body_and_one_short_page(harness):
    harness.expect("POST", THREATS, json_body={"id": DEVICE, "verbose": VERBOSE, "page": 1, "limit": 50},
                   body={"antimalware_scan": threats(1, 2)})
    assert harness.client().threats.of_device(DEVICE) == threats(1, 2)


def test_pages_of_50_until_413(harness):
    harness.expect("POST", THREATS, json_body={"id": DEVICE, "verbose": VERBOSE, "page": 1, "limit": 50},
                   body={"antimalware_scan": threats(1, 50)})
    harness.expect("POST", THREATS, json_body={"id": DEVICE, "verbose": VERBOSE, "page": 2, "limit": 50},
                   status=413)
    assert len(harness.client().threats.of_device(DEVICE)) == 50


@pytest.mark.parametrize("answer", [{}, {"antimalware_scan": []}, [], {"local_antimalware_threats": []}])
def test_nothing_found(harness, answer):
    harness.expect("POST", THREATS, body=answer)
    assert harness.client().threats.of_device(DEVICE) == []


def test_a_bare_list(harness):
    harness.expect("POST", THREATS, body=threats(1, 1))
    assert harness.client().threats.of_device(DEVICE) == threats(1, 1)


def test_unknown_device_is_none(harness):
    harness.expect("POST", THREATS, status=404, body={"error": "Device not found"})
    assert harness.client().threats.of_device(DEVICE) is None


def test_max_entries(harness):
    harness.expect("POST", THREATS, body={"antimalware_scan": threats(1, 50)})
    client = harness.client()
    assert client.threats.of_device(DEVICE, max_entries=3) == threats(1, 3)
    assert client.metrics["requests"] == 1
    with pytest.raises(InputError, match="max_entries"):
        client.threats.of_device(DEVICE, max_entries=0)
    assert client.metrics["requests"] == 1


def test_a_repeated_page_is_an_error(harness):
    harness.expect("POST", THREATS, body={"antimalware_scan": threats(1, 50)})
    harness.expect("POST", THREATS, body={"antimalware_scan": threats(1, 50)})
    with pytest.raises(UnexpectedResponseError, match="would loop"):
        harness.client().threats.of_device(DEVICE)


@pytest.mark.parametrize("answer, message", [
    ({"antimalware_scan": {"file": "x"}}, "expected an object with an antimalware_scan list"),
    ("text", "expected an object with an antimalware_scan list"),
    ({"antimalware_scan": ["x"]}, r"antimalware_scan\[0\] is a JSON string, expected an object"),
    ({"antimalware_scan": [{"file": ["a", "b"]}]}, r"antimalware_scan\[0\].file is a JSON array"),
    ({"antimalware_scan": [{"hash": {"sha256": "x"}}]}, r"antimalware_scan\[0\].hash is a JSON object"),
])
def test_hostile_answers(harness, answer, message):
    harness.expect("POST", THREATS, body=answer)
    with pytest.raises(UnexpectedResponseError, match=message):
        harness.client().threats.of_device(DEVICE)
