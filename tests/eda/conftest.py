# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the real-engine tests: the collection built and installed from its tarball (as a user has it, no
PYTHONPATH), the simulator started from that installed copy, and ansible-rulebook started and stopped on a rulebook.

Run by the Makefile's eda gate from the tree copy, with the eda venv's bin/ first on PATH (ansible-rulebook shells
out to ansible-galaxy) and Java 17 installed.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import pytest

TREE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENV_BIN = os.path.dirname(sys.executable)
CLIENT_ID = "sim-client"
CLIENT_SECRET = "sim-secret"
# The collection paces itself to the simulator's limit, so nothing is throttled.
RATE_LIMIT = 600
WAIT_SECONDS = 60


def wait_for(what, predicate, timeout=WAIT_SECONDS, step=0.2):
    """``predicate()``'s first true value; fails naming ``what`` after ``timeout`` seconds (a hang, not a timing)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("gave up waiting for %s after %d s" % (what, timeout))
        time.sleep(step)


@pytest.fixture(scope="session")
def installed_collection(tmp_path_factory):
    """The directory holding ``ansible_collections/opswat/it_access``: built from the tree, installed from the
    tarball with ansible-galaxy, from outside the tree."""
    work = tmp_path_factory.mktemp("collection")
    subprocess.run(["ansible-galaxy", "collection", "build", "--force", "--output-path", str(work), TREE],
                   check=True, cwd=str(work), stdout=subprocess.DEVNULL)
    tarball = [name for name in os.listdir(str(work)) if name.endswith(".tar.gz")]
    assert len(tarball) == 1, tarball
    subprocess.run(["ansible-galaxy", "collection", "install", "--force", "-p", str(work / "installed"),
                    str(work / tarball[0])], check=True, cwd=str(work), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    path = work / "installed"
    assert (path / "ansible_collections" / "opswat" / "it_access" / "extensions" / "eda").is_dir()
    return str(path)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SimulatorProcess(object):
    """The installed collection's simulator in a process of its own; ``control`` calls its /_sim endpoints,
    ``api`` the API (with a token of its own, so it shows in the request log as one token request)."""

    def __init__(self, collection, log_path, *args):
        simulator_dir = os.path.join(collection, "ansible_collections", "opswat", "it_access", "tests", "simulator")
        self.log_path = log_path
        env = dict(os.environ, PYTHONPATH=simulator_dir, PYTHONDONTWRITEBYTECODE="1")
        self._log = open(log_path, "w")
        self.process = subprocess.Popen([sys.executable, "-u", "-m", "itaccess_sim", "--port", str(free_port())]
                                        + list(args), stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.url = wait_for("the simulator to listen", self._listening, timeout=30)
        self._token = None

    def _listening(self):
        if self.process.poll() is not None:
            pytest.fail("the simulator exited: %s" % open(self.log_path).read())
        match = re.search(r"itaccess-sim listening on (\S+)", open(self.log_path).read())
        return match.group(1) if match else None

    def _request(self, method, path, body=None, form=None, query=None):
        url = self.url + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data, headers = None, {}
        if form is not None:
            data, headers = urllib.parse.urlencode(form).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        elif body is not None:
            data, headers = json.dumps(body).encode(), {"Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read().decode() or "null")

    def control(self, method, name, body=None):
        return self._request(method, "/_sim/" + name, body)

    def api(self, path, body):
        if self._token is None:
            answer = self._request("POST", "/o/oauth/token", form={
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"})
            self._token = answer["access_token"]
        return self._request("POST", path, body, query={"access_token": self._token})

    def log(self, endpoint=None):
        """The request log, of one endpoint (``status_changed``, ``detail``, ``action``...) when given."""
        return [entry for entry in self.control("GET", "log") if endpoint is None or entry["endpoint"] == endpoint]

    def environment(self):
        """The OPSWAT_* variables that point the collection at this simulator."""
        return {"OPSWAT_API_URL": self.url, "OPSWAT_CLIENT_ID": CLIENT_ID, "OPSWAT_CLIENT_SECRET": CLIENT_SECRET,
                "OPSWAT_REQUESTS_PER_MINUTE": str(RATE_LIMIT)}

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@pytest.fixture
def simulator(installed_collection, tmp_path):
    sim = SimulatorProcess(installed_collection, str(tmp_path / "simulator.log"), "--devices", "20", "--seed", "7",
                           "--rate-limit", str(RATE_LIMIT), "--window", "60")
    yield sim
    sim.stop()


class Rulebook(object):
    """One ansible-rulebook process: started on a rulebook with variables, its output in a file; ``stop`` sends
    SIGINT (its own shutdown: the sources are cancelled), then SIGKILL if it does not end."""

    def __init__(self, command, env, output_path, cwd):
        self.output_path = output_path
        self._output = open(output_path, "w")
        self.process = subprocess.Popen(command, stdout=self._output, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                        start_new_session=True)

    def output(self):
        with open(self.output_path) as handle:
            return handle.read()

    def running(self):
        return self.process.poll() is None

    def stop(self):
        if self.running():
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._output.close()
        return self.output()


@pytest.fixture
def start_rulebook(installed_collection, tmp_path):
    """``start_rulebook(rulebook, variables, env)``: ansible-rulebook on ``rulebook`` (a file, or a rulebook of the
    installed collection by name) with ``--vars`` and an inventory of the local host; ``env`` adds variables to a
    clean environment (PATH with this venv first, ANSIBLE_COLLECTIONS_PATH = the installed collection only, no
    PYTHONPATH). Every rulebook started is stopped at the end of the test."""
    started = []
    inventory = tmp_path / "inventory.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: %s\n" % sys.executable)

    def start(rulebook, variables=None, env=None):
        number = len(started) + 1
        vars_file = tmp_path / ("vars-%d.yml" % number)
        vars_file.write_text(json.dumps(variables or {}))
        environment = {key: value for key, value in os.environ.items()
                       if not key.startswith(("OPSWAT_", "ANSIBLE_", "PYTHON"))}
        environment.update(PATH="%s:%s" % (VENV_BIN, os.environ.get("PATH", "")),
                           ANSIBLE_COLLECTIONS_PATH=installed_collection, ANSIBLE_NOCOLOR="1",
                           ANSIBLE_LOCALHOST_WARNING="false", TMPDIR=str(tmp_path))
        environment.update(env or {})
        command = [os.path.join(VENV_BIN, "ansible-rulebook"), "-r", rulebook, "-i", str(inventory),
                   "--vars", str(vars_file), "-v"]
        rulebook_run = Rulebook(command, environment, str(tmp_path / ("rulebook-%d.out" % number)), str(tmp_path))
        started.append(rulebook_run)
        return rulebook_run

    yield start
    for rulebook_run in started:
        rulebook_run.stop()
