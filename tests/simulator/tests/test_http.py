# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP behaviour shared by every endpoint: the documented status codes, aliases, keep-alive and stopping."""

import http.client
import json
import urllib.parse

import pytest
import requests

from sim_helpers import check
from itaccess_sim import Simulator


def test_every_documented_code(make_api):
    api = make_api(rate_limit=12, window=60)
    codes = {
        400: api.devices({"limit": 99}),
        401: api.post("/o/api/v3.7/devices", {}, token="nope"),
        404: api.post("/o/api/v9/devices", {}),
        405: api.get("/o/api/v3/groups"),
        406: api.groups({"limit": 51}),
        413: api.groups({"page": 50}),
        415: api.post("/o/api/v3/groups", data="{}", headers={"Content-Type": "text/plain"}),
    }
    api.sim.add_fault("status", code=500)
    codes[500] = api.groups()
    while True:
        response = api.groups()
        if response.status_code == 429:
            codes[429] = response
            break
    for code, response in codes.items():
        assert check("error.response.json" if code != 401 else "oauth_error.response.json", response, code)


@pytest.mark.parametrize("path", ["/o/api/v3.5/devices", "/o/api/v3.6/devices", "/o/api/v3.7/devices"])
def test_device_list_aliases(api, path):
    check("devices.response.json", api.post(path, {"limit": 1}))


@pytest.mark.parametrize("version", ["3", "3.1", "3.2", "3.3"])
def test_action_aliases(api, version):
    device_id = api.sim.fleet.devices[0]["device_id"]
    schema = "action.v3.response.json" if version == "3" else "action.response.json"
    check(schema, api.action("dhcprenew", ids=[device_id], version=version))


def test_unknown_paths_are_404(api):
    for path in ("/", "/o/api/v3.4/devices", "/o/api/v3.7/devices/", "/o/api/v3.0/account", "/o/api/v3/devices"):
        check("error.response.json", api.post(path, {}), 404)


def test_head_and_other_methods(api):
    response = requests.head(api.sim.url + "/o/api/v3/account", params={"access_token": api.token}, timeout=5)
    assert response.status_code == 405 and response.content == b""
    response = requests.delete(api.sim.url + "/o/api/v3.7/devices", params={"access_token": api.token}, timeout=5)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_chunked_body_is_read(api):
    def chunks():
        yield b'{"limit": '
        yield b'3}'

    response = api.session.post(api.sim.url + "/o/api/v3.7/devices", params={"access_token": api.token}, data=chunks(),
                                headers={"Content-Type": "application/json"}, timeout=5)
    assert len(check("devices.response.json", response)["devices"]) == 3


def test_oversized_body_is_refused(api):
    response = api.post("/o/api/v3.7/devices", data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_keep_alive_and_stop_closes_everything(make_sim):
    sim = make_sim()
    split = urllib.parse.urlsplit(sim.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=5)
    for _attempt in range(3):
        connection.request("GET", "/o/api/v3/account")
        response = connection.getresponse()
        assert response.status == 401
        json.loads(response.read())
    sim.stop()
    # The kept-alive connection is closed and new connections are refused.
    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/o/api/v3/account")
        connection.getresponse()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://{split.hostname}:{split.port}/o/api/v3/account", timeout=5)


def test_context_manager_and_port():
    with Simulator(devices=5, rate_limit=0) as sim:
        assert sim.url == f"http://127.0.0.1:{sim.port}"
        assert requests.get(sim.url + "/o/api/v3/account", timeout=5).status_code == 401
    with pytest.raises(RuntimeError):
        sim.url  # pylint: disable=pointless-statement


@pytest.mark.parametrize("options", [
    {"end_signal": "eof"}, {"detail_shape": "dict"}, {"groups_past_end": "404"}, {"rate_limit_scope": "client"},
    {"reset_time_format": "ms"}, {"detail_issue_keys": "x"}, {"token_lifetime": 0}, {"rate_limit": -1}, {"window": 0},
    {"latency": -1}, {"devices": -1},
])
def test_invalid_options(options):
    with pytest.raises(ValueError):
        Simulator(**options)


def test_latency(make_api):
    api = make_api(latency=0.15)
    response = api.devices({"limit": 1})
    assert response.elapsed.total_seconds() >= 0.15


def test_restart_keeps_url_and_state(make_api):
    api = make_api()
    url = api.sim.url
    device_id = api.sim.fleet.devices[0]["device_id"]
    assert api.action("delete", ids=[device_id]).json()[0]["status"] == 1
    api.sim.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.post(url + "/o/api/v3.7/devices", params={"access_token": api.token}, json={}, timeout=5)
    api.sim.start()
    assert api.sim.url == url
    assert api.devices({"limit": 1}).status_code == 200
    assert api.detail([device_id]).status_code == 404


def test_ipv6_loopback():
    try:
        sim = Simulator(devices=3, host="::1").start()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    try:
        assert sim.url.startswith("http://[::1]:")
        assert requests.get(sim.url + "/o/api/v3/account", timeout=5).status_code == 401
    finally:
        sim.stop()


def test_bad_content_length_is_400(make_sim):
    sim = make_sim()
    split = urllib.parse.urlsplit(sim.url)
    connection = http.client.HTTPConnection(split.hostname, split.port, timeout=5)
    connection.putrequest("POST", "/o/api/v3.7/devices")
    connection.putheader("Content-Length", "abc")
    connection.endheaders()
    response = connection.getresponse()
    assert response.status == 400 and "error" in json.loads(response.read())
    connection.close()
