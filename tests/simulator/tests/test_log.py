# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The request log: its fields, the JSON-lines file, the control endpoints, and that no secret ever lands in it."""

import json

import requests

from sim_helpers import CLIENT, Api

FIELDS = {"time", "method", "path", "endpoint", "query", "body", "status", "fault", "duration_ms", "action", "ids_count"}


def test_entry_fields(api):
    api.sim.clear_log()
    ids = [device["device_id"] for device in api.sim.fleet.devices[:3]]
    api.action("dhcprenew", ids=ids)
    api.detail(ids[:2])
    api.devices({"limit": 2})
    requests.get(api.sim.url + "/unknown", timeout=5)
    log = api.sim.request_log()
    assert [set(entry) for entry in log] == [FIELDS] * 4
    action, detail, devices, unknown = log
    assert action["endpoint"] == "action" and action["action"] == "dhcprenew" and action["ids_count"] == 3
    assert action["path"] == "/o/api/v3.3/devices/action" and action["method"] == "POST" and action["status"] == 200
    assert detail["endpoint"] == "detail" and detail["ids_count"] == 2 and detail["action"] is None
    assert devices["body"] == {"limit": 2} and devices["ids_count"] is None
    assert unknown["endpoint"] is None and unknown["status"] == 404
    assert all(entry["time"].endswith("Z") and entry["duration_ms"] >= 0 for entry in log)
    assert [entry["time"] for entry in log] == sorted(entry["time"] for entry in log)


def test_secrets_never_logged(make_sim, tmp_path):
    path = tmp_path / "requests.jsonl"
    sim = make_sim(log_path=str(path), access_token="preset-secret-token")
    api = Api(sim)
    tokens = [api.login()]
    url = sim.url
    # Every carrier of a credential the API knows of, plus a few careless ones.
    requests.get(url + "/o/oauth/token", params=dict(CLIENT, grant_type="client_credentials"), timeout=5)
    requests.post(url + "/o/oauth/token?client_secret=sim-secret", data={"client_id": "sim-client", "grant_type": "client_credentials"},
                  timeout=5)
    api.devices({"limit": 1})
    requests.post(url + "/o/api/v3.7/devices", headers={"Authorization": "Bearer " + tokens[0]}, json={}, timeout=5)
    requests.post(url + "/o/api/v3.7/devices", json={"access_token": tokens[0], "limit": 1}, timeout=5)
    requests.post(url + "/o/api/v3.7/devices", json={"access_token": "preset-secret-token"}, timeout=5)
    requests.post(url + "/o/api/v3.2/account", params={"access_token": tokens[0]},
                  json={"score_type": "x", "license_key": sim.license_key}, timeout=5)
    requests.post(url + "/o/api/v3.8/devices/detail", params={"access_token": tokens[0]},
                  json={"ids": ["token " + tokens[0], "secret sim-secret", "key " + sim.license_key]}, timeout=5)
    requests.post(url + "/o/api/v3.8/devices/detail", params={"access_token": tokens[0]},
                  data="not json " + tokens[0], headers={"Content-Type": "application/json"}, timeout=5)
    api.get("/o/api/v3.2/account")
    sim.stop()
    memory = json.dumps(sim.request_log())
    on_disk = path.read_text(encoding="utf-8")
    assert len(on_disk.splitlines()) == len(sim.request_log()) == 11
    assert [json.loads(line) for line in on_disk.splitlines()] == sim.request_log()
    for text in (memory, on_disk):
        for secret in tokens + ["sim-secret", "preset-secret-token", sim.license_key]:
            assert secret not in text
        assert "***" in text
    api.close()


def test_the_token_is_masked_by_key_even_when_unknown(api):
    api.post("/o/api/v3.7/devices", {}, token="d0d0d0d0-1111-2222-3333-444455556666")
    entry = api.sim.request_log()[-1]
    assert entry["query"] == {"access_token": "***"}
    assert entry["status"] == 401


def test_control_endpoints_are_not_logged_and_serve_the_log(api):
    api.sim.clear_log()
    api.devices({})
    requests.post(api.sim.url + "/_sim/faults", json={"kind": "status"}, timeout=5)
    requests.delete(api.sim.url + "/_sim/faults", timeout=5)
    log = requests.get(api.sim.url + "/_sim/log", timeout=5).json()
    assert [entry["endpoint"] for entry in log] == ["devices"]
    assert requests.delete(api.sim.url + "/_sim/log", timeout=5).json() == []
    assert not api.sim.request_log()


def test_fault_is_logged(api):
    api.sim.add_fault("status", code=503)
    api.devices({})
    assert api.sim.request_log()[-1]["fault"] == "status"
    assert api.sim.request_log()[-1]["status"] == 503
