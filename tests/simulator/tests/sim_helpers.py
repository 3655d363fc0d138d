# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the simulator's tests: a thin HTTP client and a schema check of answers.

Kept out of conftest.py so that test modules import them under a name no other test suite uses.
"""

import requests

from itaccess_sim import schemas

CLIENT = {"client_id": "sim-client", "client_secret": "sim-secret"}


class Api:
    """A deliberately thin client: tests must see the raw answers, so it never retries nor interprets."""

    def __init__(self, sim):
        self.sim = sim
        self.session = requests.Session()
        self.token = None

    def fetch_token(self, **overrides):
        """POST the client credentials as a form; return the response."""
        data = dict(CLIENT, grant_type="client_credentials")
        data.update(overrides)
        return self.session.post(self.sim.url + "/o/oauth/token", data=data, timeout=10)

    def login(self):
        """Fetch a token and keep it for the following calls."""
        response = self.fetch_token()
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        return self.token

    def post(self, path, body=None, token=None, **kwargs):
        """POST JSON to ``path`` with the token in the query string (the documented way)."""
        params = kwargs.pop("params", {})
        if token is not False:
            params.setdefault("access_token", token or self.token)
        if body is not None:
            kwargs["json"] = body
        return self.session.post(self.sim.url + path, params=params, timeout=kwargs.pop("timeout", 10), **kwargs)

    def get(self, path, token=None, **kwargs):
        """GET ``path`` with the token in the query string."""
        params = kwargs.pop("params", {})
        if token is not False:
            params.setdefault("access_token", token or self.token)
        return self.session.get(self.sim.url + path, params=params, timeout=kwargs.pop("timeout", 10), **kwargs)

    def devices(self, body=None, version="3.7"):
        """Get Devices."""
        return self.post(f"/o/api/v{version}/devices", body if body is not None else {})

    def detail(self, ids, version="3.8", **extra):
        """Device Details."""
        return self.post(f"/o/api/v{version}/devices/detail", dict(extra, ids=ids))

    def action(self, types, ids=None, macs=None, params=None, version="3.3"):
        """Device Action."""
        body = {"types": types}
        if ids is not None:
            body["ids"] = ids
        if macs is not None:
            body["macs"] = macs
        if params is not None:
            body["params"] = params
        return self.post(f"/o/api/v{version}/devices/action", body)

    def groups(self, body=None):
        """Get Groups."""
        return self.post("/o/api/v3/groups", body if body is not None else {})

    def status_changed(self, body=None):
        """Status Change v3."""
        return self.post("/o/api/v3/devices/status_changed", body if body is not None else {})

    def all_devices(self, limit=50, version="3.7"):
        """Follow the cursor to the end (the default end signal: next_token missing)."""
        devices, token = [], None
        while True:
            body = {"limit": limit}
            if token:
                body["token"] = token
            response = self.devices(body, version)
            assert response.status_code == 200, response.text
            page = response.json()
            devices.extend(page["devices"])
            token = page.get("next_token")
            if not token:
                return devices

    def close(self):
        """Close the session's connections."""
        self.session.close()


def check(schema_name, response, status=200):
    """Assert the status and that the JSON answer matches the named response schema; return the JSON."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    payload = response.json()
    schemas.validate(schema_name, payload)
    return payload
