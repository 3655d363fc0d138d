# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The webhook source under the real ansible-rulebook, with the collection installed from its tarball: a wrong
token gets 401 and runs nothing; the right one, with the same delivery sent three times (the service's retries),
runs the playbook once; the events are enriched from the simulator's Device Details."""

import json
import os
import socket
import urllib.error
import urllib.request

import pytest

from conftest import CLIENT_SECRET, free_port, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
WEBHOOK_TOKEN = "webhook-key-engine-3c9a-never-printed"

RECORD_PLAYBOOK = """\
- name: Record one run per event
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the device through the collection
      opswat.it_access.opswat_device_info:
        device_ids: ["{{ ansible_eda.event.opswat.device_id }}"]
      register: found
    - name: What the run saw, in a file per event
      ansible.builtin.copy:
        dest: "%s/{{ ansible_eda.event.meta.uuid }}.json"
        mode: "0600"
        content: "{{ {'event': ansible_eda.event.opswat, 'found': found.devices | length} | to_json }}"
"""


def post(port, items, token):
    request = urllib.request.Request("http://127.0.0.1:%d/" % port, data=json.dumps(items).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": token})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def listening(port, rulebook):
    if not rulebook.running():
        pytest.fail("ansible-rulebook ended before the webhook opened its port:\n%s" % rulebook.output())
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def recorded(runs):
    return [json.loads(name.read_text()) for name in sorted(runs.glob("*.json"))]


def test_a_wrong_token_runs_nothing_and_three_deliveries_run_the_playbook_once(simulator, start_rulebook, tmp_path):
    runs, project = tmp_path / "runs", tmp_path / "project"
    runs.mkdir()
    project.mkdir()  # ansible-rulebook copies a playbook's directory under TMPDIR: never one inside the other
    playbook = project / "record.yml"
    playbook.write_text(RECORD_PLAYBOOK % runs)
    first, refused, sentinel = [simulator.control("POST", "enrol_device", {"status": "non_compliant"})["device_id"]
                                for _device in range(3)]
    port = free_port()
    rulebook = start_rulebook(os.path.join(HERE, "rulebooks", "record_webhook_events.yml"),
                              {"webhook_port": port, "webhook_token": WEBHOOK_TOKEN, "record_playbook": str(playbook)},
                              simulator.environment())
    wait_for("the webhook's port", lambda: listening(port, rulebook), timeout=120)  # the JVM starts first
    simulator.control("DELETE", "log")
    at = 1764606600123

    assert post(port, [{"device_id": refused, "status": "non_compliant", "timestamp": at}], "wrong") == 401
    assert post(port, [{"device_id": refused, "status": "non_compliant", "timestamp": at}],
                "Bearer " + WEBHOOK_TOKEN) == 401
    delivery = [{"device_id": first, "status": "non_compliant", "timestamp": at}]
    assert [post(port, delivery, WEBHOOK_TOKEN) for _attempt in range(3)] == [200, 200, 200]
    # Rules run their actions in order: once the sentinel's run is recorded, any run the refused or repeated
    # deliveries had caused would be recorded too.
    assert post(port, [{"device_id": sentinel, "status": "non-compliant", "timestamp": at}], WEBHOOK_TOKEN) == 200
    wait_for("the sentinel's playbook run", lambda: sentinel in [run["event"]["device_id"] for run in recorded(runs)],
             timeout=180)
    output = rulebook.stop()

    # The source's two reads (one a delivery) and the playbook's two.
    assert len(simulator.log("detail")) == 4
    runs_seen = recorded(runs)
    assert sorted(run["event"]["device_id"] for run in runs_seen) == sorted([first, sentinel])
    by_device = dict((run["event"]["device_id"], run) for run in runs_seen)
    name = simulator.api("/o/api/v3.8/devices/detail", {"ids": [first]})[0]["device_name"]
    assert by_device[first]["event"]["device_name"] == name  # enriched from Device Details
    assert by_device[first]["event"]["status"] == "non_compliant" and by_device[first]["found"] == 1
    assert by_device[first]["event"]["observed_at"] == "2025-12-01T16:30:00.123Z"
    assert WEBHOOK_TOKEN not in output and CLIENT_SECRET not in output
