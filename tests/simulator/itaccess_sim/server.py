# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP layer: a threading server on loopback, optional TLS, and the ``/_sim/*`` control endpoints.

API paths are handed to ``api.Service``; this module only reads requests and writes answers. HTTP/1.1
keep-alive is supported because the collection's client reuses connections; ``stop`` closes the
connections still open so that a stopped simulator really refuses every further request.
"""

import json
import socket
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .api import MAX_BODY, ApiRequest

CONTROL_PREFIX = "/_sim/"


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that can speak TLS, tracks open connections and keeps quiet about client errors."""

    daemon_threads = True
    # stop() closes the open connections itself; waiting for keep-alive threads could hang forever.
    block_on_close = False

    def __init__(self, address, simulator, ssl_context=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.simulator = simulator
        self.ssl_context = ssl_context
        self._connections = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, Handler)

    def get_request(self):
        sock, address = super().get_request()
        if self.ssl_context is not None:
            # The handshake happens in the request's thread (finish_request), so that a client that never
            # completes it cannot stall the accept loop.
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def process_request(self, request, client_address):
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def finish_request(self, request, client_address):
        if isinstance(request, ssl.SSLSocket):
            try:
                request.settimeout(30)
                request.do_handshake()
            except (OSError, ssl.SSLError):
                # Typically a client that does not trust our certificate: its problem, not an error here.
                return
        super().finish_request(request, client_address)

    def shutdown_request(self, request):
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self):
        """Shut every open client connection (used by ``stop``)."""
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                connection.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Connection resets and the like are the clients' business; anything else is kept for inspection
        # instead of being printed on stderr.
        error = sys.exc_info()[1]
        if not isinstance(error, (OSError, ssl.SSLError)):
            self.simulator.record_error(repr(error))


class _BodyError(Exception):
    """A request body that cannot be read: answered ``status`` before any routing."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    """Routes every method to one dispatcher; answers are always JSON (or what a fault asks for)."""

    protocol_version = "HTTP/1.1"
    server_version = "itaccess-sim"
    sys_version = ""
    # Idle keep-alive connections are closed after this many seconds.
    timeout = 120
    # Headers and body leave in two writes; with Nagle's algorithm and delayed ACKs each answer would
    # stall about 40 ms on a kept-alive connection.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        # The request log (JSON) replaces http.server's lines on stderr.
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        """Handle GET (and, through the aliases below, every other method)."""
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self):
        """The request body; raises _BodyError when it cannot or must not be read."""
        try:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                return self._read_chunked()
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as error:
            raise _BodyError(400, "Bad Request: unreadable body framing") from error
        if length < 0:
            raise _BodyError(400, "Bad Request: negative Content-Length")
        if length > MAX_BODY:
            raise _BodyError(413, "Payload Too Large")
        return self.rfile.read(length) if length else b""

    def _read_chunked(self):
        chunks, total = [], 0
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                # Trailers, if any, end with an empty line.
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise _BodyError(413, "Payload Too Large")
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _dispatch(self):
        try:
            body = self._read_body()
        except _BodyError as error:
            # The rest of the body is unread: the connection cannot carry another request.
            self.close_connection = True
            self._send(error.status, json.dumps({"error": error.message}).encode(), {"Content-Type": "application/json"})
            return
        request = ApiRequest(self.command, self.path, self.headers, body)
        if request.path.startswith(CONTROL_PREFIX):
            status, payload = self.server.simulator.control(request)
            self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), {"Content-Type": "application/json"})
            return
        outcome = self.server.simulator.service.handle(request)
        if outcome.drop:
            # No answer at all: the client sees the connection closed under it.
            self.close_connection = True
            return
        self._send(outcome.status, outcome.body, outcome.headers)

    def _send(self, status, body, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
