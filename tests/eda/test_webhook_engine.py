# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook source under the real ansible-rulebook, with the collection built and installed as a user has it.

A wrong token gets 401 and runs nothing; the right one, with the same delivery sent three times (the service's
retries), runs the playbook once. The source enriches its events from the simulator's Device Details.

By hand (ansible-rulebook needs Java 17, e.g. Debian's openjdk-17-jre-headless, and ansible-galaxy on PATH):

    python3.12 -m venv /tmp/eda && /tmp/eda/bin/pip install ansible-core ansible-rulebook requests pytest
    PATH=/tmp/eda/bin:$PATH python -m pytest -q -p no:cacheprovider tests/eda/test_webhook_engine.py

run from the collection root; nothing else is needed (the simulator runs in the test process).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "simulator"))

from itaccess_sim import Simulator  # noqa: E402  pylint: disable=wrong-import-position

WEBHOOK_TOKEN = "webhook-key-engine-3c9a-never-printed"
CLIENT_ID = "eda-client-5e21"
CLIENT_SECRET = "eda-secret-77aa-never-printed"
RATE_LIMIT, WINDOW = 50, 1.0
START_SECONDS = 120    # ansible-rulebook starts the JVM: the port opens within this
RUN_SECONDS = 180      # the playbook runs of one test

RULEBOOK = """\
- name: Quarantine candidates from the IT Access webhook
  hosts: all
  sources:
    - opswat.it_access.webhook:
        host: 127.0.0.1
        port: {port}
        token: "{{{{ webhook_token }}}}"
        enrich: true
  rules:
    - name: A device turned non-compliant
      condition: event.opswat.event == "device_status_webhook" and event.opswat.status == "non_compliant"
      action:
        run_playbook:
          name: {playbook}
"""

PLAYBOOK = """\
- name: Record one run per event
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the device through the collection
      opswat.it_access.opswat_device_info:
        device_ids: ["{{{{ ansible_eda.event.opswat.device_id }}}}"]
        requests_per_minute: {requests_per_minute}
        rate_limit_window: {window}
      register: found
    - name: What the run saw, in a file per event (written atomically by copy)
      ansible.builtin.copy:
        dest: "{runs}/{{{{ ansible_eda.event.meta.uuid }}}}.json"
        mode: "0600"
        content: "{{{{ {{'event': ansible_eda.event.opswat, 'found': found.devices | length}} | to_json }}}}"
"""


# ---------------------------------------------------------------------------------------------- fixtures
# (webhook_engine_*: to be folded into tests/eda/conftest.py beside the poller's)


@pytest.fixture(scope="module")
def webhook_engine_bin():
    """The directory of the ansible-rulebook to test (its venv's bin/, which also holds ansible-galaxy)."""
    found = shutil.which("ansible-rulebook")
    if found is None:
        pytest.fail("ansible-rulebook is not on PATH: see this file's docstring")
    return os.path.dirname(os.path.realpath(found)) if os.path.islink(found) else os.path.dirname(found)


@pytest.fixture(scope="module")
def webhook_engine_collection(tmp_path_factory, webhook_engine_bin):
    """The collection built from this tree and installed from its tarball: the directory to point
    ANSIBLE_COLLECTIONS_PATH at."""
    work = tmp_path_factory.mktemp("collection")
    galaxy = os.path.join(webhook_engine_bin, "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--force", "--output-path", str(work / "dist"), ROOT],
                   check=True, capture_output=True, cwd=str(work))
    tarball = next((work / "dist").glob("opswat-it_access-*.tar.gz"))
    subprocess.run([galaxy, "collection", "install", "--force", "-p", str(work / "installed"), str(tarball)],
                   check=True, capture_output=True, cwd=str(work))
    return str(work / "installed")


@pytest.fixture
def webhook_engine_simulator():
    with Simulator(devices=20, seed=5, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, rate_limit=RATE_LIMIT,
                   window=WINDOW) as sim:
        yield sim


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Engine(object):
    """One ansible-rulebook process; its output in ``output`` once stopped."""

    def __init__(self, process, log_path, port):
        self.process = process
        self.log_path = log_path
        self.port = port
        self.output = ""

    def wait_listening(self):
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail("the webhook source did not open its port; ansible-rulebook said:\n%s" % self.output)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        with open(self.log_path) as log:
            self.output = log.read()


@pytest.fixture
def webhook_engine(tmp_path, webhook_engine_bin, webhook_engine_collection, webhook_engine_simulator):
    """Start ansible-rulebook with the webhook rulebook; yields (engine, runs directory); stopped afterwards."""
    sim = webhook_engine_simulator
    port = free_port()
    runs, project, temp = tmp_path / "runs", tmp_path / "project", tmp_path / "tmp"
    for folder in (runs, project, temp):
        folder.mkdir()
    # ansible-rulebook copies the playbook's directory into a private one under TMPDIR: never one in the other.
    playbook = project / "record.yml"
    playbook.write_text(PLAYBOOK.format(runs=runs, requests_per_minute=int(RATE_LIMIT * 60 / WINDOW), window=WINDOW))
    rulebook = project / "webhook.yml"
    rulebook.write_text(RULEBOOK.format(port=port, playbook=playbook))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": os.path.join(webhook_engine_bin, "python")}}}}))
    variables = tmp_path / "vars.yml"
    variables.write_text(json.dumps({"webhook_token": WEBHOOK_TOKEN}))
    env = dict(
        PATH=webhook_engine_bin + os.pathsep + "/usr/local/bin:/usr/bin:/bin", HOME=str(tmp_path),
        LANG="C.UTF-8", ANSIBLE_COLLECTIONS_PATH=webhook_engine_collection, ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCAL_TEMP=str(temp / "ansible"), TMPDIR=str(temp),
        OPSWAT_API_URL=sim.url, OPSWAT_CLIENT_ID=CLIENT_ID, OPSWAT_CLIENT_SECRET=CLIENT_SECRET,
        OPSWAT_REQUESTS_PER_MINUTE=str(int(RATE_LIMIT * 60 / WINDOW)), OPSWAT_RATE_LIMIT_WINDOW=str(WINDOW))
    if os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    log_path = tmp_path / "ansible-rulebook.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [os.path.join(webhook_engine_bin, "ansible-rulebook"), "--rulebook", str(rulebook), "-i", str(inventory),
             "--vars", str(variables), "-v"],
            cwd=str(tmp_path), env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    engine = Engine(process, log_path, port)
    try:
        engine.wait_listening()
        yield engine, runs
    finally:
        engine.stop()


# ---------------------------------------------------------------------------------------------- the test


def post(port, items, token):
    request = urllib.request.Request("http://127.0.0.1:%d/" % port, data=json.dumps(items).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def recorded_runs(runs):
    return [json.loads(path.read_text()) for path in sorted(runs.glob("*.json"))]


def wait_for_run_of(runs, device_id, engine):
    deadline = time.monotonic() + RUN_SECONDS
    while time.monotonic() < deadline:
        if any(run["event"]["device_id"] == device_id for run in recorded_runs(runs)):
            return
        if engine.process.poll() is not None:
            break
        time.sleep(0.2)
    engine.stop()
    pytest.fail("no playbook run for %s; ansible-rulebook said:\n%s" % (device_id, engine.output))


def test_wrong_token_runs_nothing_and_three_deliveries_run_the_playbook_once(webhook_engine, webhook_engine_simulator):
    engine, runs = webhook_engine
    sim = webhook_engine_simulator
    first, second, sentinel = [device["device_id"] for device in sim.fleet.devices[:3]]
    at = int(time.time() * 1000)

    assert post(engine.port, [{"device_id": second, "status": "non_compliant", "timestamp": at}], "wrong") == 401
    assert post(engine.port, [{"device_id": second, "status": "non_compliant", "timestamp": at}],
                "Bearer " + WEBHOOK_TOKEN) == 401
    delivery = [{"device_id": first, "status": "non_compliant", "timestamp": at}]
    assert [post(engine.port, delivery, WEBHOOK_TOKEN) for _attempt in range(3)] == [200, 200, 200]
    # Rules run their actions in order: once the sentinel's run is recorded, any run the refused or repeated
    # deliveries had caused would be recorded too.
    assert post(engine.port, [{"device_id": sentinel, "status": "non-compliant", "timestamp": at}],
                WEBHOOK_TOKEN) == 200
    wait_for_run_of(runs, sentinel, engine)
    engine.stop()

    recorded = recorded_runs(runs)
    assert sorted(run["event"]["device_id"] for run in recorded) == sorted([first, sentinel])
    by_device = dict((run["event"]["device_id"], run) for run in recorded)
    device = dict((entry["device_id"], entry) for entry in sim.fleet.devices)[first]
    assert by_device[first]["event"]["device_name"] == device["device_name"]  # enriched from Device Details
    assert by_device[first]["event"]["status"] == "non_compliant"
    assert by_device[first]["found"] == 1
    detail_reads = [entry for entry in sim.request_log() if entry["path"].endswith("/devices/detail")]
    assert len(detail_reads) == 4  # the source's two (one a delivery) and the playbook's two
    for secret in [WEBHOOK_TOKEN, CLIENT_SECRET] + list(sim.issued_tokens()):
        assert secret not in engine.output
