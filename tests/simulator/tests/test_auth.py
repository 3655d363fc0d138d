# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""OAuth token endpoint and the three ways an API call may carry its token."""

import time
import uuid

import requests

from sim_helpers import CLIENT, Api, check


def test_token_by_form_post(api):
    answer = check("token.response.json", api.fetch_token())
    assert answer["token_type"] == "bearer"
    assert answer["expires_in"] == 43199
    assert answer["scope"] == "read"
    uuid.UUID(answer["access_token"])


def test_token_by_get_and_query_string(api):
    params = dict(CLIENT, grant_type="client_credentials")
    check("token.response.json", requests.get(api.sim.url + "/o/oauth/token", params=params, timeout=5))
    check("token.response.json", requests.post(api.sim.url + "/o/oauth/token", params=params, timeout=5))


def test_token_lifetime_is_reported(make_api):
    api = make_api(token_lifetime=120)
    assert api.fetch_token().json()["expires_in"] == 120


def test_bad_client_credentials(api):
    for overrides in ({"client_secret": "wrong"}, {"client_id": "nobody"}, {"client_secret": ""}):
        answer = check("oauth_error.response.json", api.fetch_token(**overrides), 401)
        assert answer == {"error": "invalid_client", "error_description": "Bad client credentials"}


def test_bad_grant_type(api):
    answer = check("oauth_error.response.json", api.fetch_token(grant_type="password"), 400)
    assert answer["error"] == "unsupported_grant_type"
    answer = check("oauth_error.response.json", api.fetch_token(grant_type=""), 400)
    assert answer["error"] == "invalid_request"


def test_token_endpoint_wrong_method(api):
    response = requests.put(api.sim.url + "/o/oauth/token", data=dict(CLIENT, grant_type="client_credentials"), timeout=5)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_token_in_query_header_and_body(api):
    url = api.sim.url + "/o/api/v3.7/devices"
    token = api.token
    check("devices.response.json", requests.post(url, params={"access_token": token}, json={"limit": 1}, timeout=5))
    check("devices.response.json", requests.post(url, headers={"Authorization": "Bearer " + token}, json={"limit": 1}, timeout=5))
    check("devices.response.json", requests.post(url, json={"limit": 1, "access_token": token}, timeout=5))
    check("account.v3.response.json", requests.get(api.sim.url + "/o/api/v3/account", headers={"Authorization": "Bearer " + token},
                                                   timeout=5))


def test_missing_and_unknown_token(api):
    url = api.sim.url + "/o/api/v3.7/devices"
    answer = check("oauth_error.response.json", requests.post(url, json={}, timeout=5), 401)
    assert answer["error"] == "invalid_token"
    bogus = str(uuid.uuid4())
    answer = check("oauth_error.response.json", requests.post(url, params={"access_token": bogus}, json={}, timeout=5), 401)
    assert answer["error"] == "invalid_token"
    response = requests.post(url, headers={"Authorization": "Basic abc"}, json={}, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_expires_after_its_lifetime(make_api):
    api = make_api(token_lifetime=1)
    assert api.devices({"limit": 1}).status_code == 200
    time.sleep(1.05)
    answer = check("oauth_error.response.json", api.devices({"limit": 1}), 401)
    assert answer["error"] == "invalid_token"
    assert "expired" in answer["error_description"]
    api.login()
    assert api.devices({"limit": 1}).status_code == 200


def test_expire_tokens_mid_run(api):
    old = api.token
    assert api.devices({"limit": 1}).status_code == 200
    api.sim.expire_tokens()
    assert api.devices({"limit": 1}).status_code == 401
    assert api.login() != old
    assert api.devices({"limit": 1}).status_code == 200
    assert api.devices({"limit": 1}, version="3.5").status_code == 200


def test_preset_access_token(make_sim):
    sim = make_sim(access_token="preset-token-123")
    api = Api(sim)
    assert api.post("/o/api/v3.7/devices", {}, token="preset-token-123").status_code == 200
    sim.expire_tokens()
    assert api.post("/o/api/v3.7/devices", {}, token="preset-token-123").status_code == 401
    api.close()


def test_wrong_token_in_header_is_not_rescued_by_query(api):
    # Spring reads the header first: a bad header token fails even when the query holds a good one.
    response = api.post("/o/api/v3.7/devices", {}, headers={"Authorization": "Bearer " + str(uuid.uuid4())})
    assert response.status_code == 401
