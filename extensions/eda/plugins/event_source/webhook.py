# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``opswat.it_access.webhook`` event source: receives IT Access's device webhook and emits one event per
device status, in the shape of the ``device_status`` poller's events. Arguments and guarantees: docs/event-driven.md.

The HTTP exchange lives here; what is decided without a socket (arguments, the request head, the JSON, the
de-duplication, the events) is in plugins/plugin_utils/webhook_events.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

DOCUMENTATION = r"""
---
module: webhook
short_description: Events of IT Access device status changes, received from the IT Access device webhook
version_added: 0.1.0
description:
  - >-
    An event source of ansible-rulebook and the EDA controller. It serves the device webhook of IT Access
    (enterprise accounts): the service POSTs a JSON array of C({device_id, status, timestamp}) with the configured
    key in the C(Authorization) header, and the source emits one event per device status, in the shape of the
    C(opswat.it_access.device_status) poller's events with C(event) C(device_status_webhook).
  - >-
    A request whose C(Authorization) header is not O(token) gets 401 before its body is read, and emits nothing; a
    body past O(max_body_bytes) gets 413; a body that is not the documented JSON gets 400 and the source keeps
    running; a good one gets 200 at once. The service's retries of one delivery are emitted once
    (de-duplicated by device, status and timestamp, in memory).
  - The webhook carries no name, severity or group; with O(enrich=true) they are read from Device Details (paced,
    50 a request, through the modules' connection options and environment variables), else they are null.
author:
  - opswat.it_access maintainers (@opswat-it-access)
requirements:
  - ansible-rulebook
  - requests (with O(enrich=true))
extends_documentation_fragment:
  - opswat.it_access.connection
options:
  port:
    description: TCP port to listen on, 0 to 65535 (V(0) lets the system pick one, for tests).
    type: int
    required: true
  token:
    description: The key configured in the IT Access console, compared in constant time with the bare
      C(Authorization) header.
    type: str
    required: true
  host:
    description: Address to listen on; the default accepts only this machine.
    type: str
    default: 127.0.0.1
  path:
    description: The only path accepted; any other gets 404.
    type: str
    default: /
  certfile:
    description: Serve HTTPS with this PEM certificate chain (and its key, unless O(keyfile) is given).
    type: path
  keyfile:
    description: The PEM key of O(certfile).
    type: path
  max_body_bytes:
    description: The largest body accepted, 2 to 33554432; a larger one gets 413.
    type: int
    default: 1048576
  read_timeout:
    description: Seconds one request may take to arrive, head and body together; a slower client gets 408.
    type: float
    default: 10
  max_connections:
    description: Connections served at once; past it a new one gets 503.
    type: int
    default: 64
  dedup_size:
    description: How many deliveries are remembered to recognise the service's retries.
    type: int
    default: 10000
  enrich:
    description: Read each device's name, severity and group from Device Details.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Quarantine devices the webhook reports non-compliant
  hosts: localhost
  sources:
    - opswat.it_access.webhook:
        host: 0.0.0.0
        port: 5443
        token: "{{ webhook_key }}"
        certfile: /etc/eda/webhook.pem
        enrich: true
  rules:
    - name: Quarantine the critical ones
      condition: event.opswat.status == "non_compliant" and event.opswat.severity == "critical"
      action:
        run_playbook:
          name: opswat.it_access.quarantine_from_events
"""


def _use_installed_collection():
    """Make ``ansible_collections.opswat.it_access`` importable from the collection this file is part of.

    ansible-rulebook loads a source with runpy, outside Ansible's collection loader: the directory that holds
    this file's ``ansible_collections/`` goes first on ``sys.path``. Every source of the collection starts with
    this same function (a unit test keeps them equal).
    """
    collections = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), *[os.pardir] * 6))
    root = os.path.dirname(collections)
    if os.path.basename(collections) == "ansible_collections" and root not in sys.path:
        sys.path.insert(0, root)


_use_installed_collection()

# pylint: disable=wrong-import-position
import asyncio  # noqa: E402
import http  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import ssl  # noqa: E402

from ansible_collections.opswat.it_access.plugins.module_utils.client import Client  # noqa: E402
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, OpswatError  # noqa: E402
from ansible_collections.opswat.it_access.plugins.plugin_utils.webhook_events import (  # noqa: E402
    MAX_HEADER_BYTES, Deduplicator, RequestRefused, authorized, body_length, details_by_id, events_of, parse_delivery,
    parse_head, webhook_settings)
# pylint: enable=wrong-import-position

LOG = logging.getLogger("opswat.it_access.webhook")
# Deliveries received and not yet enriched; past it the service is told to retry later (503).
MAX_PENDING_DELIVERIES = 100
MAX_TRAILER_LINES = 100


class ConnectionGone(Exception):
    """The client closed the connection before its request was complete: nothing to answer."""


async def main(queue, args):
    """Serve until cancelled. Bad arguments raise ``InputError`` at once, before the port is opened."""
    receiver = Receiver(queue, webhook_settings(args))
    await receiver.run()


class Receiver(object):
    """The HTTP server of one source: one connection per request (``Connection: close``), each bounded in size and
    in time; the events of new deliveries go to ``queue`` after the 200 is sent."""

    def __init__(self, queue, settings, client=None):
        self.queue = queue
        self.settings = settings
        self.port = None
        self._client = client
        self._dedup = Deduplicator(settings.dedup_size)
        self._pending = asyncio.Queue(MAX_PENDING_DELIVERIES) if settings.enrich else None
        self._server = None
        self._tasks = set()  # the connections being served, and the enriching worker
        self._connections = 0
        self._closing = False

    async def start(self):
        """Open the port (``port`` is then the one bound); the enriching worker starts with ``enrich``."""
        settings = self.settings
        context = _tls_context(settings)
        try:
            self._server = await asyncio.start_server(
                self._connection, settings.host, settings.port, limit=MAX_HEADER_BYTES, ssl=context,
                ssl_handshake_timeout=settings.read_timeout if context else None)
        except OSError as error:
            raise InputError("port", "%s port %d could not be opened: %s" % (
                settings.host, settings.port, error.strerror or type(error).__name__)) from None
        self.port = self._server.sockets[0].getsockname()[1]
        if settings.enrich:
            if self._client is None:
                self._client = Client(settings.config, log=LOG.debug, warn=LOG.warning)
                for warning in settings.config.warnings:
                    LOG.warning("webhook: %s", warning)
            self._track(asyncio.ensure_future(self._enrich_forever()))
        LOG.info("webhook: listening on %s://%s:%d%s (enrich: %s)", "https" if context else "http", settings.host,
                 self.port, settings.path, "on" if settings.enrich else "off")

    async def run(self):
        """Serve until cancelled, then close everything (the port, the connections, the API client)."""
        await self.start()
        try:
            # Not serve_forever(): cancelled, it waits for every connection to end before returning (3.12).
            await asyncio.get_running_loop().create_future()
        finally:
            await self.close()

    async def close(self):
        self._closing = True
        if self._server is not None:
            self._server.close()
        await asyncio.sleep(0)  # a connection accepted just now gets its handler, which sees the closing
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            try:
                await asyncio.wait_for(self._server.wait_closed(), self.settings.read_timeout)
            except asyncio.TimeoutError:
                LOG.warning("webhook: a connection was still open at shutdown")
        if self._client is not None:
            self._client.close()
        LOG.info("webhook: stopped")

    def _track(self, task):
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, reader, writer):
        if self._closing:
            writer.close()
            return
        if self._connections >= self.settings.max_connections:
            LOG.warning("webhook: 503: more than %d connections at once", self.settings.max_connections)
            await _respond(writer, 503, "too many connections at once", self.settings.read_timeout)
            writer.close()
            return
        self._connections += 1
        self._track(asyncio.current_task())
        try:
            await self._exchange(reader, writer)
        except ConnectionGone:
            pass
        except (ConnectionError, ssl.SSLError) as error:
            LOG.debug("webhook: connection lost (%s)", type(error).__name__)
        finally:
            self._connections -= 1
            writer.close()

    async def _exchange(self, reader, writer):
        peer = (writer.get_extra_info("peername") or ("?",))[0]
        try:
            fresh = await self._receive(reader)
        except RequestRefused as refused:
            LOG.warning("webhook: %d to %s: %s", refused.status, peer, refused.reason)
            await _respond(writer, refused.status, refused.reason, self.settings.read_timeout)
            return
        await _respond(writer, 200, None, self.settings.read_timeout, accepted=len(fresh))
        LOG.info("webhook: delivery from %s, %d new device status(es)", peer, len(fresh))
        if not fresh:
            return
        if self._pending is not None:
            await self._pending.put(fresh)
        else:
            for event in events_of(fresh):
                await self.queue.put(event)

    async def _receive(self, reader):
        """The deliveries of the request not seen before; RequestRefused for any answer but 200.

        The token is checked on the head alone: a request without it gets 401 before a byte of its body is read.
        """
        settings = self.settings
        deadline = asyncio.get_running_loop().time() + settings.read_timeout
        head = parse_head(await _read(reader.readuntil(b"\r\n\r\n"), deadline, "the request head"))
        if not authorized(head, settings.token):
            raise RequestRefused(401, "wrong or missing Authorization header")
        if head.method != "POST":
            raise RequestRefused(405, "only POST is accepted")
        if head.path != settings.path:
            raise RequestRefused(404, "the webhook's path is %s" % settings.path)
        length = body_length(head, settings.max_body_bytes)
        if length is None:
            body = await _read_chunked(reader, deadline, settings.max_body_bytes)
        else:
            body = await _read(reader.readexactly(length), deadline, "the body")
        deliveries = parse_delivery(body)
        if self._pending is not None and self._pending.full():
            raise RequestRefused(503, "the source is still enriching earlier deliveries")
        return self._dedup.fresh(deliveries)

    async def _enrich_forever(self):
        """Fill in each delivery's name, severity and group from Device Details, in a thread (the requests are
        paced); a failed read still emits the events, with those fields null."""
        while True:
            fresh = await self._pending.get()
            details = None
            try:
                details = await asyncio.get_running_loop().run_in_executor(None, details_by_id, self._client, fresh)
            except OpswatError as error:
                LOG.warning("webhook: Device Details failed, %d event(s) go out without name, severity and group:"
                            " %s", len(fresh), error.message)
            except Exception as error:  # pylint: disable=broad-exception-caught
                # Not an error of the client's (already redacted): its text could hold anything, so only its type.
                LOG.error("webhook: enriching failed (%s), %d event(s) go out without name, severity and group",
                          type(error).__name__, len(fresh))
            for event in events_of(fresh, details):
                await self.queue.put(event)


def _tls_context(settings):
    """The server's TLS context with ``certfile`` (and ``keyfile``), None without; InputError if they do not load."""
    if settings.certfile is None:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        # An encrypted key would make OpenSSL prompt on the terminal: the empty password makes it fail instead.
        context.load_cert_chain(settings.certfile, settings.keyfile, password=lambda: b"")
    except (ssl.SSLError, OSError) as error:
        raise InputError("keyfile" if settings.keyfile else "certfile", "the certificate and key could not be loaded"
                         " (%s)" % (getattr(error, "reason", None) or type(error).__name__)) from None
    return context


async def _read(awaitable, deadline, what):
    """``awaitable`` (a read of ``reader``) within what is left of the request's time."""
    remaining = deadline - asyncio.get_running_loop().time()
    try:
        return await asyncio.wait_for(awaitable, max(remaining, 0))
    except asyncio.TimeoutError:
        raise RequestRefused(408, "%s did not arrive in time" % what) from None
    except asyncio.IncompleteReadError:
        raise ConnectionGone() from None
    except (asyncio.LimitOverrunError, ValueError):
        raise RequestRefused(431 if what == "the request head" else 400, "%s is too long" % what) from None


async def _read_chunked(reader, deadline, max_body_bytes):
    """A chunked body, never more than ``max_body_bytes`` of it read (413 past it)."""
    body = bytearray()
    while True:
        line = await _read(reader.readuntil(b"\r\n"), deadline, "a chunk size")
        try:
            size = int(line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise RequestRefused(400, "a chunk size is not a hexadecimal number") from None
        if size == 0:
            await _read_trailers(reader, deadline)
            return bytes(body)
        if len(body) + size > max_body_bytes:
            raise RequestRefused(413, "the body is larger than %d bytes" % max_body_bytes)
        chunk = await _read(reader.readexactly(size + 2), deadline, "a chunk")
        if not chunk.endswith(b"\r\n"):
            raise RequestRefused(400, "a chunk does not end with CRLF")
        body += chunk[:-2]


async def _read_trailers(reader, deadline):
    for _index in range(MAX_TRAILER_LINES):
        if await _read(reader.readuntil(b"\r\n"), deadline, "the trailers") == b"\r\n":
            return
    raise RequestRefused(431, "too many trailer lines")


async def _respond(writer, status, reason, timeout, **fields):
    """Send the answer and let the connection close: a JSON object, ``error`` holding ``reason``."""
    body = json.dumps(dict(fields, error=reason) if reason else fields).encode("utf-8")
    head = ["HTTP/1.1 %d %s" % (status, http.HTTPStatus(status).phrase), "Content-Type: application/json",
            "Content-Length: %d" % len(body), "Connection: close"]
    if status == 405:
        head.append("Allow: POST")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
    try:
        await asyncio.wait_for(writer.drain(), timeout)
    except (asyncio.TimeoutError, ConnectionError):
        pass  # a client that does not read its answer is simply dropped
