# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The requests transport against a loopback server: the round trip, how each failure is classified, and the bounds
of every request: in time (``timeout`` from the connection to the last byte) and in memory (a cap on the decoded
answer), with no credential it was not given. The bodies are small and the caps too: what is tested is where the
transport stops, not how much memory it takes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import socket
import time
import traceback
import zlib

import pytest

requests = pytest.importorskip("requests")

# pylint: disable=wrong-import-position
from urllib3 import exceptions as urllib3_exceptions  # noqa: E402

from ansible_collections.opswat.it_access.plugins.module_utils import transport as transport_module  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.errors import TransportError  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.session import USER_AGENT  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.transport import (  # noqa: E402
    DROPPED, INVALID, NOT_SENT, TIMEOUT, TLS, TOO_LARGE, UNREADABLE, RequestsTransport, TransportFailure, classify,
    proxy_for)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (  # noqa: E402
    ACCOUNT, FakeClock, make_config)

TOKEN = "real-transport-token-SECRET"
SLOW_SECONDS = 1.5
# The trickle: TRICKLE_BYTES bytes, one every TRICKLE_GAP seconds, each gap well inside the per-read timeout and
# the whole well past TRICKLE_TIMEOUT. Without a bound on the whole answer the request would succeed.
TRICKLE_GAP = 0.2
TRICKLE_BYTES = 12
TRICKLE_TIMEOUT = 1.0
SMALL_CAP = 64 * 1024


@pytest.fixture(autouse=True)
def no_proxy_or_netrc_from_the_environment(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "NETRC"):
        monkeypatch.delenv(name, raising=False)


# ---------------------------------------------------------------------- the server's behaviours


def drop(handler):
    handler.close_connection = True  # no answer at all: the client sees the connection closed


def slow(handler):
    time.sleep(SLOW_SECONDS)
    echo_path(handler)


def partial(handler):
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000")
    handler.end_headers()
    handler.wfile.write(b'{"cut": ')
    handler.wfile.flush()
    handler.close_connection = True


def redirect(handler):
    handler.answer(302, b"", headers=[("Location", "https://elsewhere.example.test/x?access_token=%s" % TOKEN)])


def echo_path(handler):
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


def send_with(url, timeout=5.0, **options):
    """POST {} to ``url`` with a transport built with ``options``."""
    transport = RequestsTransport(verify=True, timeout=timeout, **options)
    try:
        return transport.request("POST", url, params={"access_token": TOKEN}, json_body={})
    finally:
        transport.close()


def failure_with(url, timeout=5.0, **options):
    with pytest.raises(TransportFailure) as caught:
        send_with(url, timeout=timeout, **options)
    assert TOKEN not in str(caught.value)
    return caught.value


def client_for(server, **overrides):
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN, **overrides), clock=clock, sleep=clock.sleep)
    return client


# ---------------------------------------------------------------------- the round trip and its failures


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
    server.behaviours["/moved"] = redirect
    response = send(server.url + "/moved", json_body={})
    assert response.status == 302
    assert server.hits == {"/moved": 1}


def test_refused_connection_was_not_sent(closed_port):
    failure = failure_of("http://127.0.0.1:%d/ok" % closed_port)
    assert failure.kind == NOT_SENT and not failure.sent
    assert "refused" in failure.reason.lower()


def test_timeout(server):
    server.behaviours["/slow"] = slow
    failure = failure_of(server.url + "/slow", timeout=0.3)
    assert failure.kind == TIMEOUT and failure.sent


def test_connection_dropped_before_the_answer(server):
    server.behaviours["/drop"] = drop
    failure = failure_of(server.url + "/drop")
    assert failure.kind == DROPPED and failure.sent
    assert server.hits["/drop"] == 1  # urllib3 did not quietly send it again


def test_connection_dropped_in_the_middle_of_the_answer(server):
    server.behaviours["/partial"] = partial
    assert failure_of(server.url + "/partial").kind == DROPPED


def test_tls_failure(server):
    failure = failure_of(server.url.replace("http://", "https://") + "/ok")
    assert failure.kind == TLS


def test_client_never_retries_an_action_whose_connection_dropped(server):
    server.behaviours["/o/api/v3.3/devices/action"] = drop
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN, timeout=5), clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(TransportError) as caught:
            client.devices.action("delete", ids=["d1"])
    finally:
        client.close()
    error = caught.value
    assert "may have been applied" in str(error)
    assert server.hits["/o/api/v3.3/devices/action"] == 1
    shown = str(error) + repr(error.to_fail_json()) + "".join(
        traceback.format_exception(type(error), error, error.__traceback__))
    assert TOKEN not in shown


def test_client_retries_a_read_whose_connection_dropped(server):
    server.behaviours["/o/api/v3.2/account"] = drop
    clock = FakeClock()
    client = Client(make_config(api_url=server.url, access_token=TOKEN), clock=clock, sleep=clock.sleep)
    try:
        with pytest.raises(TransportError, match="after 3 retries"):
            client.account.get()
    finally:
        client.close()
    assert server.hits["/o/api/v3.2/account"] == 4
    assert client.metrics["requests"] == 4 and client.metrics["retries"] == 3


def test_client_round_trip(server):
    clock = FakeClock()
    with Client(make_config(api_url=server.url, access_token=TOKEN), clock=clock, sleep=clock.sleep) as client:
        echo = client.account.get(score_type="cvss")
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
            client.account.get()
    assert "CA certificates could not be loaded" in str(caught.value)
    assert "ca_path" in str(caught.value)
    assert client.metrics["requests"] == 1


# ---------------------------------------------------------------------- time: connect to last byte


def test_an_answer_trickled_byte_by_byte_fails_as_a_timeout(server):
    server.behaviour = trickle_body
    failure = failure_with(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT)
    assert failure.kind == TIMEOUT and failure.sent
    assert "%g s" % TRICKLE_TIMEOUT in failure.reason


def test_headers_trickled_line_by_line_fail_as_a_timeout(server):
    server.behaviour = trickle_headers
    assert failure_with(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT).kind == TIMEOUT


def test_an_answer_within_the_timeout_is_not_cut(server):
    server.behaviour = echo_path
    response = send_with(server.url + ACCOUNT, timeout=TRICKLE_TIMEOUT)
    assert response.status == 200 and json.loads(response.content) == {"path": ACCOUNT + "?access_token=" + TOKEN}


def test_a_trickled_read_is_retried_and_then_fails_as_a_timeout(server):
    server.behaviour = trickle_body
    client = client_for(server, timeout=TRICKLE_TIMEOUT)
    client.session.max_retries = 1
    try:
        with pytest.raises(TransportError, match="timeout") as caught:
            client.account.get()
    finally:
        client.close()
    assert len(server.requests) == 2 and client.metrics["retries"] == 1
    assert caught.value.details["transport_failure"] == TIMEOUT


def test_a_trickled_write_is_not_retried(server):
    server.behaviour = trickle_body
    client = client_for(server, timeout=TRICKLE_TIMEOUT)
    try:
        with pytest.raises(TransportError, match="may have been applied"):
            client.devices.action("delete", ids=["d1"])
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
    failure = failure_with(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP)
    assert failure.kind == TOO_LARGE and failure.sent
    assert "larger than 65536 bytes decoded" in failure.reason


def test_a_declared_length_past_the_cap_is_refused_unread(server):
    server.behaviour = encoded("identity", b"[" + b"0," * SMALL_CAP + b"0]")
    assert failure_with(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).kind == TOO_LARGE


def test_a_chunked_answer_past_the_cap_fails(server):
    server.behaviour = chunked([b"x" * 40000, b"y" * 40000])
    assert failure_with(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).kind == TOO_LARGE


def test_an_answer_of_exactly_the_cap_is_read(server):
    body = b'"' + b"x" * (SMALL_CAP - 2) + b'"'
    server.behaviour = chunked([body[:30000], body[30000:]])
    assert send_with(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP).content == body


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
    assert json.loads(send_with(server.url + ACCOUNT).content) == {"a": 1}


def test_only_the_encodings_it_decodes_are_asked_for(server):
    send_with(server.url + ACCOUNT)
    assert server.requests[0]["headers"]["Accept-Encoding"] == "gzip, deflate"


def test_an_unknown_encoding_is_unreadable_not_garbage(server):
    server.behaviour = encoded("br", b"\x0b\x02\x80{}\x03")
    assert failure_with(server.url + ACCOUNT).kind == UNREADABLE


def test_a_corrupt_gzip_answer_is_a_dropped_answer(server):
    server.behaviour = encoded("gzip", gzip.compress(b'{"a": 1}')[:12] + b"garbage")
    assert failure_with(server.url + ACCOUNT).kind == DROPPED


def test_an_error_answer_keeps_its_status_and_only_its_first_bytes(server):
    server.behaviour = lambda handler: handler.answer(500, b"e" * (SMALL_CAP * 4))
    response = send_with(server.url + ACCOUNT, max_answer_bytes=SMALL_CAP)
    assert response.status == 500 and 0 < len(response.content) <= 64 * 1024


def test_a_too_large_read_is_not_asked_again_and_a_write_may_have_been_applied(server):
    server.behaviour = gzip_bomb
    client = client_for(server)
    client.session.transport.max_answer_bytes = SMALL_CAP  # pylint: disable=protected-access
    try:
        with pytest.raises(TransportError, match="larger than") as read:
            client.account.get()
        with pytest.raises(TransportError, match="may have been applied"):
            client.devices.action("delete", ids=["d1"])
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
    send_with(server.url + ACCOUNT)
    assert "Authorization" not in server.requests[0]["headers"]


def test_proxy_url_sends_every_request_through_the_proxy(server, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    send_with("http://api.example.test" + ACCOUNT, proxy_url=server.url)
    assert server.requests[0]["path"].startswith("http://api.example.test" + ACCOUNT)


def test_the_environment_proxy_still_applies_and_no_proxy_too(server, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", server.url)
    send_with("http://api.example.test" + ACCOUNT)
    assert server.requests[-1]["path"].startswith("http://api.example.test/")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    send_with(server.url + ACCOUNT)
    assert server.requests[-1]["path"].startswith(ACCOUNT)  # direct: a path, not a full URL


def test_requests_ca_bundle_still_applies(server, tmp_path, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tmp_path / "missing-bundle.pem"))
    failure = failure_with(server.url.replace("http://", "https://") + ACCOUNT)
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


# ---------------------------------------------------------------------- a file answer streamed to a sink


def test_a_file_answer_goes_to_the_sink_from_its_start_and_json_stays_in_memory(server, tmp_path, monkeypatch):
    zipped = b"PK\x03\x04" + b"z" * 100000
    echo_request = server.behaviour
    server.behaviour = lambda handler: handler.answer(200, zipped, headers=[("Content-Type", "application/zip")])
    transport = RequestsTransport(verify=True, timeout=5.0, max_answer_bytes=SMALL_CAP)
    try:
        with open(str(tmp_path / "sink"), "w+b") as sink:
            sink.write(b"left over from an earlier attempt")
            response = transport.request("POST", server.url + ACCOUNT, json_body={}, sink=sink)
            assert response.content == b"" and response.streamed == len(zipped) > SMALL_CAP
            sink.seek(0)
            assert sink.read() == zipped
            server.behaviour = echo_request
            answer = transport.request("POST", server.url + ACCOUNT, json_body={}, sink=sink)
            assert answer.streamed is None and json.loads(answer.content)["path"] == ACCOUNT
            monkeypatch.setattr(transport_module, "FILE_ANSWER_LIMIT_BYTES", SMALL_CAP)
            server.behaviour = lambda handler: handler.answer(200, zipped, headers=[("Content-Type", "application/zip")])
            with pytest.raises(TransportFailure) as caught:
                transport.request("POST", server.url + ACCOUNT, json_body={}, sink=sink)
            assert caught.value.kind == TOO_LARGE
    finally:
        transport.close()
