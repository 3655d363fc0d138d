# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pacer (spacing, the window rule, the pace shared by processes), the pace maths and the 429 policy."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from email.utils import formatdate

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import ratelimit, state
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.connection import ConnectionConfig
from ansible_collections.opswat.it_access.plugins.module_utils.errors import ApiError, RateLimitError, TransportError
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import (
    Pacer, SharedPacer, default_pacer, normalised_url, pace_key)
from ansible_collections.opswat.it_access.plugins.module_utils.state import state_directory
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED, TIMEOUT
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, ACTION, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, GROUPS, FakeClock, FakeTransport,
    credentials, expect_token, make_config)


# ---------------------------------------------------------------------- the pacer


def test_in_process_pacer_spaces_requests_from_their_start():
    clock = FakeClock()
    pacer = Pacer(6.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait_turn() == 0.0  # the first request is not delayed
    clock.now += 2.5  # the request itself took 2.5 s: the gap counts from its start
    assert pacer.wait_turn() == pytest.approx(3.5)
    clock.now += 10
    assert pacer.wait_turn() == 0.0
    assert clock.sleeps == [pytest.approx(3.5)]


def test_shared_pacer_spaces_two_instances(tmp_path):
    clock = FakeClock()
    first = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    second = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert first.wait_turn() == 0.0
    assert second.wait_turn() == 5.0
    assert first.wait_turn() == 5.0
    other_account = SharedPacer(5.0, "other", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert other_account.wait_turn() == 0.0
    assert first.shared and second.shared


def test_reservations_queue_up_without_holding_the_lock():
    """Three processes asking at the same instant get three slots, one interval apart."""
    clock = FakeClock()
    slots = []
    for _attempt in range(3):
        pacer = SharedPacer(4.0, "k", clock=clock, sleep=slots.append)
        pacer.wait_turn()
    assert slots == [4.0, 8.0]


def read_state(pacer):
    with open(pacer.path, "rb") as handle:
        return ratelimit.parse_state(handle.read())


@pytest.mark.parametrize("content", [b"garbage", b"nan", b"", b"\xff\xfe", b"[1, 2]", b'{"next": "soon"}',
                                     b'{"answered": [1, "x", NaN], "in_flight": {"a": [1], "b": "c"}}'])
def test_unreadable_state_is_ignored(tmp_path, content):
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=60, budget=10)
    with open(pacer.path, "wb") as handle:
        handle.write(content)
    assert pacer.wait_turn() == 0.0
    state = read_state(pacer)
    assert state["next"] == clock.now
    assert list(state["in_flight"].values()) == [[clock.now, clock.now + ratelimit.DEFAULT_IN_FLIGHT_SECONDS]]
    assert state["answered"] == []


def test_a_reservation_far_in_the_future_is_not_believed(tmp_path):
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    with open(pacer.path, "w", encoding="ascii") as handle:
        json.dump({"next": clock.now + 10 * 3600}, handle)  # the wall clock was set back
    assert pacer.wait_turn() == 0.0


def test_answers_and_requests_far_in_the_future_are_not_believed(tmp_path):
    clock = FakeClock()
    pacer = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=60, budget=1)
    far = clock.now + 10 * 3600  # written before the wall clock was set back
    with open(pacer.path, "wb") as handle:
        handle.write(ratelimit.serialize_state(dict(next=None, answered=[far], in_flight={"x": [far, far + 60]})))
    assert pacer.wait_turn() == 0.0


def test_falls_back_to_in_process_pacing_when_the_file_is_unusable(tmp_path):  # and says so
    clock = FakeClock()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    messages = []
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(blocker), on_fallback=messages.append)
    assert pacer.wait_turn() == 0.0
    assert not pacer.shared
    assert len(messages) == 1 and "no longer shared" in messages[0] and str(blocker) in messages[0]
    assert pacer.wait_turn() == 5.0  # still paced, within the process


def test_falls_back_when_the_directory_belongs_to_another_user(monkeypatch, tmp_path):
    clock = FakeClock()
    messages = []
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), on_fallback=messages.append)
    monkeypatch.setattr(os, "getuid", lambda: os.lstat(str(tmp_path)).st_uid + 1)
    assert pacer.wait_turn() == 0.0
    assert not pacer.shared and messages
    assert not os.path.exists(pacer.path)


def test_falls_back_without_fcntl(monkeypatch, tmp_path):
    monkeypatch.setattr(state, "fcntl", None)
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert not pacer.shared
    assert pacer.wait_turn() == 0.0
    assert pacer.wait_turn() == 5.0
    assert not os.path.exists(pacer.path)


def test_pace_key_never_holds_the_secret():
    token_key = pace_key("https://a.test", access_token="the-token")
    assert "the-token" not in token_key
    assert token_key == pace_key("https://a.test", access_token="the-token")
    assert token_key != pace_key("https://b.test", access_token="the-token")
    assert token_key != pace_key("https://a.test", access_token="another-token")
    assert pace_key("https://a.test", client_id="id", access_token="x") == pace_key("https://a.test", client_id="id")


def test_default_pacer_lives_under_the_temp_directory(tmp_path):
    config = ConnectionConfig(api_url="https://a.test", access_token="the-token", requests_per_minute=12)
    pacer = default_pacer(config)
    assert pacer.min_interval == pytest.approx(5.05)  # 60 / 12, plus the 1% margin
    assert os.path.dirname(pacer.path) == os.path.join(str(tmp_path), "opswat_it_access-%d" % os.getuid())
    assert "the-token" not in pacer.path


@pytest.mark.parametrize("spelling", [
    "http://LOCALHOST:8080", "http://127.0.0.1:8080/", "HTTP://localhost:8080//", "http://[::1]:8080",
    "http://localhost.:8080"])
def test_one_pace_for_every_spelling_of_the_same_url(spelling):
    assert normalised_url(spelling) == "http://loopback:8080"
    assert pace_key(spelling, client_id="id") == pace_key("http://localhost:8080", client_id="id")


@pytest.mark.parametrize("spelling, same_as", [
    ("https://Tenant.Example.COM:443/", "https://tenant.example.com"),
    ("http://tenant.example.com:80", "http://tenant.example.com"),
    ("https://tenant.example.com/Base/", "https://tenant.example.com/Base"),
])
def test_case_default_port_and_trailing_slash_do_not_make_another_pace(spelling, same_as):
    assert pace_key(spelling, client_id="id") == pace_key(same_as, client_id="id")


@pytest.mark.parametrize("one, other", [
    ("http://localhost:8080", "http://localhost:8081"),
    ("http://localhost:8080", "https://localhost:8080"),
    ("https://a.example.com", "https://b.example.com"),
    ("https://a.example.com/Base", "https://a.example.com/base"),  # a path may be case-sensitive
    ("http://127.0.0.2:8080", "http://127.0.0.1:8080"),  # another loopback address: another server may listen
])
def test_different_services_keep_different_paces(one, other):
    assert pace_key(one, client_id="id") != pace_key(other, client_id="id")


# Run in a fresh interpreter that imports ratelimit.py from the tree under test (given as the directory holding
# ansible_collections): no fork of the test process (which may have threads), and no collection loader in the child.
CHILD_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import SharedPacer
pacer = SharedPacer(float(sys.argv[3]), "cross-process", directory=sys.argv[2])
for _attempt in range(3):
    pacer.wait_turn()
    # The reserved start, not time.time() after the sleep: a busy machine must not make the test flaky.
    print(repr(pacer._last_start), flush=True)
"""


@pytest.mark.skipif(not state.file_locks_available(), reason="needs fcntl")
def test_two_real_processes_share_the_pace(tmp_path):
    interval = 0.15
    collections_root = os.path.abspath(os.path.join(os.path.dirname(ratelimit.__file__), *[os.pardir] * 5))
    command = [sys.executable, "-c", CHILD_SCRIPT, collections_root, str(tmp_path), str(interval)]
    # Both must run at once, so no `with` around each; communicate() below reaps them.
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, universal_newlines=True)  # pylint: disable=consider-using-with
                for _attempt in range(2)]
    starts = []
    for child in children:
        output, _errors = child.communicate(timeout=60)
        assert child.returncode == 0
        starts.extend(float(line) for line in output.split())
    starts.sort()
    assert len(starts) == 6
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert min(gaps) >= interval - 1e-6, gaps


# ---------------------------------------------------------------------- the window rule


def run_requests(pacer, clock, latencies):
    """Send one request per latency, one after the other; returns their starts."""
    starts = []
    for latency in latencies:
        pacer.wait_turn()
        starts.append(clock.now)
        clock.now += latency
        pacer.record_answer()
    return starts


def gaps(starts):
    return [round(later - earlier, 6) for earlier, later in zip(starts, starts[1:])]


def test_without_latency_the_window_rule_costs_nothing(tmp_path):
    """At 10 a minute with the 1% margin, ten starts span 60.6 s: the spacing alone already keeps the window."""
    clock = FakeClock()
    pacer = SharedPacer(6.06, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=60, budget=10)
    starts = run_requests(pacer, clock, [0.5] * 25)  # answers within the margin (0.6 s at this scale)
    assert gaps(starts) == [6.06] * 24


def test_a_late_answer_delays_request_n_plus_budget(tmp_path):
    """Request 0 answers 3 s after its start, so it may have arrived as late as that: request 10 (the budget) waits
    for that answer plus the window, not only for its slot."""
    clock = FakeClock()
    start = clock.now
    pacer = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=10)
    starts = run_requests(pacer, clock, [3.0] + [0.0] * 11)
    assert [round(moment - start, 6) for moment in starts[:10]] == [0, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert starts[10] - start == pytest.approx(3.0 + 10)  # answer of request 0 + window; its slot was 12
    assert starts[11] - start == pytest.approx(14.0)  # the spacing again: request 1 answered at 3 (+ 10 = 13)
    # Whatever the arrivals (each between its start and its answer), no 10 s window holds 11 requests.
    answers = [moment + latency for moment, latency in zip(starts, [3.0] + [0.0] * 11)]
    assert all(starts[index + 10] >= answers[index] + 10 - 1e-9 for index in range(len(starts) - 10))


def test_the_window_rule_alone_without_spacing_allows_the_budget_and_no_more(tmp_path):
    clock = FakeClock()
    start = clock.now
    pacer = SharedPacer(0.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=3)
    starts = run_requests(pacer, clock, [1.0] * 7)
    # Three in a row (each waits for the previous answer), then each waits for the answer three back + 10 s.
    assert [round(moment - start, 6) for moment in starts] == [0, 1, 2, 11, 12, 13, 22]


def test_a_request_in_flight_in_another_process_holds_the_next_back_until_its_answer(tmp_path):
    clock = FakeClock()
    start = clock.now
    other = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=1)
    other.wait_turn()  # another process's request is on its way, no answer yet

    def sleep_while_the_other_answers_late(seconds):
        clock.sleep(seconds)
        if clock.now - start >= 7:
            other.record_answer()  # it answers while this process waits: 10 s after its start

    this = SharedPacer(1.0, "k", clock=clock, sleep=sleep_while_the_other_answers_late, directory=str(tmp_path),
                       window=10, budget=1)
    this.wait_turn()
    # Not at its slot (1 s), nor a window after the other's start: a window after the other's answer.
    assert clock.now - start == pytest.approx(20.0)
    assert len(read_state(this)["in_flight"]) == 1  # this one's own request, now on its way


def test_a_request_in_flight_in_another_process_counts_within_the_budget(tmp_path):
    clock = FakeClock()
    start = clock.now
    other = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=2)
    other.wait_turn()  # in flight for good
    this = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=2)
    starts = run_requests(this, clock, [0.0] * 3)
    # The budget is 2: with the other's request unanswered, each of these waits for the one before it + 10 s.
    assert [round(moment - start, 6) for moment in starts] == [1, 11, 21]


def test_a_stale_request_in_flight_counts_as_answered_at_its_deadline(tmp_path):
    """A process that died between its start and its answer holds the others back, but not for ever."""
    clock = FakeClock()
    start = clock.now
    crashed = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=1,
                          in_flight_seconds=30)
    crashed.wait_turn()
    del crashed  # never answers
    this = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=1)
    this.wait_turn()
    assert clock.now - start == pytest.approx(30.0 + 10.0)  # its deadline, then a window
    state = read_state(this)
    assert len(state["in_flight"]) == 1 and state["answered"] == []  # 30 + 10: it can hold nothing back now


def test_an_answer_reported_after_its_deadline_still_counts(tmp_path):
    clock = FakeClock()
    start = clock.now
    slow = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=1,
                       in_flight_seconds=5)
    slow.wait_turn()
    clock.now += 50  # past its deadline and the window after it: forgotten...
    slow.record_answer()  # ...until it reports its answer, which is what the rule counts from
    assert read_state(slow)["answered"] == [start + 50]
    this = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=1)
    assert this.wait_turn() == pytest.approx(10.0)


def test_the_state_keeps_only_what_can_hold_a_request_back(tmp_path):
    clock = FakeClock()
    pacer = SharedPacer(0.5, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=4)
    run_requests(pacer, clock, [0.1] * 50)
    state = read_state(pacer)
    assert len(state["answered"]) == 4 and state["in_flight"] == {}
    clock.now += 10
    pacer.wait_turn()
    assert read_state(pacer)["answered"] == []  # older than a window: none can matter any more


def test_the_in_process_pacer_keeps_the_window_rule_too():
    clock = FakeClock()
    start = clock.now
    pacer = Pacer(1.0, clock=clock, sleep=clock.sleep, window=10, budget=10)
    starts = run_requests(pacer, clock, [3.0] + [0.0] * 10)
    assert starts[10] - start == pytest.approx(13.0)


def test_the_fallback_keeps_the_window_rule_and_what_the_file_said(tmp_path):
    clock = FakeClock()
    start = clock.now
    messages = []
    pacer = SharedPacer(1.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), window=10, budget=2,
                        on_fallback=messages.append)
    run_requests(pacer, clock, [4.0])
    os.remove(pacer.path)
    os.mkdir(pacer.path)  # the file becomes unusable (a directory cannot be opened for writing, even by root)
    starts = run_requests(pacer, clock, [0.0, 0.0])
    assert not pacer.shared and len(messages) == 1
    assert [round(moment - start, 6) for moment in starts] == [4, 14]  # the first answer (4) + the window


def test_default_pacer_takes_the_window_budget_and_in_flight_time_from_the_config():
    config = ConnectionConfig(api_url="https://a.test", access_token="t", requests_per_minute=600,
                              rate_limit_window=1, timeout=7)
    pacer = default_pacer(config)
    assert (pacer.window, pacer.budget, pacer.in_flight_seconds) == (1.0, 10, 14.0)
    assert pacer.min_interval == pytest.approx(0.101)


# ---------------------------------------------------------------------- the session's requests, paced


def test_pace_margin_spaces_requests_one_percent_above_the_budget(harness):
    for _attempt in range(2):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(make_config(requests_per_minute=10, pace_margin=1.01))
    client.account.get()
    client.account.get()
    first, second = [call.time for call in harness.transport.calls]
    assert second - first == pytest.approx(6.06)


@pytest.mark.parametrize("requests_per_minute, interval", [(60, 1.0), (10, 6.0), (120, 0.5)])
def test_requests_are_evenly_spaced_and_pacing_is_not_waiting(harness, requests_per_minute, interval):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(requests_per_minute=requests_per_minute)
    for _attempt in range(4):
        client.account.get()
    times = [call.time for call in harness.transport.calls]
    assert times[0] == 1700000000.0  # the first request is not delayed
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [interval] * 3
    assert client.metrics == dict(requests=4, throttled=0, retries=0, waited_seconds=0.0)


def test_two_clients_of_the_same_account_share_the_pace(harness, tmp_path):
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    first = harness.client(requests_per_minute=10)
    second = harness.client(requests_per_minute=10)
    first.account.get()
    second.account.get()  # a second process: its first request waits for the first one's
    first.account.get()
    times = [call.time for call in harness.transport.calls]
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [6.0, 6.0]

    pace_files = os.listdir(state_directory())
    assert len(pace_files) == 1
    for name in pace_files:
        for secret in (ACCESS_TOKEN, CLIENT_ID, CLIENT_SECRET):
            assert secret not in name
        with open(os.path.join(state_directory(), name), encoding="ascii") as handle:
            assert ACCESS_TOKEN not in handle.read()


def test_clients_of_different_api_urls_do_not_share_the_pace(harness):
    other_transport = FakeTransport(api_url="https://other.example.test", clock=harness.clock)
    harness.expect("POST", ACCOUNT, body={})
    other_transport.expect("POST", ACCOUNT, body={})
    first = harness.client(requests_per_minute=10)
    second = Client(make_config(api_url="https://other.example.test", requests_per_minute=10),
                    transport=other_transport, clock=harness.clock, sleep=harness.clock.sleep)
    first.account.get()
    second.account.get()
    assert harness.clock.sleeps == []
    other_transport.assert_done()


def test_client_id_names_the_shared_pace(harness, tmp_path):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, body={})
    harness.client(**credentials()).account.get()
    names = os.listdir(state_directory())
    assert len(names) == 1
    assert CLIENT_ID not in names[0] and CLIENT_SECRET not in names[0] and FETCHED_TOKEN not in names[0]


def test_injected_pacer_is_used(harness):
    class CountingPacer(object):
        turns = 0

        answers = 0

        def wait_turn(self):
            self.turns += 1
            return 0.0

        def record_answer(self):
            self.answers += 1

        def close(self):
            pass

    pacer = CountingPacer()
    harness.expect("POST", ACCOUNT, body={})
    client = Client(make_config(), transport=harness.transport, clock=harness.clock, sleep=harness.clock.sleep,
                    pacer=pacer)
    client.account.get()
    assert (pacer.turns, pacer.answers) == (1, 1)


class RecordingPacer(object):
    """Records the order of turns and answers, with the time of each."""

    def __init__(self, clock):
        self.clock = clock
        self.events = []

    def wait_turn(self):
        self.events.append(("turn", self.clock.now))
        return 0.0

    def record_answer(self):
        self.events.append(("answer", self.clock.now))

    def close(self):
        pass


def test_every_answer_is_reported_to_the_pacer_success_error_429_and_failure(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1"})
    harness.expect("POST", ACCOUNT, status=503)
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, "read timed out"))
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    harness.expect("POST", GROUPS, status=400, body={"error": "bad"})
    harness.expect("POST", ACTION, fail=(DROPPED, "connection reset"))
    pacer = RecordingPacer(harness.clock)
    client = Client(make_config(), transport=harness.transport, clock=harness.clock, sleep=harness.clock.sleep,
                    pacer=pacer)
    client.session.backoff_jitter = lambda: 1.0
    client.account.get()
    with pytest.raises(ApiError):
        client.groups.list()
    with pytest.raises(TransportError):
        client.devices.action("exempt", ids=["d1"])
    assert [kind for kind, _moment in pacer.events] == ["turn", "answer"] * 6


def test_a_late_answer_holds_back_the_request_a_window_later(harness):
    """600 a minute in a 1 s window: 10 a window. The first answer takes 0.5 s, so the 11th request waits for that
    answer plus the window (1.5 s), not only for its slot (1.4 s)."""
    harness.transport.expect("POST", ACCOUNT, body={}, latency=0.5)
    for _attempt in range(10):
        harness.expect("POST", ACCOUNT, body={})
    client = harness.client(requests_per_minute=600, rate_limit_window=1)
    for _attempt in range(11):
        client.account.get()
    starts = [call.time - harness.transport.calls[0].time for call in harness.transport.calls]
    assert starts[1] == pytest.approx(0.5)  # one request at a time: after the first answer
    assert starts[9] == pytest.approx(1.3)
    assert starts[10] == pytest.approx(1.5)


# ---------------------------------------------------------------------- 429


def throttled_then_ok(harness, headers, count=1):
    for _attempt in range(count):
        harness.expect("POST", ACCOUNT, status=429, headers=headers, body={"error": "too many requests"})
    harness.expect("POST", ACCOUNT, body={"ok": 1})


@pytest.mark.parametrize("headers, wait", [
    ({"Retry-After": "7"}, 7.0),
    ({"retry-after": " 7 "}, 7.0),
    ({"Retry-After": "2.5"}, 2.5),
    ({"X-RateLimit-Reset-Time": "12"}, 12.0),
    ({"x-ratelimit-reset-time": "12"}, 12.0),
    ({"X-RateLimit-Reset-Time": str(1700000000 + 45)}, 45.0),  # an epoch timestamp
    ({"X-RateLimit-Reset-Time": str((1700000000 + 45) * 1000)}, 45.0),  # an epoch in milliseconds
    ({"Retry-After": "9", "X-RateLimit-Reset-Time": "30"}, 9.0),  # Retry-After wins
    ({}, 60.0),  # neither: a full window
    ({"Retry-After": "soon", "X-RateLimit-Reset-Time": "later"}, 60.0),
    ({"Retry-After": "-5"}, 60.0),
    ({"Retry-After": "nan", "X-RateLimit-Reset-Time": "inf"}, 60.0),
    ({"Retry-After": "Mon, 99 Foo 2023 25:61:00 GMT"}, 60.0),
    ({"Retry-After": "soon", "X-RateLimit-Reset-Time": "20"}, 20.0),  # garbage falls through to the next
    ({"Retry-After": "0"}, 1.0),  # never a zero wait: that would spin at the pacing rate
    ({"X-RateLimit-Reset-Time": str(1700000000 - 100)}, 1.0),  # a reset already past
])
def test_429_waits_as_the_headers_say(harness, headers, wait):
    throttled_then_ok(harness, headers)
    client = harness.client()
    assert client.account.get() == {"ok": 1}
    assert harness.clock.sleeps == [wait]  # no pacing gap on top: the wait already covers it
    assert client.metrics == dict(requests=2, throttled=1, retries=1, waited_seconds=wait)


def test_429_retry_after_http_date(harness):
    throttled_then_ok(harness, {"Retry-After": formatdate(1700000000 + 30, usegmt=True)})
    client = harness.client()
    client.account.get()
    assert harness.clock.sleeps == [30.0]
    assert client.metrics["waited_seconds"] == 30.0


def test_429_retry_after_http_date_in_the_past(harness):
    throttled_then_ok(harness, {"Retry-After": formatdate(1700000000 - 30, usegmt=True)})
    harness.client().account.get()
    assert harness.clock.sleeps == [1.0]


def test_429_wait_is_followed_without_extra_pacing(harness):
    throttled_then_ok(harness, {"Retry-After": "0.2"})
    client = harness.client(requests_per_minute=10)
    client.account.get()
    # 1 s (the floor) waited on the 429, then 5 s more of pacing: the gap is still 6 s.
    assert harness.clock.sleeps == [1.0, 5.0]
    assert client.metrics["waited_seconds"] == 1.0


def test_rate_limit_budget_exhausted(harness):
    for _attempt in range(3):
        harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "40"})
    client = harness.client(rate_limit_timeout=100)
    with pytest.raises(RateLimitError) as caught:
        client.account.get()
    message = str(caught.value)
    assert "rate limited" in message and "HTTP 429" in message
    assert "3 answer(s) with HTTP 429" in message
    assert "80.0 s waited" in message
    assert "rate_limit_timeout (100 s)" in message
    assert caught.value.waited_seconds == 80.0
    assert caught.value.to_fail_json()["waited_seconds"] == 80.0
    assert client.metrics == dict(requests=3, throttled=3, retries=2, waited_seconds=80.0)


def test_rate_limit_budget_is_for_the_lifetime_of_the_client(harness):
    throttled_then_ok(harness, {"Retry-After": "40"})
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "40"})
    client = harness.client(rate_limit_timeout=60)
    client.account.get()
    with pytest.raises(RateLimitError, match=r"2 answer\(s\) with HTTP 429"):
        client.account.get()


def test_rate_limit_timeout_zero_never_waits(harness):
    harness.expect("POST", ACCOUNT, status=429, headers={"Retry-After": "1"})
    client = harness.client(rate_limit_timeout=0)
    with pytest.raises(RateLimitError, match="rate_limit_timeout is 0") as caught:
        client.account.get()
    assert "HTTP 429" in str(caught.value)
    assert harness.clock.sleeps == []
    assert client.metrics == dict(requests=1, throttled=1, retries=0, waited_seconds=0.0)


def test_rate_limit_timeout_minus_one_waits_without_bound(harness):
    throttled_then_ok(harness, {"Retry-After": "1000"}, count=5)
    client = harness.client(rate_limit_timeout=-1)
    assert client.account.get() == {"ok": 1}
    assert client.metrics == dict(requests=6, throttled=5, retries=5, waited_seconds=5000.0)


def test_action_is_retried_after_429(harness):
    harness.expect("POST", ACTION, status=429, headers={"Retry-After": "3"})
    harness.expect("POST", ACTION, body=[{"id": "d1", "status": 1, "command_id": ""}])
    client = harness.client()
    assert client.devices.action("exempt", ids=["d1"]) == [{"id": "d1", "status": 1, "command_id": None}]
    assert client.metrics == dict(requests=2, throttled=1, retries=1, waited_seconds=3.0)
