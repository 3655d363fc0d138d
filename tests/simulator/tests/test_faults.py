# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection: every kind, its options, counts and endpoint filters, through Python and /_sim/faults."""

import time

import pytest
import requests

from sim_helpers import check


def _exemptable(api):
    return next(d for d in api.sim.fleet.devices if d["status"] == "compliant" and d["_sim"]["agent"] == "persistent")


def test_rate_limit_fault_does_not_count(make_api):
    api = make_api(rate_limit=3, window=30)
    api.sim.add_fault("rate_limit", count=2, endpoint="devices")
    first = api.devices({"limit": 1})
    check("error.response.json", first, 429)
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in first.headers
    assert api.devices({"limit": 1}).status_code == 429
    # login() used one request; the two injected 429s used none.
    assert [api.devices({"limit": 1}).status_code for _attempt in range(3)] == [200, 200, 429]
    assert [entry["fault"] for entry in api.sim.request_log()[1:3]] == ["rate_limit", "rate_limit"]


def test_rate_limit_fault_options(make_api):
    api = make_api()
    api.sim.add_fault("rate_limit", retry_after=True, reset=7)
    response = api.devices({"limit": 1})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Reset-Time"] == "7"
    api.sim.add_fault("rate_limit", retry_after=False)
    assert "Retry-After" not in api.devices({"limit": 1}).headers


def test_rate_limit_fault_follows_the_server_retry_after_default(make_api):
    api = make_api(retry_after=True, rate_limit=10)
    api.sim.add_fault("rate_limit")
    assert "Retry-After" in api.devices({"limit": 1}).headers


def test_status_fault_json_and_html_change_nothing(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("status", code=503, endpoint="action")
    response = api.action("exempt", ids=[device["device_id"]])
    check("error.response.json", response, 503)
    assert api.sim.fleet.device(device["device_id"])["status"] == "compliant"
    api.sim.add_fault("status", code=502, body="<html><body>Bad Gateway</body></html>")
    response = api.devices({})
    assert response.status_code == 502 and response.headers["Content-Type"].startswith("text/html")
    api.sim.add_fault("status", body={"message": "boom"})
    response = api.devices({})
    assert response.status_code == 500 and response.json() == {"message": "boom"}
    assert api.devices({}).status_code == 200


def test_status_after_apply(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("status_after_apply", endpoint="action")
    assert api.action("exempt", ids=[device["device_id"]]).status_code == 500
    assert api.sim.fleet.device(device["device_id"])["status"] == "exempted"


def test_slow_applies_then_waits(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("slow", seconds=0.6, endpoint="action")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post("/o/api/v3.3/devices/action", {"types": "exempt", "ids": [device["device_id"]]}, timeout=0.2)
    assert api.sim.fleet.device(device["device_id"])["status"] == "exempted"


def test_slow_without_apply_waits_then_applies(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("slow", seconds=1.0, apply=False, endpoint="action")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post("/o/api/v3.3/devices/action", {"types": "exempt", "ids": [device["device_id"]]}, timeout=0.2)
    assert api.sim.fleet.device(device["device_id"])["status"] == "compliant"
    deadline = time.monotonic() + 10
    while api.sim.fleet.device(device["device_id"])["status"] != "exempted":
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_slow_read_answers_normally(make_api):
    api = make_api()
    api.sim.add_fault("slow", seconds=0.2)
    started = time.monotonic()
    check("devices.response.json", api.devices({}))
    assert time.monotonic() - started >= 0.2


def test_drop_before_processing(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("drop", endpoint="action")
    with pytest.raises(requests.exceptions.ConnectionError):
        api.action("exempt", ids=[device["device_id"]])
    assert api.sim.fleet.device(device["device_id"])["status"] == "compliant"
    assert api.sim.request_log()[-1]["status"] is None
    assert api.sim.request_log()[-1]["fault"] == "drop"
    # The server is fine afterwards.
    check("devices.response.json", api.devices({}))


def test_drop_after_apply(make_api):
    api = make_api()
    device = _exemptable(api)
    api.sim.add_fault("drop", endpoint="action", after_apply=True)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.action("exempt", ids=[device["device_id"]])
    assert api.sim.fleet.device(device["device_id"])["status"] == "exempted"


def test_malformed(make_api):
    api = make_api()
    api.sim.add_fault("malformed", endpoint="devices")
    response = api.devices({})
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    api.sim.add_fault("malformed", body='{"devices": [')
    assert api.devices({}).text == '{"devices": ['


def test_expire_token_fault(make_api):
    api = make_api()
    api.sim.add_fault("expire_token")
    # The token endpoint is not affected: the fault waits for a request that carries a token.
    assert api.fetch_token().status_code == 200
    answer = check("oauth_error.response.json", api.devices({}), 401)
    assert answer["error"] == "invalid_token"
    assert api.devices({}).status_code == 401
    api.login()
    assert api.devices({}).status_code == 200


def test_count_and_endpoint_filter(make_api):
    api = make_api()
    api.sim.add_fault("status", count=2, endpoint="groups", code=500)
    assert api.devices({}).status_code == 200
    assert [api.groups().status_code for _attempt in range(3)] == [500, 500, 200]
    assert not api.sim.pending_faults()


def test_faults_queue_in_order(make_api):
    api = make_api()
    api.sim.add_fault("status", code=502)
    api.sim.add_fault("status", code=503)
    assert [api.devices({}).status_code for _attempt in range(3)] == [502, 503, 200]


def test_clear_faults(make_api):
    api = make_api()
    api.sim.add_fault("status", count=5)
    api.sim.clear_faults()
    assert api.devices({}).status_code == 200


@pytest.mark.parametrize("args, options", [
    (("refuse",), {}), (("nope",), {}), (("status",), {"code": 42}), (("status", 0), {}), (("status", 1, "device"), {}),
    (("slow",), {"seconds": -1}), (("drop",), {"after": True}), (("rate_limit",), {"retry_after": "yes"}),
])
def test_invalid_faults(make_sim, args, options):
    with pytest.raises(ValueError):
        make_sim().add_fault(*args, **options)


def test_control_endpoint(make_api):
    api = make_api()
    url = api.sim.url + "/_sim/faults"
    response = requests.post(url, json={"kind": "status", "code": 503, "count": 2, "endpoint": "devices"}, timeout=5)
    assert response.status_code == 200
    assert response.json()["faults"][0]["code"] == 503
    assert api.devices({}).status_code == 503
    assert requests.delete(url, timeout=5).json() == {"faults": []}
    assert api.devices({}).status_code == 200
    assert requests.post(url, json={"kind": "refuse"}, timeout=5).status_code == 400
    assert requests.post(url, data="{", timeout=5).status_code == 400
    assert requests.get(api.sim.url + "/_sim/nothing", timeout=5).status_code == 404


def test_unexpected_exception_is_500(make_api, monkeypatch):
    api = make_api()

    def broken(*_args):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(api.sim.service, "_groups", broken)
    check("error.response.json", api.groups(), 500)
    assert api.devices({}).status_code == 200


def test_a_fault_can_start_after_n_matching_requests(make_api):
    """``after`` lets matching requests through first: "the token expires after page 3"."""
    api = make_api()
    api.sim.add_fault("status", count=1, endpoint="devices", after=2, code=503)
    codes = [api.devices({"limit": 1}).status_code for _attempt in range(4)]
    assert codes == [200, 200, 503, 200]


def test_issued_tokens_lists_every_token(make_api):
    api = make_api()
    assert api.token in api.sim.issued_tokens()


def test_device_details_carry_the_agent_type(make_api):
    api = make_api()
    device = api.sim.fleet.devices[0]
    answer = api.detail([device["device_id"]]).json()
    assert answer[0]["agent_type"] == device["_sim"]["agent"]
