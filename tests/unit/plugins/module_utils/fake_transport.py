# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted transport, a fake clock and a harness for testing the client and its session without a network.

Each expected exchange names the method and path, optionally asserts the access token, query, JSON body
or form body, and answers with a status, headers and body, or raises a transport failure, after ``latency``
seconds of the fake clock. An unexpected
call fails the test at once; ``assert_done`` fails it when an expected call never came.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from collections import deque

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.connection import ConnectionConfig
from ansible_collections.opswat.it_access.plugins.module_utils.transport import Response, TransportFailure

API_URL = "https://tenant.example.test"
ACCESS_TOKEN = "at-0123456789abcdef-SECRET"
CLIENT_ID = "client-key-1"
CLIENT_SECRET = "cs-fedcba9876543210-SECRET"
FETCHED_TOKEN = "ft-aaaabbbbccccdddd-SECRET"
LICENSE_KEY = "LK-1111-2222-3333-SECRET"

# The API's paths, restated here rather than imported from the client, so that a wrong path there fails a test.
ACCOUNT = "/o/api/v3.2/account"
TOKEN = "/o/oauth/token"
DEVICES = "/o/api/v3.7/devices"
DETAILS = "/o/api/v3.8/devices/detail"
GROUPS = "/o/api/v3/groups"
ACTION = "/o/api/v3.3/devices/action"
STATUS_CHANGES = "/o/api/v3/devices/status_changed"
REPORTS = "/o/api/v3.1/get_reports"

ANY = object()
NO_TOKEN = object()  # the request must carry no query parameters at all (the token request)

TOKEN_FORM = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"}


def credentials(**overrides):
    """Connection options with client credentials and no access token."""
    values = dict(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    values.update(overrides)
    return values


OMITTED = object()  # expect_token: an answer without expires_in


def expect_token(harness, token=FETCHED_TOKEN, expires_in=43199, **kwargs):
    """Script the token request of the client credentials; ``expires_in=OMITTED`` leaves the lifetime out."""
    body = {"access_token": token, "token_type": "bearer", "scope": "read"}
    if expires_in is not OMITTED:
        body["expires_in"] = expires_in
    harness.expect("POST", TOKEN, token=NO_TOKEN, form=TOKEN_FORM, body=body, **kwargs)


class FakeClock(object):
    """Time that moves only when something sleeps; records every sleep."""

    def __init__(self, start=1700000000.0):
        self.now = float(start)
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        assert seconds >= 0, "negative sleep: %r" % seconds
        self.sleeps.append(seconds)
        self.now += seconds

    @property
    def slept(self):
        return sum(self.sleeps)


class Exchange(object):
    def __init__(self, method, path, token=ANY, query=ANY, json_body=ANY, form=ANY, status=200, body=None,
                 text=None, headers=None, fail=None, latency=0.0, content=None):
        self.method = method
        self.path = path
        self.token = token
        self.query = query
        self.json_body = json_body
        self.form = form
        self.status = status
        self.headers = headers or {}
        if text is None:
            text = "" if body is None else json.dumps(body)
        self.text = text
        self.content = content  # bytes: a binary answer (a ZIP), instead of text
        self.fail = fail
        self.latency = latency

    def describe(self):
        return "%s %s" % (self.method, self.path)


class Call(object):
    """One request the client made, as the transport saw it."""

    def __init__(self, method, url, path, params, json_body, form_body, time):
        self.method = method
        self.url = url
        self.path = path
        self.params = params
        self.json_body = json_body
        self.form_body = form_body
        self.time = time


class FakeTransport(object):
    def __init__(self, api_url=API_URL, clock=None):
        self.api_url = api_url
        self.clock = clock
        self.expected = deque()
        self.calls = []
        self.closed = False

    def expect(self, method, path, **kwargs):
        """Script the next exchange; see ``Exchange``. Returns self, so calls chain."""
        self.expected.append(Exchange(method, path, **kwargs))
        return self

    def request(self, method, url, params=None, json_body=None, form_body=None, sink=None):
        assert url.startswith(self.api_url), "request outside api_url: %s" % url
        path = url[len(self.api_url):]
        self.calls.append(Call(method, url, path, params, json_body, form_body,
                               self.clock() if self.clock else None))
        if not self.expected:
            pytest.fail("unexpected request %s %s (body %r)" % (method, path, json_body))
        exchange = self.expected.popleft()
        if (method, path) != (exchange.method, exchange.path):
            pytest.fail("expected %s, got %s %s (body %r)" % (exchange.describe(), method, path, json_body))
        if exchange.token is NO_TOKEN:
            assert params is None, "%s must carry no query parameters, got %r" % (path, params)
        elif exchange.token is not ANY:
            assert (params or {}).get("access_token") == exchange.token, "token of %s" % exchange.describe()
        if exchange.query is not ANY:
            assert params == exchange.query
        if exchange.json_body is not ANY:
            assert json_body == exchange.json_body, "body of %s" % exchange.describe()
        if exchange.form is not ANY:
            assert form_body == exchange.form, "form of %s" % exchange.describe()
        if exchange.latency:
            self.clock.now += exchange.latency  # the answer takes this long (the fake clock moves on)
        if exchange.fail is not None:
            raise TransportFailure(*exchange.fail) if isinstance(exchange.fail, tuple) else exchange.fail
        response = Response(exchange.status, exchange.headers, exchange.text, content=exchange.content)
        if sink is not None and 200 <= exchange.status < 300 and "json" not in response.header("Content-Type", ""):
            # As the real transport: a file answer goes to the sink, from its start.
            sink.seek(0)
            sink.truncate()
            sink.write(response.content)
            return Response(exchange.status, exchange.headers, content=b"", streamed=len(response.content))
        return response

    def close(self):
        self.closed = True

    def assert_done(self):
        assert not self.expected, "expected requests never sent: %s" % ", ".join(
            exchange.describe() for exchange in self.expected)


def make_config(**overrides):
    # No token cache: each test starts from nothing (test_auth.py tests the cache with its own directory).
    values = dict(api_url=API_URL, access_token=ACCESS_TOKEN, requests_per_minute=60, rate_limit_timeout=300,
                  token_cache=False)
    values.update(overrides)
    # Exact spacing keeps the tests' arithmetic readable; test_pace_margin_* covers the production margin.
    pace_margin = values.pop("pace_margin", 1.0)
    config = ConnectionConfig(**values)
    config.pace_margin = pace_margin
    return config


class Harness(object):
    """A fake clock, a scripted transport and the clients built on them; collects secrets and log lines.

    ``client()`` builds a ``Client`` on them through the one injection point, ``Client(config, transport=...)``.
    """

    def __init__(self):
        self.clock = FakeClock()
        self.transport = FakeTransport(clock=self.clock)
        self.secrets = []
        self.log_lines = []

    def client(self, config=None, **overrides):
        client = Client(config or make_config(**overrides), on_secret=self.secrets.append, log=self.log_lines.append,
                        transport=self.transport, clock=self.clock, sleep=self.clock.sleep)
        client.session.backoff_jitter = lambda: 1.0  # back-off delays become exactly 1, 2, 4...
        return client

    def expect(self, method, path, **kwargs):
        return self.transport.expect(method, path, **kwargs)
