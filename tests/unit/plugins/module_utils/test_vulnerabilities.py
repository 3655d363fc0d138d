# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VulnerabilitiesClient: request bodies, paging ends at each listing's limit, max_entries, option checks, hostile answers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, InputError, UnexpectedResponseError)

# Restated rather than imported, so that a wrong path in the client fails a test.
ACCOUNT_CVES = "/o/api/v3.1/cves"
DEVICE_CVES = "/o/api/v3.2/get_cves"
DEVICE = "0123456789abcdef0123456789abcdef"


def cves(first, count, **fields):
    return [dict(fields, cve_id="CVE-2024-%d" % number) for number in range(first, first + count)]


def ids(records):
    return [record["cve_id"] for record in records]


# ---------------------------------------------------------------------- one device


def test_device_body_and_a_short_page(harness):
    harness.expect("POST", DEVICE_CVES, json_body={"id": DEVICE, "verbose": 0, "page": 1, "limit": 100},
                   body={"device_id": DEVICE, "total": 3, "cves": cves(1, 3)})
    assert ids(harness.client().vulnerabilities.of_device(DEVICE)) == ["CVE-2024-1", "CVE-2024-2", "CVE-2024-3"]


def test_device_kev_only_and_verbose(harness):
    harness.expect("POST", DEVICE_CVES, json_body={"id": DEVICE, "verbose": 1, "filter": {"kev": 1}, "page": 1,
                                                   "limit": 100},
                   body={"cves": cves(1, 1, severity="critical", cvss3_score=9.8)})
    found = harness.client().vulnerabilities.of_device(DEVICE, kev_only=True, verbose=True)
    assert found == [{"cve_id": "CVE-2024-1", "severity": "critical", "cvss3_score": 9.8}]


def test_device_pages_of_100_until_413(harness):
    harness.expect("POST", DEVICE_CVES, json_body={"id": DEVICE, "verbose": 0, "page": 1, "limit": 100},
                   body={"cves": cves(1, 100)})
    harness.expect("POST", DEVICE_CVES, json_body={"id": DEVICE, "verbose": 0, "page": 2, "limit": 100},
                   body={"cves": cves(101, 100)})
    harness.expect("POST", DEVICE_CVES, json_body={"id": DEVICE, "verbose": 0, "page": 3, "limit": 100}, status=413)
    assert len(harness.client().vulnerabilities.of_device(DEVICE)) == 200


def test_device_a_page_of_50_is_not_the_end_of_a_listing_of_100(harness):
    harness.expect("POST", DEVICE_CVES, body={"cves": cves(1, 50)})
    client = harness.client()
    assert len(client.vulnerabilities.of_device(DEVICE)) == 50
    assert client.metrics["requests"] == 1  # 50 < 100: a short page, the end


def test_device_empty_page_ends(harness):
    harness.expect("POST", DEVICE_CVES, body={"device_id": DEVICE, "total": 0, "cves": []})
    assert harness.client().vulnerabilities.of_device(DEVICE) == []


def test_device_ids_only_as_bare_strings(harness):
    harness.expect("POST", DEVICE_CVES, body=["CVE-2024-1", "CVE-2024-2"])
    assert harness.client().vulnerabilities.of_device(DEVICE) == [{"cve_id": "CVE-2024-1"}, {"cve_id": "CVE-2024-2"}]


def test_device_unknown_is_none(harness):
    harness.expect("POST", DEVICE_CVES, status=404, body={"error": "Device not found"})
    assert harness.client().vulnerabilities.of_device(DEVICE) is None


def test_device_max_entries_stops_paging(harness):
    harness.expect("POST", DEVICE_CVES, body={"cves": cves(1, 100)})
    client = harness.client()
    assert ids(client.vulnerabilities.of_device(DEVICE, max_entries=5)) == ["CVE-2024-%d" % n for n in range(1, 6)]
    assert client.metrics["requests"] == 1


def test_device_a_repeated_page_is_an_error(harness):
    harness.expect("POST", DEVICE_CVES, body={"cves": cves(1, 100)})
    harness.expect("POST", DEVICE_CVES, body={"cves": cves(1, 100)})
    with pytest.raises(UnexpectedResponseError, match="page 2 repeats page 1"):
        harness.client().vulnerabilities.of_device(DEVICE)


def test_device_the_page_ceiling_stops_an_endless_listing(harness):
    for first in (1, 101):
        harness.expect("POST", DEVICE_CVES, body={"cves": cves(first, 100)})
    client = harness.client(max_listing_pages=2)
    with pytest.raises(UnexpectedResponseError, match="max_listing_pages"):
        client.vulnerabilities.of_device(DEVICE)
    assert client.metrics["requests"] == 2


@pytest.mark.parametrize("answer, message", [
    ({"cves": {"cve_id": "CVE-1"}}, "expected a JSON list, or an object with a cves list"),
    ("just text", "expected a JSON list, or an object with a cves list"),
    ({"cves": [42]}, r"cves\[0\] is a JSON number, expected an object or a CVE id"),
    ({"cves": [{"severity": "low"}]}, r"cves\[0\].cve_id is missing"),
    ({"cves": [{"cve_id": ""}]}, r"cves\[0\].cve_id is empty"),
    ({"cves": [{"cve_id": ["CVE-1"]}]}, r"cves\[0\].cve_id is a JSON array"),
    ({"cves": [{"cve_id": "CVE-1", "cvss3_score": {"base": 9}}]}, r"cves\[0\].cvss3_score is a JSON object"),
])
def test_device_hostile_answers(harness, answer, message):
    harness.expect("POST", DEVICE_CVES, body=answer)
    with pytest.raises(UnexpectedResponseError, match=message):
        harness.client().vulnerabilities.of_device(DEVICE)


def test_device_server_error_is_retried_then_reported(harness):
    for _attempt in range(4):
        harness.expect("POST", DEVICE_CVES, status=500, body={"error": "boom"})
    client = harness.client()
    with pytest.raises(ApiError, match="HTTP 500"):
        client.vulnerabilities.of_device(DEVICE)
    assert client.metrics["retries"] == 3


# ---------------------------------------------------------------------- the account


def test_account_default_body(harness):
    harness.expect("POST", ACCOUNT_CVES, json_body={"filter": {"score_type": "opswat_score"}, "page": 1, "limit": 50},
                   body={"total": 2, "cves": cves(1, 2)})
    assert len(harness.client().vulnerabilities.account()) == 2


def test_account_every_option_in_the_body(harness):
    harness.expect("POST", ACCOUNT_CVES, json_body={
        "search": "chrome", "filter": {"score_type": "cvss3_score", "severity": ["critical", "high"]},
        "sort": {"field": "cvss3_score", "order": "desc"}, "page": 1, "limit": 50}, body=cves(1, 1))
    found = harness.client().vulnerabilities.account(search="chrome", severities=["critical", "high"],
                                                     score_type="cvss3_score", sort_by="cvss3_score",
                                                     sort_order="desc")
    assert ids(found) == ["CVE-2024-1"]


def test_account_sort_order_defaults_to_ascending(harness):
    harness.expect("POST", ACCOUNT_CVES, json_body={"filter": {"score_type": "opswat_score"},
                                                    "sort": {"field": "cve_id", "order": "asc"}, "page": 1,
                                                    "limit": 50}, body=[])
    assert harness.client().vulnerabilities.account(sort_by="cve_id") == []


def test_account_pages_of_50(harness):
    harness.expect("POST", ACCOUNT_CVES, json_body={"filter": {"score_type": "opswat_score"}, "page": 1, "limit": 50},
                   body={"cves": cves(1, 50)})
    harness.expect("POST", ACCOUNT_CVES, json_body={"filter": {"score_type": "opswat_score"}, "page": 2, "limit": 50},
                   body={"cves": cves(51, 7)})
    assert len(harness.client().vulnerabilities.account()) == 57


def test_account_max_entries_across_pages(harness):
    harness.expect("POST", ACCOUNT_CVES, body={"cves": cves(1, 50)})
    harness.expect("POST", ACCOUNT_CVES, body={"cves": cves(51, 50)})
    client = harness.client()
    assert len(client.vulnerabilities.account(max_entries=60)) == 60
    assert client.metrics["requests"] == 2


@pytest.mark.parametrize("kwargs, option, message", [
    (dict(severities=["important"], score_type="cvss3_score"), "severity", "not a severity of score_type cvss3_score"),
    (dict(severities=["none"], score_type="cvss2_score"), "severity", "its severities: high, medium, low"),
    (dict(severities=["high"]), "severity", "not a severity of score_type opswat_score"),
    (dict(score_type="cvss4_score"), "score_type", "must be one of"),
    (dict(sort_by="number_of_devices"), "sort_by", "must be one of"),
    (dict(sort_by="cve_id", sort_order="up"), "sort_order", "asc or desc"),
    (dict(sort_order="desc"), "sort_order", "needs sort_by"),
    (dict(max_entries=0), "max_entries", "1 or more"),
    (dict(max_entries=True), "max_entries", "1 or more"),
])
def test_account_bad_options_fail_before_any_request(harness, kwargs, option, message):
    client = harness.client()
    with pytest.raises(InputError, match=message) as caught:
        client.vulnerabilities.account(**kwargs)
    assert caught.value.option == option
    assert client.metrics["requests"] == 0


def test_device_bad_max_entries_fails_before_any_request(harness):
    client = harness.client()
    with pytest.raises(InputError, match="max_entries"):
        client.vulnerabilities.of_device(DEVICE, max_entries=-1)
    assert client.metrics["requests"] == 0
