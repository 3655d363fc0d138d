# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The requests transport against a hostile loopback server: every request is bounded in time (``timeout`` from the
connection to the last byte) and in memory (a cap on the decoded answer), and sends no credential it was not given.

The bodies are small and the caps too: what is tested is where the transport stops, not how much memory it takes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import tempfile
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

requests = pytest.importorskip("requests")

# pylint: disable=wrong-import-position
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.errors import TransportError  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.transport import (  # noqa: E402
    DROPPED, TIMEOUT, TLS, TOO_LARGE, UNREADABLE, RequestsTransport, TransportFailure, proxy_for)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (  # noqa: E402
    ACCOUNT, FakeClock, make_config)

TOKEN = "bounded-transport-token-SECRET"
# The trickle: TRICKLE_BYTES bytes, one every TRICKLE_GAP seconds, each gap well inside the per-read timeout and
# the whole well past TRICKLE_TIMEOUT. Without a bound on the whole answer the request would succeed.
TRICKLE_GAP = 0.2
TRICKLE_BYTES = 12
TRICKLE_TIMEOUT = 1.0
SMALL_CAP = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real service

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_POST(self):  # pylint: disable=invalid-name
        self.server.requests.append(dict(path=self.path, headers=dict(self.headers),
                                         client_port=self.client_address[1]))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.behaviour(self)

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() in ("content-length", "transfer-encoding") for name, _value in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), Handler)
        self.requests = []
        self.behaviour = echo
        self.url = "http://127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # the client hung up on purpose


def echo(handler):
    handler.answer(200, json.dumps(dict(path=handler.path)).encode("utf-8"),
                   headers=[("Content-Type", "application/json")])


def trickle_body(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(TRICKLE_BYTES + 2))
    handler.end_headers()
    try:
        handler.wfile.write(b'"')
        for _byte in range(TRICKLE_BYTES):
            handler.wfile.write(b"x")
            handler.wfile.flush()
            time.sleep(TRICKLE_GAP)
        handler.wfile.write(b'"')
    except OSError:
        pass


def trickle_headers(handler):
    try:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n")
        for _byte in range(TRICKLE_BYTES):
            handler.wfile.write(b"X-Slow: 1\r\n")
            handler.wfile.flush()
            time.sleep(TRICKLE_GAP)
        handler.wfile.write(b"\r\n{}")
    except OSError:
        pass
    handler.close_connection = True


def gzip_bomb(handler):
    # 4 MiB of zeros compress to about 4 KiB: far under the cap on the wire, far over it decoded.
    handler.answer(200, gzip.compress(b"0" * (4 * 1024 * 1024)),
                   headers=[("Content-Type", "application/json"), ("Content-Encoding", "gzip")])


def chunked(parts):
    def behaviour(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for part in parts:
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()
    return behaviour


def encoded(encoding, body):
    def behaviour(handler):
        handler.answer(200, body, headers=[("Content-Type", "application/json"), ("Content-Encoding", encoding)])
    return behaviour


@pytest.fixture(autouse=True)
def private_tempdir(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def server():
    httpd = Server()
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.05))
    thread.daemon = True
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def send(url, timeout=5.0, **options):
    transport = RequestsTransport(verify=True, timeout=timeout, **options)
    try:
        return transport.request("POST", url, params={"access_token": TOKEN}, json_body={})
    finally:
        transport.close()


def failure_of(url, timeout=5.0, **options):
    with pytest.raises(TransportFailure) as caught:
        send(url, timeout=timeout, **options)
    assert TOKEN not in str(caught.value)
    return caught.value


def client_for(server, **overrides):
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN, **overrides), clock=clock, sleep=clock.sleep)
    return client


# ---------------------------------------------------------------------- time: connect to last byte


def test_an_answer_trickled_byte_by_byte_fails_as_a_timeout(server):
    server.behaviour = trickle_body
    failure = failure_of(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT)
    assert failure.kind == TIMEOUT and failure.sent
    assert "%g s" % TRICKLE_TIMEOUT in failure.reason


def test_headers_trickled_line_by_line_fail_as_a_timeout(server):
    server.behaviour = trickle_headers
    assert failure_of(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT).kind == TIMEOUT


def test_an_answer_within_the_timeout_is_not_cut(server):
    response = send(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT)
    assert response.status == 200 and json.loads(response.content) == {"path": ACCOUNT + "?access_token=" + TOKEN}


def test_a_trickled_read_is_retried_and_then_fails_as_a_timeout(server):
    server.behaviour = trickle_body
    client = client_for(server, timeout=TRICKLE_TIMEOUT)
    client.max_retries = 1
    try:
        with pytest.raises(TransportError, match="timeout") as caught:
            client.get_account()
    finally:
        client.close()
    assert len(server.requests) == 2 and client.metrics["retries"] == 1
    assert caught.value.details["transport_failure"] == TIMEOUT


def test_a_trickled_write_is_not_retried(server):
    server.behaviour = trickle_body
    client = client_for(server, timeout=TRICKLE_TIMEOUT)
    try:
        with pytest.raises(TransportError, match="may have been applied"):
            client.device_action("delete", ids=["d1"])
    finally:
        client.close()
    assert len(server.requests) == 1


def test_connections_are_still_reused(server):
    transport = RequestsTransport(timeout=5.0)
    try:
        for _attempt in range(3):
            assert transport.request("POST", server.url + ACCOUNT, json_body={}).status == 200
    finally:
        transport.close()
    assert len(set(request["client_port"] for request in server.requests)) == 1


# ---------------------------------------------------------------------- memory: a cap on the decoded answer


def test_a_gzip_bomb_stops_at_the_cap(server):
    server.behaviour = gzip_bomb
    failure = failure_of(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP)
    assert failure.kind == TOO_LARGE and failure.sent
    assert "larger than 65536 bytes decoded" in failure.reason


def test_a_declared_length_past_the_cap_is_refused_unread(server):
    server.behaviour = encoded("identity", b"[" + b"0," * SMALL_CAP + b"0]")
    assert failure_of(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).kind == TOO_LARGE


def test_a_chunked_answer_past_the_cap_fails(server):
    server.behaviour = chunked([b"x" * 40000, b"y" * 40000])
    assert failure_of(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).kind == TOO_LARGE


def test_an_answer_of_exactly_the_cap_is_read(server):
    body = b'"' + b"x" * (SMALL_CAP - 2) + b'"'
    server.behaviour = chunked([body[:30000], body[30000:]])
    assert send(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).content == body


# mtime=0: the bodies (and so the test ids) are the same in every pytest-xdist worker, which must collect alike.
@pytest.mark.parametrize("encoding, body", [
    ("gzip", gzip.compress(b'{"a": 1}', mtime=0)),
    ("x-gzip", gzip.compress(b'{"a": 1}', mtime=0)),
    ("gzip", gzip.compress(b'{"a"', mtime=0) + gzip.compress(b': 1}', mtime=0)),  # two members
    ("deflate", zlib.compress(b'{"a": 1}')),  # with the zlib header
    ("deflate", zlib.compress(b'{"a": 1}')[2:-4]),  # raw deflate
    ("identity", b'{"a": 1}'),
], ids=["gzip", "x-gzip", "gzip-two-members", "deflate-zlib", "deflate-raw", "identity"])
def test_compressed_answers_are_decoded(server, encoding, body):
    server.behaviour = encoded(encoding, body)
    assert json.loads(send(server.url + ACCOUNT).content) == {"a": 1}


def test_only_the_encodings_it_decodes_are_asked_for(server):
    send(server.url + ACCOUNT)
    assert server.requests[0]["headers"]["Accept-Encoding"] == "gzip, deflate"


def test_an_unknown_encoding_is_unreadable_not_garbage(server):
    server.behaviour = encoded("br", b"\x0b\x02\x80{}\x03")
    assert failure_of(server.url + ACCOUNT).kind == UNREADABLE


def test_a_corrupt_gzip_answer_is_a_dropped_answer(server):
    server.behaviour = encoded("gzip", gzip.compress(b'{"a": 1}')[:12] + b"garbage")
    assert failure_of(server.url + ACCOUNT).kind == DROPPED


def test_an_error_answer_keeps_its_status_and_only_its_first_bytes(server):
    server.behaviour = lambda handler: handler.answer(500, b"e" * (SMALL_CAP * 4))
    response = send(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP)
    assert response.status == 500 and 0 < len(response.content) <= 64 * 1024


def test_a_too_large_read_is_not_asked_again_and_a_write_may_have_been_applied(server):
    server.behaviour = gzip_bomb
    client = client_for(server)
    client._transport.max_answer_bytes = SMALL_CAP  # pylint: disable=protected-access
    try:
        with pytest.raises(TransportError, match="larger than") as read:
            client.get_account()
        with pytest.raises(TransportError, match="may have been applied"):
            client.device_action("delete", ids=["d1"])
    finally:
        client.close()
    assert read.value.details["transport_failure"] == TOO_LARGE
    assert len(server.requests) == 2  # one each: nothing asked again


# ---------------------------------------------------------------------- credentials and the environment


def test_a_netrc_default_entry_is_never_sent(server, tmp_path, monkeypatch):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login someone password netrc-PASSWORD\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    send(server.url + ACCOUNT)
    assert "Authorization" not in server.requests[0]["headers"]


def test_proxy_url_sends_every_request_through_the_proxy(server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    send("http://api.example.test" + ACCOUNT, proxy_url=server.url)
    assert server.requests[0]["path"].startswith("http://api.example.test" + ACCOUNT)


def test_the_environment_proxy_still_applies_and_no_proxy_too(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    send("http://api.example.test" + ACCOUNT)
    assert server.requests[-1]["path"].startswith("http://api.example.test/")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    send(server.url + ACCOUNT)
    assert server.requests[-1]["path"].startswith(ACCOUNT)  # direct: a path, not a full URL


def test_requests_ca_bundle_still_applies(server, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing-bundle.pem"))
    failure = failure_of(server.url.replace("http://", "https://") + ACCOUNT)
    assert failure.kind == TLS and "could not be loaded" in failure.reason


@pytest.mark.parametrize("environment, url, proxy_url, expected", [
    ({}, "http://127.0.0.1:8080", None, None),
    ({"HTTP_PROXY": "http://user:pw@proxy.test:3128"}, "http://127.0.0.1:8080", None, "http://proxy.test:3128"),
    ({"HTTP_PROXY": "http://proxy.test:3128", "NO_PROXY": "127.0.0.1"}, "http://127.0.0.1:8080", None, None),
    ({"HTTPS_PROXY": "http://proxy.test:3128"}, "http://127.0.0.1:8080", None, None),
    ({}, "http://127.0.0.1:8080", "http://given.test:8000", "http://given.test:8000"),
])
def test_proxy_for_says_which_proxy_a_request_would_use(monkeypatch, environment, url, proxy_url, expected):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert proxy_for(url, proxy_url) == expected


# ---------------------------------------------------------------------- the client reads each body once


class OneAnswer(object):
    """A transport that gives one prepared ``Response`` (bytes, as the requests transport builds it)."""

    def __init__(self, response):
        self.response = response
        self.sent = 0

    def request(self, method, url, params=None, json_body=None, form_body=None):
        self.sent += 1
        return self.response

    def close(self):
        pass


def test_an_invalid_json_answer_is_parsed_once_and_only_its_start_is_redacted_and_shown():
    from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
    from ansible_collections.opswat.it_access.plugins.module_utils.transport import Response

    body = ("<html>%s " % TOKEN).encode("ascii") + b"z" * (2 * 1024 * 1024)
    response = Response(200, {}, content=body)
    transport = OneAnswer(response)
    clock = FakeClock()
    client = Client(make_config(access_token=TOKEN), transport=transport, clock=clock, sleep=clock.sleep)
    with pytest.raises(UnexpectedResponseError, match="not valid JSON") as caught:
        client.device_action("delete", ids=["d1"])  # a write: not asked again
    assert transport.sent == 1
    excerpt = caught.value.details["body"]
    assert TOKEN not in excerpt and excerpt.startswith("<html>") and len(excerpt) <= 503
    assert response._text is None  # pylint: disable=protected-access  # the 2 MB were never decoded to text
