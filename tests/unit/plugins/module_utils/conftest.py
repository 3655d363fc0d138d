# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fixture of the module_utils tests: a loopback HTTP server whose answers a test scripts (the private state
directory and the fake-transport harness are tests/unit/conftest.py's)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class LoopbackHandler(BaseHTTPRequestHandler):
    """Records each request, reads its body into ``body`` and answers with the server's behaviour for its path."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the real service

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass  # keep the test output clean

    def do_POST(self):  # pylint: disable=invalid-name
        path = self.path.split("?", 1)[0]
        self.server.hits[path] = self.server.hits.get(path, 0) + 1
        self.server.requests.append(dict(path=self.path, headers=dict(self.headers),
                                         client_port=self.client_address[1]))
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length).decode("utf-8") if length else ""
        self.server.behaviours.get(path, self.server.behaviour)(self)

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if not any(name.lower() in ("content-length", "transfer-encoding") for name, _value in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()


def echo_request(handler):
    """The default answer: what the request was, as JSON (its path without the query, the query, body, headers)."""
    answer = json.dumps(dict(path=handler.path.split("?", 1)[0], query=handler.path.partition("?")[2],
                             body=handler.body, user_agent=handler.headers.get("User-Agent"),
                             accept=handler.headers.get("Accept"),
                             content_type=handler.headers.get("Content-Type"))).encode("utf-8")
    handler.answer(200, answer, headers=[("Content-Type", "application/json"), ("X-RateLimit-Remaining", "9")])


class LoopbackServer(ThreadingHTTPServer):
    """``behaviour(handler)`` answers every path not in ``behaviours``; ``hits`` counts requests by path,
    ``requests`` holds each one's path, headers and client port."""

    daemon_threads = True
    block_on_close = False  # a handler still sleeping must not hold the test up

    def __init__(self):
        ThreadingHTTPServer.__init__(self, ("127.0.0.1", 0), LoopbackHandler)
        self.hits = {}
        self.requests = []
        self.behaviours = {}
        self.behaviour = echo_request
        self.url = "http://127.0.0.1:%d" % self.server_address[1]

    def handle_error(self, request, client_address):
        pass  # the client hung up on purpose (timeout tests): nothing to report


@pytest.fixture
def server():
    """A loopback HTTP server on a free port, for the tests of the real transport."""
    httpd = LoopbackServer()
    thread = threading.Thread(target=httpd.serve_forever, kwargs=dict(poll_interval=0.05))
    thread.daemon = True
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
