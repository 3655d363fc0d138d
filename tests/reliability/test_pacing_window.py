# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pacer's window rule against the simulator's fixed window: requests that reach the service late draw no 429.

The benchmark once drew 429s from the collection's own traffic: on a loaded machine a request reached the service
0.5 s late, the next one left on time, and the fixed window the late one opened held 11 requests. Here the same
happens on purpose, at 10 requests a 1 s window: chosen requests leave 1.2 s after the start the pacer gave them
(longer than the window, so each opens a window of its own wherever the windows fall). The client must draw no 429,
and no 1 s of the simulator's log may hold more than 10 arrivals. Counts only: no assertion on how long it took.
"""

from __future__ import absolute_import, division, print_function

import threading
import time
from datetime import datetime

import pytest

import reliability_harness as harness
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.connection import config_from_params
from ansible_collections.opswat.it_access.plugins.module_utils.session import USER_AGENT
from ansible_collections.opswat.it_access.plugins.module_utils.transport import RequestsTransport

WINDOW = 1.0
LIMIT = 10
REQUESTS_PER_MINUTE = int(LIMIT * 60 / WINDOW)
LATE_SECONDS = 1.2
TIMEOUT = 5.0
# The log stamps a request when the simulator starts handling it, to the microsecond; a little slack for that.
STAMP_SLACK_SECONDS = 0.002


class LateTransport(object):
    """A real transport that holds back the sending of the chosen requests (counted from 0): the process was not
    scheduled between the start the pacer gave it and the moment the request left."""

    def __init__(self, late_requests):
        self._inner = RequestsTransport(verify=True, timeout=TIMEOUT, user_agent=USER_AGENT)
        self._late = set(late_requests)
        self._sent = 0

    def request(self, *args, **kwargs):
        late = self._sent in self._late
        self._sent += 1
        if late:
            time.sleep(LATE_SECONDS)
        return self._inner.request(*args, **kwargs)

    def close(self):
        self._inner.close()


def scaled_client(sim, late_requests=()):
    config = config_from_params(dict(api_url=sim.url, client_id=harness.CLIENT_ID, client_secret=harness.CLIENT_SECRET,
                                     requests_per_minute=REQUESTS_PER_MINUTE, rate_limit_window=WINDOW,
                                     timeout=TIMEOUT, rate_limit_timeout=0))  # a 429 fails at once
    return Client(config, transport=LateTransport(late_requests))


def arrival(entry):
    return datetime.strptime(entry["time"].replace("Z", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def assert_no_window_overfull(entries):
    assert [entry for entry in entries if entry["status"] == 429] == []
    arrivals = sorted(arrival(entry) for entry in entries)
    crowded = [(arrivals[index], arrivals[index + LIMIT]) for index in range(len(arrivals) - LIMIT)
               if arrivals[index + LIMIT] - arrivals[index] < WINDOW - STAMP_SLACK_SECONDS]
    assert crowded == [], "%d arrivals within %g s" % (LIMIT + 1, WINDOW)


@pytest.fixture
def scaled_sim(make_sim):
    return make_sim(devices=1500, rate_limit=LIMIT, window=WINDOW)


def test_requests_that_arrive_late_draw_no_429(scaled_sim):
    with scaled_client(scaled_sim, late_requests=(10, 21)) as client:
        devices = list(client.devices.list())
        metrics = client.metrics
    assert len(devices) == 1500
    entries = scaled_sim.request_log()
    assert len(entries) == 1 + 30 == metrics["requests"] and metrics["throttled"] == 0
    assert_no_window_overfull(entries)


def test_a_slow_answer_holds_back_the_request_a_budget_later(scaled_sim):
    """The simulator answers page 9 late, after counting it: page 19 starts a window after that answer at least."""
    scaled_sim.add_fault("slow", count=1, endpoint="devices", after=8, seconds=LATE_SECONDS)
    with scaled_client(scaled_sim) as client:
        assert len(list(client.devices.list())) == 1500
    entries = scaled_sim.request_log()
    assert_no_window_overfull(entries)
    slow = [index for index, entry in enumerate(entries) if entry["fault"] == "slow"]
    assert len(slow) == 1
    slow_entry, budget_later = entries[slow[0]], entries[slow[0] + LIMIT]
    answered = arrival(slow_entry) + slow_entry["duration_ms"] / 1000.0
    assert arrival(budget_later) >= answered + WINDOW


def test_two_processes_of_one_account_with_late_requests_draw_no_429(scaled_sim):
    """Two clients with pacers of their own share the account's pace file, as two tasks of a play do."""
    outcomes = {}

    def list_fleet(name, late_requests):
        try:
            with scaled_client(scaled_sim, late_requests) as client:
                outcomes[name] = len(list(client.devices.list(max_devices=1000)))
        except Exception as error:  # pylint: disable=broad-exception-caught  # reported below
            outcomes[name] = error

    threads = [threading.Thread(target=list_fleet, args=("first", (5, 14))),
               threading.Thread(target=list_fleet, args=("second", (9,)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert outcomes == dict(first=1000, second=1000)
    entries = scaled_sim.request_log()
    assert len(entries) == 2 * (1 + 20)
    assert_no_window_overfull(entries)
