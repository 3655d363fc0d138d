# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook source's decisions without a socket: arguments, request head, the delivery's JSON, dedup, events."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils import webhook_events
from ansible_collections.opswat.it_access.plugins.plugin_utils.webhook_events import (
    Deduplicator, Delivery, RequestRefused, authorized, body_length, event_of, events_of, details_by_id,
    observed_at, parse_delivery, parse_head, webhook_settings)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import DETAILS, Harness

TOKEN = "webhook-key-9f8e7d-SECRET"


def settings(**args):
    values = dict(token=TOKEN, port=5000)
    values.update(args)
    return webhook_settings(values, environ={})


# ---------------------------------------------------------------------------------------------- arguments


def test_defaults():
    checked = settings()
    assert (checked.host, checked.port, checked.path, checked.certfile, checked.keyfile) == (
        "127.0.0.1", 5000, "/", None, None)
    assert (checked.max_body_bytes, checked.read_timeout, checked.enrich, checked.config) == (1048576, 10.0, False, None)
    assert TOKEN not in repr(checked)


@pytest.mark.parametrize("missing", ["token", "port"])
def test_token_and_port_are_required(missing):
    args = dict(token=TOKEN, port=5000)
    del args[missing]
    with pytest.raises(InputError, match="^%s: is required" % missing):
        webhook_settings(args, environ={})


@pytest.mark.parametrize("args, message", [
    (dict(token="  "), "^token: must not be empty"),
    (dict(token=12345), "^token: must be a string, got a JSON number$"),
    (dict(port=70000), "^port: must be a whole number from 0 to 65535, got 70000"),
    (dict(port=True), "^port: must be a whole number from 0 to 65535, got True"),
    (dict(port="50x"), "^port: must be a whole number from 0 to 65535, got '50x'"),
    (dict(path="hook"), "^path: must start with /"),
    (dict(max_body_bytes=0), "^max_body_bytes: must be a whole number from 2"),
    (dict(read_timeout=0), "^read_timeout: must be a number from 0.001 to 3600, got 0"),
    (dict(read_timeout="nan"), "^read_timeout: must be a number"),
    (dict(enrich="maybe"), "^enrich: must be true or false, got 'maybe'"),
    (dict(keyfile="/etc/hostname"), "^keyfile: needs certfile"),
    (dict(certfile="/nonexistent/cert.pem"), "^certfile: is not a readable file"),
    (dict(tokne="x"), "^tokne: is not an argument of this source"),
])
def test_bad_arguments_name_the_argument(args, message):
    with pytest.raises(InputError, match=message) as error:
        settings(**args)
    assert TOKEN not in str(error.value)


def test_strings_of_templated_values_are_converted():
    checked = settings(port="5001", read_timeout="2.5", enrich="false", max_body_bytes="4096")
    assert (checked.port, checked.read_timeout, checked.enrich, checked.max_body_bytes) == (5001, 2.5, False, 4096)


def test_keys_ansible_rulebook_adds_are_ignored():
    assert settings(eda_feedback_queue=object()).port == 5000


def test_enrich_reads_the_connection_options_and_their_environment_variables():
    checked = webhook_settings(dict(token=TOKEN, port=5000, enrich=True, client_id="cid"),
                               environ={"OPSWAT_CLIENT_SECRET": "cs-SECRET", "OPSWAT_REQUESTS_PER_MINUTE": "600",
                                        "OPSWAT_API_URL": "http://127.0.0.1:8080", "OPSWAT_CLIENT_ID": "ignored"})
    config = checked.config
    assert (config.client_id, config.client_secret, config.requests_per_minute) == ("cid", "cs-SECRET", 600)
    assert config.api_url == "http://127.0.0.1:8080"


def test_enrich_without_credentials_fails_at_once():
    with pytest.raises(InputError, match="client_id|access_token"):
        webhook_settings(dict(token=TOKEN, port=5000, enrich=True), environ={})


def test_a_bad_environment_variable_is_named():
    with pytest.raises(InputError, match=r"^OPSWAT_VALIDATE_CERTS \(validate_certs\): must be true or false"):
        webhook_settings(dict(token=TOKEN, port=5000, enrich=True, access_token="at"),
                         environ={"OPSWAT_VALIDATE_CERTS": "perhaps"})


def test_connection_options_are_not_read_without_enrich():
    assert settings(client_id="cid").config is None


# ---------------------------------------------------------------------------------------------- the request head


def head(*lines):
    return parse_head(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


def test_head_is_parsed():
    parsed = head("POST /hook?x=1 HTTP/1.1", "Host: a", "Authorization:  %s " % TOKEN, "Content-Length: 12")
    assert (parsed.method, parsed.target, parsed.path) == ("POST", "/hook?x=1", "/hook")
    assert parsed.header("authorization") == TOKEN
    assert parsed.header("content-length") == "12"
    assert parsed.header("x-missing") is None


@pytest.mark.parametrize("lines, status", [
    (["GET /"], 400),
    (["POST / SPDY/3"], 400),
    (["POST / HTTP/1.1", "no colon here"], 400),
    (["POST / HTTP/1.1", " Folded: value"], 400),
    (["POST / HTTP/1.1"] + ["X-%d: y" % index for index in range(101)], 431),
])
def test_bad_heads_are_refused(lines, status):
    with pytest.raises(RequestRefused) as refused:
        head(*lines)
    assert refused.value.status == status


@pytest.mark.parametrize("lines, expected", [
    (["Authorization: %s" % TOKEN], True),
    ([], False),
    (["Authorization: wrong"], False),
    (["Authorization: Bearer %s" % TOKEN], False),
    (["Authorization: %s" % TOKEN, "Authorization: %s" % TOKEN], False),
    (["Authorization: %sX" % TOKEN], False),
])
def test_authorized_only_by_the_bare_key(lines, expected):
    assert authorized(head("POST / HTTP/1.1", *lines), TOKEN) is expected


def test_the_token_is_compared_in_constant_time(monkeypatch):
    compared = []
    monkeypatch.setattr(webhook_events.hmac, "compare_digest", lambda given, token: compared.append((given, token)))
    authorized(head("POST / HTTP/1.1", "Authorization: abc"), TOKEN)
    assert compared == [(b"abc", TOKEN.encode())]


@pytest.mark.parametrize("lines, outcome", [
    (["Content-Length: 100"], 100),
    (["Content-Length: 101"], 413),
    (["Transfer-Encoding: chunked"], None),
    (["Transfer-Encoding: gzip"], 501),
    (["Transfer-Encoding: chunked", "Content-Length: 5"], 400),
    ([], 411),
    (["Content-Length: -1"], 400),
    (["Content-Length: 5", "Content-Length: 6"], 400),
])
def test_body_length(lines, outcome):
    parsed = head("POST / HTTP/1.1", *lines)
    if outcome is None or outcome < 200:
        assert body_length(parsed, 100) == outcome
        return
    with pytest.raises(RequestRefused) as refused:
        body_length(parsed, 100)
    assert refused.value.status == outcome


# ---------------------------------------------------------------------------------------------- the delivery


def body(*items):
    return json.dumps(list(items)).encode()


def test_delivery_statuses_are_spelled_as_get_devices_spells_them():
    deliveries = parse_delivery(body(dict(device_id="d1", status="non_compliant", timestamp=1),
                                     dict(device_id="d2", status="Non-Compliant", timestamp=2),
                                     dict(device_id="d3", status="compliant", timestamp=3),
                                     dict(device_id="d4", status="installed", timestamp=4),
                                     dict(device_id="d5", status="deleted", timestamp=5)))
    assert [(d.device_id, d.status, d.timestamp) for d in deliveries] == [
        ("d1", "non_compliant", 1), ("d2", "non_compliant", 2), ("d3", "compliant", 3), ("d4", "installed", 4),
        ("d5", "deleted", 5)]


def test_an_empty_array_is_a_valid_delivery():
    assert parse_delivery(b"[]") == []


@pytest.mark.parametrize("raw, reason", [
    (b"not json", "the body is not JSON"),
    (b"\xff\xfe", "the body is not JSON"),
    (b'{"device_id": "d1"}', "not a JSON array"),
    (body("d1"), "item 0 is not a JSON object"),
    (body(dict(status="compliant", timestamp=1)), "item 0: device_id is missing"),
    (body(dict(device_id=" ", status="compliant", timestamp=1)), "item 0: device_id"),
    (body(dict(device_id="d", status="compliant", timestamp=1), dict(device_id="d", status="weird", timestamp=1)),
     "item 1: status 'weird' is not a status"),
    (body(dict(device_id="d", status=None, timestamp=1)), "status a JSON null"),
    (body(dict(device_id="d", status="compliant")), "item 0: timestamp"),
    (body(dict(device_id="d", status="compliant", timestamp="1")), "item 0: timestamp"),
    (body(dict(device_id="d", status="compliant", timestamp=True)), "item 0: timestamp"),
    (body(dict(device_id="d", status="compliant", timestamp=1.5)), "item 0: timestamp"),
])
def test_a_body_that_is_not_the_documented_json_is_400(raw, reason):
    with pytest.raises(RequestRefused) as refused:
        parse_delivery(raw)
    assert refused.value.status == 400
    assert reason in refused.value.reason


def test_a_long_value_is_quoted_back_cut_short():
    with pytest.raises(RequestRefused) as refused:
        parse_delivery(body(dict(device_id="d", status="x" * 500, timestamp=1)))
    assert len(refused.value.reason) < 150


def test_retries_are_emitted_once():
    dedup = Deduplicator(100)
    delivery = [dict(device_id="D1", status="non_compliant", timestamp=1700000000123)]
    first = dedup.fresh(parse_delivery(body(*delivery)))
    retries = [dedup.fresh(parse_delivery(body(*delivery))) for _attempt in range(2)]
    assert [d.device_id for d in first] == ["D1"]
    assert retries == [[], []]
    # The id without regard to case (the API matches ids so); another status or time is another delivery.
    assert dedup.fresh(parse_delivery(body(dict(delivery[0], device_id="d1")))) == []
    assert len(dedup.fresh(parse_delivery(body(dict(delivery[0], status="compliant"))))) == 1
    assert len(dedup.fresh(parse_delivery(body(dict(delivery[0], timestamp=1700000000124))))) == 1


def test_a_repeat_within_one_delivery_is_emitted_once():
    item = dict(device_id="d1", status="compliant", timestamp=5)
    assert len(Deduplicator(10).fresh(parse_delivery(body(item, item, item)))) == 1


def test_the_dedup_memory_is_bounded():
    dedup = Deduplicator(2)
    first, second, third = [Delivery("d%d" % index, "compliant", index) for index in range(3)]
    assert dedup.fresh([first, second, third]) == [first, second, third]
    assert len(dedup) == 2
    assert dedup.fresh([first]) == [first]  # forgotten: the oldest key went first
    assert dedup.fresh([third]) == []


# ---------------------------------------------------------------------------------------------- events


def test_event_shape():
    event = event_of(Delivery("d1", "non_compliant", 1764606600123))
    assert event == {"opswat": {
        "event": "device_status_webhook", "device_id": "d1", "device_name": None, "status": "non_compliant",
        "previous_status": None, "severity": None, "group_name": None, "observed_at": "2025-12-01T16:30:00.123Z"}}


def test_observed_at_is_utc_iso8601_to_the_millisecond():
    assert observed_at(0) == "1970-01-01T00:00:00.000Z"


def test_an_enriched_event_has_name_severity_and_group():
    device = dict(device_id="d1", device_name="laptop-7", severity="critical", group_name="Finance", status="x")
    payload = event_of(Delivery("d1", "non_compliant", 0), device)["opswat"]
    assert (payload["device_name"], payload["severity"], payload["group_name"]) == ("laptop-7", "critical", "Finance")
    assert payload["status"] == "non_compliant"  # the delivery's status, not the one read later


def test_details_by_id_reads_each_device_once_50_a_request(monkeypatch, tmp_path):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))  # the pace file goes to this test's directory
    harness = Harness()
    deliveries = [Delivery("D%03d" % index, "compliant", index) for index in range(60)]
    deliveries.append(Delivery("D000", "non_compliant", 99))
    ids = ["D%03d" % index for index in range(60)]
    harness.expect("POST", DETAILS, json_body={"ids": ids[:50], "opt": 0},
                   body=[dict(device_id=device_id, device_name="n-" + device_id, severity="warning",
                              group_name="G", status="non-compliant") for device_id in ids[:50]])
    harness.expect("POST", DETAILS, json_body={"ids": ids[50:], "opt": 0}, status=404, body={"error": "none"})
    details = details_by_id(harness.client(), deliveries)
    events = events_of(deliveries, details)
    assert events[0]["opswat"]["device_name"] == "n-D000"
    assert events[60]["opswat"]["device_name"] == "n-D000"
    assert events[55]["opswat"]["device_name"] is None  # unknown to Device Details: left null
    assert details["d001"]["status"] == "non_compliant"
    harness.transport.assert_done()
