# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook event source over real sockets on 127.0.0.1 (port 0), its events read from an asyncio queue."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import contextlib
import datetime
import json
import logging
import socket
import ssl
import threading

import pytest

from ansible_collections.opswat.it_access.extensions.eda.plugins.event_source import webhook
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils.webhook_events import webhook_settings
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, DETAILS, Harness)

TOKEN = "webhook-key-9f8e7d-SECRET"
GOOD = [{"device_id": "dev-1", "status": "non_compliant", "timestamp": 1764606600123},
        {"device_id": "dev-2", "status": "compliant", "timestamp": 1764606600456}]


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 60))


@contextlib.asynccontextmanager
async def receiving(client=None, **args):
    """A started ``Receiver`` on a free port and its queue; closed on the way out."""
    values = dict(token=TOKEN, port=0)
    values.update(args)
    queue = asyncio.Queue()
    receiver = webhook.Receiver(queue, webhook_settings(values, environ={}), client=client)
    await receiver.start()
    try:
        yield receiver, queue
    finally:
        await receiver.close()


def request_bytes(body, token=TOKEN, path="/", method="POST", headers=None, length=True):
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1", "Content-Type: application/json"]
    if token is not None:
        lines.append("Authorization: %s" % token)
    if length:
        lines.append("Content-Length: %d" % (len(body) if length is True else length))
    lines.extend(headers or [])
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Answer(object):
    def __init__(self, raw):
        head, _sep, body = raw.partition(b"\r\n\r\n")
        self.head = head.decode()
        self.status = int(self.head.split(" ")[1]) if self.head else None
        self.json = json.loads(body) if body else None


async def exchange(port, data, context=None, eof=False):
    """Send ``data`` on a new connection (then half-close with ``eof``) and read the answer to its end."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context,
                                                   server_hostname="localhost" if context else None)
    try:
        writer.write(data)
        await writer.drain()
        if eof:
            writer.write_eof()
        raw = await reader.read()
    except ConnectionResetError:
        raw = b""  # closed before the request was read: no answer
    writer.close()
    return Answer(raw)


async def post(port, items=None, **kwargs):
    """POST ``items`` (by default ``GOOD``) as a delivery."""
    return await exchange(port, request_bytes(json.dumps(GOOD if items is None else items).encode(), **kwargs))


def drained(queue):
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


# ---------------------------------------------------------------------------------------------- the token


@pytest.mark.parametrize("token", [None, "wrong", "Bearer " + TOKEN, TOKEN + "x", ""])
def test_a_wrong_or_missing_token_is_401_and_no_event(token, caplog):
    async def scenario():
        async with receiving() as (receiver, queue):
            answer = await post(receiver.port, token=token)
            return answer, drained(queue)
    caplog.set_level(logging.DEBUG)
    answer, events = run(scenario())
    assert answer.status == 401
    assert events == []
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("token", [None, "wrong"])
def test_the_body_is_not_read_before_the_token_is_checked(token):
    # The head announces a body that never comes: reading it would end in 408 (the read timeout), not 401.
    async def scenario():
        async with receiving(read_timeout=1) as (receiver, queue):
            head_only = request_bytes(b"", token=token, length=500)
            return await exchange(receiver.port, head_only), drained(queue)
    answer, events = run(scenario())
    assert answer.status == 401
    assert events == []


def test_a_repeated_authorization_header_is_401():
    async def scenario():
        async with receiving() as (receiver, _queue):
            return await post(receiver.port, headers=["Authorization: %s" % TOKEN])
    assert run(scenario()).status == 401


# ---------------------------------------------------------------------------------------------- good deliveries


def test_a_good_delivery_is_200_and_one_event_per_device(caplog):
    async def scenario():
        async with receiving() as (receiver, queue):
            answer = await post(receiver.port)
            return answer, [await queue.get(), await queue.get()], drained(queue)
    caplog.set_level(logging.DEBUG)
    answer, events, rest = run(scenario())
    assert (answer.status, answer.json) == (200, {"accepted": 2})
    assert "Connection: close" in answer.head
    assert events[0] == {"opswat": {
        "event": "device_status_webhook", "device_id": "dev-1", "device_name": None, "status": "non_compliant",
        "previous_status": None, "severity": None, "group_name": None, "observed_at": "2025-12-01T16:30:00.123Z"}}
    assert events[1]["opswat"]["status"] == "compliant"
    assert rest == []
    assert TOKEN not in caplog.text


def test_the_same_delivery_three_times_is_emitted_once():
    async def scenario():
        async with receiving() as (receiver, queue):
            answers = [await post(receiver.port) for _attempt in range(3)]
            first = [await queue.get(), await queue.get()]
            later = await post(receiver.port, [dict(GOOD[0], timestamp=GOOD[0]["timestamp"] + 1)])
            return answers, first, later, [await queue.get()], drained(queue)
    answers, first, later, second, rest = run(scenario())
    assert [answer.status for answer in answers] == [200, 200, 200]
    assert [answer.json["accepted"] for answer in answers] == [2, 0, 0]
    assert [event["opswat"]["device_id"] for event in first] == ["dev-1", "dev-2"]
    assert later.json == {"accepted": 1}
    assert second[0]["opswat"]["observed_at"] == "2025-12-01T16:30:00.124Z"
    assert rest == []


def test_a_chunked_body_is_read():
    async def scenario():
        async with receiving() as (receiver, queue):
            data = json.dumps(GOOD).encode()
            chunked = b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (
                10, data[:10], len(data) - 10, data[10:])
            answer = await exchange(receiver.port, request_bytes(chunked, length=False,
                                                                 headers=["Transfer-Encoding: chunked"]))
            return answer, drained(queue)
    answer, events = run(scenario())
    assert answer.status == 200
    assert len(events) == 2


def test_the_path_can_be_set():
    async def scenario():
        async with receiving(path="/opswat") as (receiver, queue):
            wrong = await post(receiver.port, path="/")
            right = await post(receiver.port, path="/opswat?source=it-access")
            return wrong, right, drained(queue)
    wrong, right, events = run(scenario())
    assert (wrong.status, right.status, len(events)) == (404, 200, 2)


# ---------------------------------------------------------------------------------------------- refused requests


def test_a_body_past_the_cap_is_413_without_reading_it():
    # The head alone says too much: 413 at once (reading the announced body would end in 408).
    async def scenario():
        async with receiving(max_body_bytes=1000, read_timeout=1) as (receiver, queue):
            announced = await exchange(receiver.port, request_bytes(b"", length=10 ** 9))
            return announced, drained(queue)
    answer, events = run(scenario())
    assert (answer.status, events) == (413, [])


def test_a_chunked_body_past_the_cap_is_413():
    async def scenario():
        async with receiving(max_body_bytes=1000) as (receiver, queue):
            chunk = b"[" + b" " * 998
            data = b"%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk, 10, b" " * 10)
            answer = await exchange(receiver.port, request_bytes(data, length=False,
                                                                 headers=["Transfer-Encoding: chunked"]))
            return answer, drained(queue)
    answer, events = run(scenario())
    assert (answer.status, events) == (413, [])


def test_a_content_length_that_lies_short_reads_no_further():
    # Content-Length says 10; the rest of a good body is never read: what was read is not JSON.
    async def scenario():
        async with receiving() as (receiver, queue):
            data = json.dumps(GOOD).encode()
            return await exchange(receiver.port, request_bytes(data, length=10)), drained(queue)
    answer, events = run(scenario())
    assert (answer.status, events) == (400, [])


def test_a_content_length_that_lies_long_ends_in_408():
    async def scenario():
        async with receiving(read_timeout=0.5) as (receiver, queue):
            data = json.dumps(GOOD).encode()
            return await exchange(receiver.port, request_bytes(data, length=len(data) + 5)), drained(queue)
    answer, events = run(scenario())
    assert (answer.status, events) == (408, [])


@pytest.mark.parametrize("raw", [b"not json", b'{"device_id": "dev-1"}', b'[{"device_id": "dev-1"}]'])
def test_a_body_that_is_not_the_documented_json_is_400_and_the_source_keeps_running(raw):
    async def scenario():
        async with receiving() as (receiver, queue):
            bad = await exchange(receiver.port, request_bytes(raw))
            good = await post(receiver.port)
            return bad, good, drained(queue)
    bad, good, events = run(scenario())
    assert bad.status == 400
    assert "error" in bad.json
    assert good.status == 200
    assert len(events) == 2


@pytest.mark.parametrize("kwargs, status", [
    (dict(method="GET"), 405),
    (dict(method="PUT"), 405),
    (dict(length=False), 411),
    (dict(headers=["Transfer-Encoding: gzip"], length=False), 501),
])
def test_methods_and_framing_checked_after_the_token(kwargs, status):
    async def scenario():
        async with receiving() as (receiver, queue):
            answer = await post(receiver.port, **kwargs)
            unauthenticated = await post(receiver.port, token="wrong", **kwargs)
            return answer, unauthenticated, drained(queue)
    answer, unauthenticated, events = run(scenario())
    assert (answer.status, unauthenticated.status, events) == (status, 401, [])
    if status == 405:
        assert "Allow: POST" in answer.head


def test_a_head_past_the_header_bound_is_431():
    async def scenario():
        async with receiving() as (receiver, _queue):
            return await post(receiver.port, headers=["X-Padding: " + "a" * 20000])
    assert run(scenario()).status == 431


def test_a_slow_client_does_not_hold_the_server():
    async def scenario():
        async with receiving(read_timeout=1) as (receiver, queue):
            reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
            writer.write(b"POST / HTTP/1.1\r\nAuthor")  # and nothing more
            await writer.drain()
            good = await post(receiver.port)
            slow = Answer(await reader.read())
            writer.close()
            return good, slow, drained(queue)
    good, slow, events = run(scenario())
    assert good.status == 200
    assert len(events) == 2
    assert slow.status == 408


def test_connections_past_the_bound_are_503():
    async def scenario():
        async with receiving(max_connections=1, read_timeout=2) as (receiver, queue):
            _reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
            await asyncio.sleep(0)  # the server accepts it
            for _attempt in range(100):
                if receiver._connections:  # pylint: disable=protected-access
                    break
                await asyncio.sleep(0.01)
            refused = await post(receiver.port)
            writer.close()
            return refused, drained(queue)
    refused, events = run(scenario())
    # 503, or no answer at all when the request arrives after the server closed the connection.
    assert refused.status in (503, None)
    assert events == []


# ---------------------------------------------------------------------------------------------- TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    certfile, keyfile = folder / "cert.pem", folder / "key.pem"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(certfile), str(keyfile)


def test_tls(certificate):
    certfile, keyfile = certificate
    client_context = ssl.create_default_context(cafile=certfile)

    async def scenario():
        async with receiving(certfile=certfile, keyfile=keyfile) as (receiver, queue):
            answer = await exchange(receiver.port, request_bytes(json.dumps(GOOD).encode()), context=client_context)
            wrong = await exchange(receiver.port, request_bytes(b"[]", token="wrong"), context=client_context)
            events = drained(queue)
            plain = await exchange(receiver.port, request_bytes(json.dumps(GOOD).encode()))
            return answer, wrong, plain, events, drained(queue)
    answer, wrong, plain, events, after_plain = run(scenario())
    assert (answer.status, wrong.status) == (200, 401)
    assert len(events) == 2
    assert plain.status is None  # plain HTTP to the TLS port: no answer, no event
    assert after_plain == []


def test_a_certificate_that_does_not_load_stops_the_source(tmp_path):
    certfile = tmp_path / "cert.pem"
    certfile.write_text("not a certificate")

    async def scenario():
        async with receiving(certfile=str(certfile)):
            pass
    with pytest.raises(InputError, match="^certfile: the certificate and key could not be loaded"):
        run(scenario())


# ---------------------------------------------------------------------------------------------- enrich


def enriching_client():
    harness = Harness()
    return harness, harness.client()


def test_enrich_fills_name_severity_and_group_from_device_details():
    harness, client = enriching_client()
    harness.expect("POST", DETAILS, token=ACCESS_TOKEN, json_body={"ids": ["dev-1", "dev-2"], "opt": 0},
                   body=[dict(device_id="DEV-1", device_name="laptop-7", severity="critical", group_name="Finance",
                              status="non_compliant")])

    async def scenario():
        async with receiving(client=client, enrich=True, access_token=ACCESS_TOKEN) as (receiver, queue):
            answer = await post(receiver.port)
            return answer, [await queue.get(), await queue.get()]
    answer, events = run(scenario())
    harness.transport.assert_done()
    assert answer.status == 200
    first, second = events[0]["opswat"], events[1]["opswat"]
    assert (first["device_name"], first["severity"], first["group_name"]) == ("laptop-7", "critical", "Finance")
    assert (second["device_name"], second["severity"], second["group_name"]) == (None, None, None)
    assert harness.transport.closed  # the client is closed with the source


def test_enrich_answers_at_once_and_reads_in_a_thread():
    # Device Details is held until the test has its 200 answer: the answer does not wait for it, nor does the loop.
    release, reading = threading.Event(), threading.Event()

    class HeldDevices(object):
        def details(self, ids):
            reading.set()
            release.wait(30)
            return [dict(device_id=device_id, device_name="n-" + device_id) for device_id in ids]

    class HeldClient(object):
        devices = HeldDevices()

        def close(self):
            pass

    async def scenario():
        async with receiving(client=HeldClient(), enrich=True, access_token=ACCESS_TOKEN) as (receiver, queue):
            answer = await post(receiver.port)
            second = await post(receiver.port, [dict(GOOD[0], timestamp=1)])
            before = drained(queue)
            release.set()
            return answer, second, before, [await queue.get() for _index in range(3)]
    answer, second, before, events = run(scenario())
    assert (answer.status, second.status, before) == (200, 200, [])
    assert [event["opswat"]["device_name"] for event in events] == ["n-dev-1", "n-dev-2", "n-dev-1"]


def test_a_failed_enrichment_still_emits_the_events(caplog):
    harness, client = enriching_client()
    harness.expect("POST", DETAILS, status=400, body={"error": "bad request"})

    async def scenario():
        async with receiving(client=client, enrich=True, access_token=ACCESS_TOKEN) as (receiver, queue):
            await post(receiver.port)
            return [await queue.get(), await queue.get()]
    events = run(scenario())
    assert [event["opswat"]["device_name"] for event in events] == [None, None]
    assert "Device Details failed" in caplog.text
    assert ACCESS_TOKEN not in caplog.text


def test_an_unexpected_enrichment_failure_still_emits_the_events_and_logs_no_text(caplog):
    class BrokenDevices(object):
        def details(self, ids):
            raise RuntimeError("https://tenant/o/api?access_token=%s" % ACCESS_TOKEN)

    class BrokenClient(object):
        devices = BrokenDevices()

        def close(self):
            pass

    async def scenario():
        async with receiving(client=BrokenClient(), enrich=True, access_token=ACCESS_TOKEN) as (receiver, queue):
            await post(receiver.port)
            first = [await queue.get(), await queue.get()]
            await post(receiver.port, [dict(GOOD[0], timestamp=7)])
            return first + [await queue.get()]
    events = run(scenario())
    assert [event["opswat"]["device_name"] for event in events] == [None, None, None]  # the worker lived on
    assert "enriching failed (RuntimeError)" in caplog.text
    assert ACCESS_TOKEN not in caplog.text


# ---------------------------------------------------------------------------------------------- main and shutdown


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def connectable(port):
    for _attempt in range(500):
        try:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)
            continue
        writer.close()
        return True
    return False


def test_main_serves_until_cancelled_then_closes_the_port_and_its_connections():
    port = free_port()

    async def scenario():
        queue = asyncio.Queue()
        source = asyncio.ensure_future(webhook.main(queue, dict(token=TOKEN, port=port)))
        assert await connectable(port)
        answer = await post(port)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\n")  # a connection still open at shutdown
        await writer.drain()
        source.cancel()
        with pytest.raises(asyncio.CancelledError):
            await source
        left_open = await reader.read()
        writer.close()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", port)
        return answer, left_open, drained(queue)
    answer, left_open, events = run(scenario())
    assert answer.status == 200
    assert left_open == b""  # closed by the shutdown, not answered
    assert len(events) == 2


def test_a_port_in_use_stops_the_source_naming_it():
    async def scenario():
        async with receiving() as (receiver, _queue):
            async with receiving(port=receiver.port):
                pass
    with pytest.raises(InputError, match="^port: 127.0.0.1 port [0-9]+ could not be opened"):
        run(scenario())


def test_main_stops_at_once_on_bad_arguments():
    with pytest.raises(InputError, match="^token: is required"):
        run(webhook.main(asyncio.Queue(), dict(port=free_port())))


def test_a_connection_whose_handler_starts_after_the_close_is_closed_unread():
    # The server may have accepted a connection whose handler runs only after close() cancelled the others.
    class Untouchable(object):
        def __getattr__(self, name):
            raise AssertionError("the request was read: %s" % name)

    class Writer(object):
        closed = False

        def close(self):
            self.closed = True

    async def scenario():
        async with receiving() as (receiver, _queue):
            pass
        writer = Writer()
        await receiver._connection(Untouchable(), writer)  # pylint: disable=protected-access
        return writer.closed
    assert run(scenario()) is True
