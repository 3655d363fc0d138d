# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The device_status event source on an asyncio queue and the fake transport: the checkpoint, the overlap of the
polls, once-only delivery across a restart, errors and shutdown; and its bootstrap outside Ansible's loader."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.opswat.it_access.extensions.eda.plugins.event_source import device_status, webhook
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import Pacer
from ansible_collections.opswat.it_access.plugins.module_utils.transport import TIMEOUT
from ansible_collections.opswat.it_access.plugins.plugin_utils.webhook_events import WEBHOOK_ARGUMENTS
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, API_URL, STATUS_CHANGES)

INTERVAL = 60
OVERLAP = 30


def unpaced_client(harness, config):
    """The source's client on the fake transport and clock, without pacing (the windows' arithmetic stays exact)."""
    client = Client(config, transport=harness.transport, clock=harness.clock, sleep=harness.clock.sleep,
                    pacer=Pacer(0, clock=harness.clock, sleep=harness.clock.sleep))
    client.session.backoff_jitter = lambda: 1.0  # back-off delays become exactly 1, 2, 4
    return client


def record(device_id, status="non-compliant", **fields):
    values = {"device_id": device_id, "status": status, "severity": "critical", "group_name": "Default",
              "device_name": "PC-%s" % device_id}
    values.update(fields)
    return values


def answer(*records, deleted=()):
    return {"monitored_devices": list(records), "deleted_devices": list(deleted)}


class Run(object):
    """One source on the harness: ``polls`` answers scripted, ``sleep`` advances the fake clock and, after the
    last poll, cancels the source as ansible-rulebook does at shutdown."""

    def __init__(self, harness, checkpoint, **args):
        self.harness = harness
        self.queue = asyncio.Queue()
        self.sleeps = []
        arguments = dict(api_url=API_URL, access_token=ACCESS_TOKEN, token_cache=False, requests_per_minute=600,
                         interval=INTERVAL, overlap=OVERLAP, checkpoint_path=str(checkpoint))
        arguments.update(args)
        self.settings = device_status.Settings(arguments)
        self.polls = 0
        self.max_polls = 0

    def expect_poll(self, age, body=None, status=200, **kwargs):
        self.harness.expect("POST", STATUS_CHANGES, json_body={"age": age, "verbose": 1, "page": 1, "limit": 50},
                            status=status, body=answer() if body is None else body, **kwargs)
        self.max_polls += 1

    async def _sleep(self, seconds):
        self.sleeps.append(seconds)
        if len(self.sleeps) >= self.max_polls:
            raise asyncio.CancelledError()
        self.harness.clock.now += seconds

    def _client(self, config, stopper, logger):
        return unpaced_client(self.harness, config)

    def run(self):
        poller = device_status.Poller(self.settings, self.queue, clock=self.harness.clock, sleep=self._sleep,
                                      new_client=self._client)
        poller.open()
        with pytest.raises(asyncio.CancelledError):
            asyncio.run(poller.run())
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events


def saved(path):
    with open(str(path)) as handle:
        return json.load(handle)


@pytest.fixture
def checkpoint(tmp_path):
    return tmp_path / "state" / "checkpoint.json"


def test_a_first_start_records_where_devices_stand_and_emits_only_later_changes(harness, checkpoint):
    run = Run(harness, checkpoint)
    run.expect_poll(OVERLAP, answer(record("a"), record("b", "compliant")))  # before the start: not emitted
    run.expect_poll(INTERVAL + OVERLAP, answer(record("a"), record("b", "compliant"), record("c")))
    events = run.run()
    assert [event["opswat"]["device_id"] for event in events] == ["c"]
    assert events[0] == {"opswat": {
        "event": "device_status_changed", "device_id": "c", "device_name": "PC-c", "status": "non_compliant",
        "previous_status": None, "severity": "critical", "group_name": "Default",
        "observed_at": events[0]["opswat"]["observed_at"]}}
    assert run.sleeps == [INTERVAL, INTERVAL]
    state = saved(checkpoint)
    assert sorted(state["devices"]) == ["a", "b", "c"]
    assert state["covered_until"] == harness.clock.now


def test_after_a_first_start_the_next_window_does_not_reach_back_before_the_first_ones(harness, checkpoint):
    """The first poll's answer came 10 s late: the next window starts from its end, not from its start, or it
    would read changes made before the start, which the first poll did not record."""
    run = Run(harness, checkpoint)
    run.expect_poll(OVERLAP, answer(), latency=10)
    run.expect_poll(INTERVAL + OVERLAP, answer())
    assert run.run() == []


def test_initial_age_emits_the_changes_before_the_first_start(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=3600)
    run.expect_poll(3600, answer(record("a")))
    assert [event["opswat"]["device_id"] for event in run.run()] == ["a"]


def test_a_restart_emits_nothing_twice_and_what_changed_while_it_was_down(harness, checkpoint):
    first = Run(harness, checkpoint, initial_age=600)
    first.expect_poll(600, answer(record("a"), record("b")))
    assert len(first.run()) == 2
    down_since = saved(checkpoint)["covered_until"]
    harness.clock.now += 500  # stopped for 500 s, meanwhile b is compliant and c non-compliant
    second = Run(harness, checkpoint, initial_age=600)
    second.expect_poll(int(harness.clock.now - down_since) + OVERLAP,
                       answer(record("a"), record("b", "compliant"), record("c")))
    events = second.run()
    assert [(event["opswat"]["device_id"], event["opswat"]["status"], event["opswat"]["previous_status"])
            for event in events] == [("b", "compliant", "non_compliant"), ("c", "non_compliant", None)]


def test_a_change_seen_again_with_a_new_changed_at_is_a_new_change(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=600)
    run.expect_poll(600, answer(record("a", changed_at="2026-12-01T10:00:00Z")))
    run.expect_poll(INTERVAL + OVERLAP, answer(record("a", changed_at="2026-12-01T10:00:00Z")))
    run.expect_poll(INTERVAL + OVERLAP, answer(record("a", changed_at="2026-12-01T10:01:30Z",
                                                      previous_status="compliant")))
    events = run.run()
    assert [event["opswat"]["previous_status"] for event in events] == [None, "compliant"]


def test_batch_is_one_event_a_poll_and_none_for_a_poll_without_change(harness, checkpoint):
    run = Run(harness, checkpoint, batch=True, initial_age=600)
    run.expect_poll(600, answer(record("a"), record("b")))
    run.expect_poll(INTERVAL + OVERLAP, answer(record("a"), record("b")))  # nothing new: no empty batch
    events = run.run()
    assert len(events) == 1
    assert events[0]["opswat"]["event"] == "device_status_batch"
    assert [device["device_id"] for device in events[0]["opswat"]["devices"]] == ["a", "b"]
    assert events[0]["opswat"]["devices"][0]["event"] == "device_status_changed"


def test_statuses_keeps_only_changes_into_them_and_still_records_the_others(harness, checkpoint):
    run = Run(harness, checkpoint, statuses=["non_compliant"], initial_age=600)
    run.expect_poll(600, answer(record("a", "compliant"), record("b")))
    run.expect_poll(INTERVAL + OVERLAP, answer(record("a")))
    events = run.run()
    assert [(event["opswat"]["device_id"], event["opswat"]["previous_status"]) for event in events] == [
        ("b", None), ("a", "compliant")]


def test_a_deleted_device_is_forgotten(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=600)
    run.expect_poll(600, answer(record("a"), record("b")))
    run.expect_poll(INTERVAL + OVERLAP, answer(deleted=["b"]))
    run.run()
    assert sorted(saved(checkpoint)["devices"]) == ["a"]


def test_a_failed_poll_is_retried_at_the_next_interval_and_its_window_kept(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=600)
    run.expect_poll(600, answer(record("a")))
    # The session's own retries of a 5xx come first (after 1, 2 and 4 s), then the poll fails.
    for _attempt in range(4):
        harness.expect("POST", STATUS_CHANGES, status=503, body={"error": "busy"})
    run.max_polls += 1
    # The next window reaches back to the end of the last good poll: two intervals plus the overlap (and the
    # seconds the failed poll spent in back-off).
    run.expect_poll(2 * INTERVAL + OVERLAP + 7, answer(record("a"), record("b")))
    events = run.run()
    assert [event["opswat"]["device_id"] for event in events] == ["a", "b"]
    assert run.sleeps == [INTERVAL, INTERVAL, INTERVAL]  # no tight loop after the failure


def test_a_throttled_or_timed_out_poll_is_logged_without_secrets_and_retried(harness, checkpoint, caplog):
    run = Run(harness, checkpoint, initial_age=600, rate_limit_timeout=0)
    harness.expect("POST", STATUS_CHANGES, status=429, body={"error": "too many requests " + ACCESS_TOKEN})
    for _attempt in range(4):  # a timeout is retried three times by the session, then the poll fails
        harness.expect("POST", STATUS_CHANGES, fail=(TIMEOUT, "read timed out"))
    run.max_polls += 2
    run.expect_poll(600, answer(record("a")))  # still a first start: nothing was read yet
    with caplog.at_level("INFO"):
        events = run.run()
    assert [event["opswat"]["device_id"] for event in events] == ["a"]
    failures = [line for line in caplog.messages if "poll failed, retried in 60 s" in line]
    assert len(failures) == 2 and "HTTP 429" in failures[0] and "(timeout)" in failures[1]
    assert ACCESS_TOKEN not in caplog.text
    assert run.sleeps == [INTERVAL, INTERVAL, INTERVAL]


def test_a_rejected_credential_stops_the_source(harness, checkpoint):
    run = Run(harness, checkpoint)
    harness.expect("POST", STATUS_CHANGES, status=401, body={"error": "invalid token"})
    poller = device_status.Poller(run.settings, run.queue, clock=harness.clock, sleep=run._sleep,
                                  new_client=run._client)
    poller.open()
    with pytest.raises(PermissionError, match="credentials were rejected") as error:
        asyncio.run(poller.run())
    assert ACCESS_TOKEN not in str(error.value)


def test_a_late_poll_does_not_move_the_window_on(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=600)
    run.expect_poll(600, answer())
    run.expect_poll(INTERVAL + OVERLAP, answer(), latency=OVERLAP + 5)  # its answer came late
    # The next window still starts before the first poll's end (2 intervals and the late 35 s back), and reaches
    # another 35 s further (the slack of a poll as late as the last one).
    run.expect_poll(2 * INTERVAL + (OVERLAP + 5) + OVERLAP + (OVERLAP + 5), answer())
    run.run()
    assert saved(checkpoint)["covered_until"] == harness.clock.now


@pytest.mark.parametrize("args, message", [
    ({"interval": 0}, "interval: must be a whole number from 1"),
    ({"interval": True}, "interval: must be a whole number"),
    ({"batch": "maybe"}, "batch: must be true or false"),
    ({"statuses": ["non-compliant"]}, "statuses: unknown status"),
    ({"intervall": 5}, "intervall: is not an argument of this source"),
    ({"timeout": "soon"}, "timeout"),
    ({"access_token": None}, "no credentials"),
])
def test_bad_arguments_stop_the_source_at_once(monkeypatch, args, message):
    for name in list(os.environ):
        if name.startswith("OPSWAT_"):
            monkeypatch.delenv(name)
    arguments = dict(api_url=API_URL, access_token=ACCESS_TOKEN)
    arguments.update(args)
    with pytest.raises(ValueError, match="opswat.it_access.device_status: .*%s" % message):
        asyncio.run(device_status.main(asyncio.Queue(), arguments))


def test_connection_from_the_environment(monkeypatch, harness, checkpoint):
    monkeypatch.setenv("OPSWAT_API_URL", API_URL)
    monkeypatch.setenv("OPSWAT_ACCESS_TOKEN", ACCESS_TOKEN)
    monkeypatch.setenv("OPSWAT_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="OPSWAT_TIMEOUT"):
        asyncio.run(device_status.main(asyncio.Queue(), {"checkpoint_path": str(checkpoint)}))
    monkeypatch.setenv("OPSWAT_TIMEOUT", "12")
    settings = device_status.Settings({"checkpoint_path": str(checkpoint)})
    assert (settings.config.api_url, settings.config.timeout) == (API_URL, 12.0)


def test_a_checkpoint_of_another_account_or_not_a_checkpoint_stops_the_source(tmp_path):
    path = tmp_path / "checkpoint.json"
    path.write_text(json.dumps({"format": 1, "account": {"api_url": "https://other.test", "client_id": None},
                                "covered_until": None, "devices": {}}))
    args = dict(api_url=API_URL, access_token=ACCESS_TOKEN, checkpoint_path=str(path))
    with pytest.raises(ValueError, match="checkpoint of another account"):
        asyncio.run(device_status.main(asyncio.Queue(), args))
    path.write_text("{half")
    with pytest.raises(ValueError, match="not a checkpoint of this source"):
        asyncio.run(device_status.main(asyncio.Queue(), args))


def test_a_second_source_on_the_same_checkpoint_is_refused(harness, checkpoint):
    first = device_status.Poller(Run(harness, checkpoint).settings, asyncio.Queue())
    first.open()
    with pytest.raises(Exception, match="in use by another running source"):
        device_status.Poller(Run(harness, checkpoint).settings, asyncio.Queue()).open()


def test_cancelling_ends_the_waits_of_the_client_thread(harness, checkpoint):
    """A poll waiting on its pace (or a 429) in the thread ends at once when the source is cancelled."""
    run = Run(harness, checkpoint)
    stoppers = []

    def client(config, stopper, logger):
        stoppers.append(stopper)
        return unpaced_client(harness, config)

    poller = device_status.Poller(run.settings, run.queue, clock=harness.clock, new_client=client)
    poller.open()

    async def scenario():
        task = asyncio.ensure_future(poller.run())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    harness.expect("POST", STATUS_CHANGES, body=answer())
    asyncio.run(scenario())
    assert stoppers[0].stopped
    with pytest.raises(Exception):
        stoppers[0].sleep(30)  # a wait after the stop returns at once, raising


def test_every_source_starts_with_the_same_bootstrap():
    """The bootstrap is copied into each source (it runs before any import of the collection)."""
    directory = os.path.dirname(device_status.__file__)
    blocks = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".py") and not name.startswith("_"):
            with open(os.path.join(directory, name)) as handle:
                text = handle.read()
            start = text.index("def _use_installed_collection():")
            blocks[name] = text[start:text.index("\n\n\n", start)]
    assert len(set(blocks.values())) == 1, sorted(blocks)


def test_the_source_loads_with_runpy_outside_the_collection_loader(tmp_path):
    """As ansible-rulebook loads it: runpy.run_path in a Python that knows nothing of the collection."""
    code = "import runpy, sys; module = runpy.run_path(sys.argv[1]); print(callable(module['main']))"
    result = subprocess.run([sys.executable, "-I", "-c", code, device_status.__file__], cwd=str(tmp_path),
                            capture_output=True, text=True, check=False)
    assert result.stdout.strip() == "True", result.stderr


def test_a_checkpoint_that_can_no_longer_be_written_stops_the_source(harness, checkpoint, monkeypatch):
    run = Run(harness, checkpoint)
    harness.expect("POST", STATUS_CHANGES, body=answer())
    monkeypatch.setattr(device_status, "Settings", lambda args: run.settings)
    monkeypatch.setattr(device_status.event_source, "new_client", lambda *args: unpaced_client(harness, args[0]))

    def full(path, content):
        raise OSError(28, "No space left on device")

    poller_open = device_status.Poller.open

    def open_then_fill(self):
        poller_open(self)
        monkeypatch.setattr(device_status.status_events, "replace_private_file", full)

    monkeypatch.setattr(device_status.Poller, "open", open_then_fill)
    with pytest.raises(ValueError, match="device_status: checkpoint_path: cannot write .*No space left"):
        asyncio.run(device_status.main(run.queue, {}))


class CancelledOnSecondPut(object):
    """A queue on which the source is cancelled while it puts its second event (ansible-rulebook shutting down)."""

    def __init__(self):
        self.events = []

    async def put(self, event):
        if len(self.events) == 1:
            raise asyncio.CancelledError()
        self.events.append(event)


def test_a_cancellation_part_way_saves_what_went_out_and_reads_the_rest_again(harness, checkpoint):
    run = Run(harness, checkpoint, initial_age=600)
    run.expect_poll(600, answer(record("a"), record("b")))
    queue = CancelledOnSecondPut()
    poller = device_status.Poller(run.settings, queue, clock=harness.clock, sleep=run._sleep, new_client=run._client)
    poller.open()
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(poller.run())
    assert [event["opswat"]["device_id"] for event in queue.events] == ["a"]
    state = saved(checkpoint)
    assert list(state["devices"]) == ["a"] and state["covered_until"] is None  # b is read again after a restart

    again = Run(harness, checkpoint, initial_age=600)
    again.expect_poll(600, answer(record("a"), record("b")))
    assert [event["opswat"]["device_id"] for event in again.run()] == ["b"]


@pytest.mark.parametrize("source, arguments", [
    (device_status, device_status.ARGUMENTS),
    (webhook, WEBHOOK_ARGUMENTS),
])
def test_each_source_documents_exactly_its_arguments(source, arguments):
    """The DOCUMENTATION that ansible-doc and Galaxy show lists every argument the source takes, and no other (the
    connection options come from the doc fragment)."""
    documentation = yaml.safe_load(source.DOCUMENTATION)
    assert set(documentation["options"]) == set(arguments)
    assert documentation["extends_documentation_fragment"] == ["opswat.it_access.connection"]
    assert yaml.safe_load(source.EXAMPLES)
