# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The requests transport against a tiny local HTTP server: what each kind of failure is classified as."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import socket
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

requests = pytest.importorskip("requests")

# pylint: disable=wrong-import-position
from urllib3 import exceptions as urllib3_exceptions  # noqa: E402

from ansible_collections.opswat.it_access.plugins.module_utils.client import USER_AGENT, Client  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.errors import TransportError  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.transport import (  # noqa: E402
    DROPPED, INVALID, NOT_SENT, TIMEOUT, TLS, RequestsTransport, TransportFailure, classify)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (  # noqa: E402
    FakeClock, make_config)

TOKEN = "real-transport-token-SECRET"
SLOW_SECONDS = 1.5


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass  # keep the test output clean

    def do_POST(self):  # pylint: disable=invalid-name
        path = self.path.split("?", 1)[0]
        self.server.hits[path] = self.server.hits.get(path, 0) + 1
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        behaviour = self.server.behaviours.get(path, "echo")
        if behaviour == "drop":
            self.close_connection = True  # no answer at all: the client sees the connection closed
            return
        if behaviour == "slow":
            time.sleep(SLOW_SECONDS)
        if behaviour == "partial":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b'{"cut": ')
            self.wfile.flush()
            self.close_connection = True
            return
        if behaviour == "redirect":
            self.send_response(302)
            self.send_header("Location", "https://elsewhere.example.test/x?access_token=%s" % TOKEN)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        answer = json.dumps(dict(path=path, query=self.path.partition("?")[2], body=body,
                                 user_agent=self.headers.get("User-Agent"), accept=self.headers.get("Accept"),
                                 content_type=self.headers.get("Content-Type"))).encode("utf-8")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-RateLimit-Remaining", "9")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler still sleeping must not hold the test up

    def __init__(self):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), Handler)
        self.hits = {}
        self.behaviours = {}
        self.url = "http://127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # the client hung up on purpose (timeout tests): nothing to report


@pytest.fixture
def server():
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.05))
    thread.daemon = True
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def send(url, timeout=5.0, **kwargs):
    transport = RequestsTransport(verify=True, timeout=timeout, user_agent=USER_AGENT)
    try:
        return transport.request("POST", url, params={"access_token": TOKEN}, **kwargs)
    finally:
        transport.close()


def failure_of(url, timeout=5.0):
    with pytest.raises(TransportFailure) as caught:
        send(url, timeout=timeout, json_body={})
    failure = caught.value
    shown = str(failure) + "".join(traceback.format_exception(type(failure), failure, failure.__traceback__))
    assert TOKEN not in shown
    assert failure.__context__ is None and failure.__cause__ is None
    return failure


def test_round_trip_sends_token_json_and_user_agent(server):
    response = send(server.url + "/ok", json_body={"a": 1})
    assert response.status == 200
    assert response.header("x-ratelimit-remaining") == "9"
    echo = json.loads(response.text)
    assert echo["query"] == "access_token=%s" % TOKEN
    assert json.loads(echo["body"]) == {"a": 1}
    assert echo["content_type"] == "application/json"
    assert echo["user_agent"] == USER_AGENT
    assert echo["accept"] == "application/json"


def test_form_body(server):
    echo = json.loads(send(server.url + "/ok", form_body={"grant_type": "client_credentials"}).text)
    assert echo["body"] == "grant_type=client_credentials"
    assert echo["content_type"] == "application/x-www-form-urlencoded"


def test_redirect_is_returned_not_followed(server):
    server.behaviours["/moved"] = "redirect"
    response = send(server.url + "/moved", json_body={})
    assert response.status == 302
    assert server.hits == {"/moved": 1}


def test_refused_connection_was_not_sent(closed_port):
    failure = failure_of("http://127.0.0.1:%d/ok" % closed_port)
    assert failure.kind == NOT_SENT and not failure.sent
    assert "refused" in failure.reason.lower()


def test_timeout(server):
    server.behaviours["/slow"] = "slow"
    failure = failure_of(server.url + "/slow", timeout=0.3)
    assert failure.kind == TIMEOUT and failure.sent


def test_connection_dropped_before_the_answer(server):
    server.behaviours["/drop"] = "drop"
    failure = failure_of(server.url + "/drop")
    assert failure.kind == DROPPED and failure.sent
    assert server.hits["/drop"] == 1  # urllib3 did not quietly send it again


def test_connection_dropped_in_the_middle_of_the_answer(server):
    server.behaviours["/partial"] = "partial"
    assert failure_of(server.url + "/partial").kind == DROPPED


def test_tls_failure(server):
    failure = failure_of(server.url.replace("http://", "https://") + "/ok")
    assert failure.kind == TLS


def test_client_never_retries_an_action_whose_connection_dropped(server):
    server.behaviours["/o/api/v3.3/devices/action"] = "drop"
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN, timeout=5), clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(TransportError) as caught:
            client.device_action("delete", ids=["d1"])
    finally:
        client.close()
    error = caught.value
    assert "may have been applied" in str(error)
    assert server.hits["/o/api/v3.3/devices/action"] == 1
    shown = str(error) + repr(error.to_fail_json()) + "".join(
        traceback.format_exception(type(error), error, error.__traceback__))
    assert TOKEN not in shown


def test_client_retries_a_read_whose_connection_dropped(server):
    server.behaviours["/o/api/v3.2/account"] = "drop"
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN), clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(TransportError, match="after 3 retries"):
            client.get_account()
    finally:
        client.close()
    assert server.hits["/o/api/v3.2/account"] == 4
    assert client.metrics["requests"] == 4 and client.metrics["retries"] == 3


def test_client_round_trip(server):
    clock = FakeClock()
    with Client(make_config(api_url=server.url, access_token=TOKEN), clock=clock, sleep=clock.sleep) as client:
        echo = client.get_account(score_type="cvss")
    assert echo["path"] == "/o/api/v3.2/account"
    assert json.loads(echo["body"]) == {"score_type": "cvss"}


# ---------------------------------------------------------------------- classification of built exceptions

URL = "/o/api/v3.2/account?access_token=%s" % TOKEN


def wrapped(reason):
    return requests.exceptions.ConnectionError(urllib3_exceptions.MaxRetryError(None, URL, reason=reason))


@pytest.mark.parametrize("error, kind", [
    (wrapped(socket.gaierror(-2, "Name or service not known")), NOT_SENT),
    (wrapped(urllib3_exceptions.NewConnectionError(None, "Failed to establish a new connection")), NOT_SENT),
    (wrapped(urllib3_exceptions.ConnectTimeoutError(None, "timed out")), NOT_SENT),
    (requests.exceptions.ConnectTimeout(URL), NOT_SENT),
    (requests.exceptions.ReadTimeout(URL), TIMEOUT),
    (requests.exceptions.ChunkedEncodingError(URL), DROPPED),
    (requests.exceptions.ConnectionError(urllib3_exceptions.ProtocolError("Connection aborted.",
                                                                          ConnectionResetError(104, "reset"))),
     DROPPED),
    (requests.exceptions.SSLError(URL), TLS),
    (requests.exceptions.InvalidURL(URL), INVALID),
    (requests.exceptions.TooManyRedirects(URL), INVALID),
])
def test_classification(error, kind):
    failure = classify(error)
    assert failure.kind == kind
    assert TOKEN not in str(failure)


def test_name_resolution_reason_comes_from_the_os_error():
    failure = classify(wrapped(socket.gaierror(-2, "Name or service not known")))
    assert failure.reason == "Name or service not known (gaierror)"


def test_unreadable_ca_path_is_a_tls_failure(server, tmp_path):
    clock = FakeClock()
    missing = str(tmp_path / "missing-ca.pem")
    config = make_config(api_url=server.url.replace("http://", "https://"), access_token=TOKEN, ca_path=missing)
    with Client(config, clock=clock, sleep=clock.sleep) as client:
        with pytest.raises(TransportError) as caught:
            client.get_account()
    assert "CA certificates could not be loaded" in str(caught.value)
    assert "ca_path" in str(caught.value)
    assert client.metrics["requests"] == 1
