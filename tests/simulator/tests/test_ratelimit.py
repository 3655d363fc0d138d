# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rate limiting: headers on every answer, both scopes, Retry-After on and off, windows, and no state change."""

import time

import requests

from sim_helpers import Api, check

HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset-Time")


def _limited(make_sim, **options):
    # A long window unless a test waits for it to pass: a slow machine must not open a new window mid-test.
    options.setdefault("rate_limit", 3)
    options.setdefault("window", 30)
    api = Api(make_sim(**options))
    return api


def test_headers_on_every_answer(make_sim):
    api = _limited(make_sim, rate_limit=20, window=5)
    responses = [api.fetch_token()]
    api.token = responses[0].json()["access_token"]
    responses += [
        api.devices({"limit": 1}),                        # 200
        api.devices({"limit": 0}),                        # 400
        api.post("/o/api/v3.7/devices", {}, token="x"),   # 401
        api.get("/o/api/v3.7/devices"),                   # 405
        api.post("/o/api/v3/groups", {"limit": 99}),      # 406
        api.post("/o/api/v3/groups", {"page": 99}),       # 413
        api.post("/o/api/v3.7/devices", data="x", headers={"Content-Type": "text/plain"}),  # 415
        api.detail(["f" * 32]),                           # 404 (no known device)
    ]
    assert [response.status_code for response in responses] == [200, 200, 400, 401, 405, 406, 413, 415, 404]
    remaining = []
    for response in responses:
        assert all(name in response.headers for name in HEADERS), response.headers
        assert response.headers["X-RateLimit-Limit"] == "20"
        assert 0 < int(response.headers["X-RateLimit-Reset-Time"]) <= 5
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    # One account-wide bucket: the token request counted too.
    assert remaining == list(range(19, 19 - len(responses), -1))


def test_account_scope_429(make_sim):
    api = _limited(make_sim)
    api.login()
    assert [api.devices({"limit": 1}).status_code for _attempt in range(3)] == [200, 200, 429]
    response = check("error.response.json", api.post("/o/api/v3/groups", {}), 429)
    assert response == {"error": "rate limit exceeded"}
    throttled = api.devices({"limit": 1})
    assert throttled.headers["X-RateLimit-Remaining"] == "0"
    assert "Retry-After" not in throttled.headers


def test_window_resets(make_sim):
    api = _limited(make_sim, rate_limit=1, window=0.5)
    assert [api.fetch_token().status_code for _attempt in range(2)] == [200, 429]
    time.sleep(0.55)
    assert api.fetch_token().status_code == 200


def test_endpoint_scope(make_sim):
    api = _limited(make_sim, rate_limit_scope="endpoint")
    api.login()
    assert [api.devices({"limit": 1}).status_code for _attempt in range(4)] == [200, 200, 200, 429]
    assert [api.groups().status_code for _attempt in range(4)] == [200, 200, 200, 429]
    assert api.get("/o/api/v3/account").status_code == 200
    # The token endpoint has its own bucket, already used once by login().
    assert [api.fetch_token().status_code for _attempt in range(3)] == [200, 200, 429]


def test_retry_after_when_enabled(make_sim):
    api = _limited(make_sim, retry_after=True)
    api.login()
    responses = [api.devices({"limit": 1}) for _attempt in range(3)]
    assert responses[-1].status_code == 429
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 30
    assert "Retry-After" not in responses[0].headers


def test_epoch_reset_time(make_sim):
    api = _limited(make_sim, reset_time_format="epoch", window=30)
    response = api.fetch_token()
    reset = int(response.headers["X-RateLimit-Reset-Time"])
    assert time.time() < reset <= time.time() + 31


def test_throttled_action_changes_nothing(make_sim):
    api = _limited(make_sim)
    api.login()
    device = next(d for d in api.sim.fleet.devices if d["status"] == "compliant" and d["_sim"]["agent"] == "persistent")
    assert [api.devices({"limit": 1}).status_code for _attempt in range(2)] == [200, 200]
    assert api.action("exempt", ids=[device["device_id"]]).status_code == 429
    assert api.sim.fleet.device(device["device_id"])["status"] == "compliant"
    assert api.sim.request_log()[-1]["status"] == 429


def test_disabled_limit_sends_no_headers(make_sim):
    api = Api(make_sim(rate_limit=0))
    api.login()
    for _attempt in range(30):
        response = api.devices({"limit": 1})
        assert response.status_code == 200
    assert not any(name in response.headers for name in HEADERS)


def test_set_rate_limit_at_run_time(make_sim):
    api = Api(make_sim(rate_limit=0))
    api.login()
    api.sim.set_rate_limit(2, 30, scope="endpoint", retry_after=True)
    assert [api.devices({"limit": 1}).status_code for _attempt in range(3)] == [200, 200, 429]
    assert api.groups().status_code == 200
    response = requests.post(api.sim.url + "/_sim/rate_limit", json={"rate_limit": 0}, timeout=5)
    assert response.json()["rate_limit"] == 0
    assert api.devices({"limit": 1}).status_code == 200


def test_unknown_paths_are_not_counted(make_sim):
    api = _limited(make_sim)
    for _attempt in range(5):
        assert requests.get(api.sim.url + "/nothing/here", timeout=5).status_code == 404
    assert api.fetch_token().headers["X-RateLimit-Remaining"] == "2"
