# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the rate_limit_store suite: a real redis-server on a free loopback port, and the simulator."""

from __future__ import absolute_import, division, print_function

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

# pylint: disable=wrong-import-position
from isolation import no_stray_environment  # noqa: E402,F401  pylint: disable=unused-import  # autouse
from itaccess_sim import Simulator  # noqa: E402
# pylint: enable=wrong-import-position

START_SECONDS = 10.0


def free_port():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


class RedisServer(object):
    """``redis-server`` in the foreground on a loopback port, no persistence; ``kill()`` and ``start()`` again."""

    def __init__(self, password=None):
        self.password = password
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (make redis installs it)")
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            + (["--requirepass", self.password] if self.password else []),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(64).startswith((b"+PONG", b"-NOAUTH")):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start on port %d" % self.port)

    def command(self, *words):
        """One command's raw answer (enough for KEYS and EXISTS)."""
        commands = ([("AUTH", self.password)] if self.password else []) + [words]
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as connection:
            for command in commands:
                parts = ["$%d\r\n%s\r\n" % (len(word), word) for word in command]
                request = "*%d\r\n" % len(command) + "".join(parts)
                connection.sendall(request.encode())
            time.sleep(0.05)
            return connection.recv(65536).decode()

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture
def redis_server():
    server = RedisServer().start()
    yield server
    server.kill()


@pytest.fixture
def make_redis():
    """Factory of started redis-servers (``password``: requirepass), killed at teardown."""
    started = []

    def make(password=None):
        server = RedisServer(password).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.kill()


@pytest.fixture
def make_sim():
    started = []

    def make(**options):
        sim = Simulator(**options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
        assert not sim.errors, sim.errors
