# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rate_limit_store: the pace and the token cache shared through Redis (fakeredis), the fallback, the choice."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import tempfile

import fakeredis
import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import connection, redis_store
from ansible_collections.opswat.it_access.plugins.module_utils.auth import TokenCache
from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import SharedPacer, account_pace_key
from ansible_collections.opswat.it_access.plugins.module_utils.redis_store import (
    RedisPacer, RedisStore, RedisTokenCache, shared_state)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCOUNT, API_URL, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, FakeClock, FakeTransport, expect_token, make_config)

STORE_URL = "redis://127.0.0.1:6399/0"
PASSWORD = "Redis-Pass-4f1e9c"


@pytest.fixture
def server():
    return fakeredis.FakeServer()


def store_config(**overrides):
    values = dict(rate_limit_store=STORE_URL, requests_per_minute=60, rate_limit_window=60)
    values.update(overrides)
    return make_config(**values)


class Machine(object):
    """One machine: its own local state directory, a connection to the shared (fake) Redis, one clock for all."""

    def __init__(self, server, clock, directory, config=None, name="m"):
        self.config = config or store_config()
        self.warnings = []
        self.connection = fakeredis.FakeRedis(server=server)
        self.store = RedisStore(self.config, self.warnings.append, connection=self.connection, clock=clock)
        interval = 60.0 / self.config.requests_per_minute
        budget = max(1, int(self.config.requests_per_minute * self.config.rate_limit_window / 60))
        self.local = SharedPacer(interval, "local-" + name, clock=clock, sleep=clock.sleep, directory=str(directory),
                                 window=self.config.rate_limit_window, budget=budget)
        self.pacer = RedisPacer(self.store, account_pace_key(self.config), self.local, interval,
                                self.config.rate_limit_window, budget, 60.0, sleep=clock.sleep, local_clock=clock)

    def request(self, latency=0.0, clock=None):
        slept = self.pacer.wait_turn()
        if clock is not None:
            clock.now += latency
        self.pacer.record_answer()
        return slept


def shared_state_of(server, pacer):
    return json.loads(fakeredis.FakeRedis(server=server).get(pacer.key))


# ---------------------------------------------------------------------- the pace


def test_two_machines_take_slots_one_interval_apart(server, tmp_path):
    clock = FakeClock()
    first = Machine(server, clock, tmp_path / "a")
    second = Machine(server, clock, tmp_path / "b")
    assert first.request() == 0.0
    assert second.request() == pytest.approx(1.0)  # the other machine's request: one interval later
    assert first.request() == pytest.approx(1.0)
    assert not first.warnings and not second.warnings
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # the local files were not needed


def test_the_window_budget_counts_the_other_machines_answers(server, tmp_path):
    clock = FakeClock()
    config = store_config(requests_per_minute=600, rate_limit_window=1)  # 10 a 1-second window, 0.1 s apart
    first = Machine(server, clock, tmp_path / "a", config)
    second = Machine(server, clock, tmp_path / "b", config)
    start = clock.now
    first.request(latency=0.5, clock=clock)  # answered at start + 0.5: the 11th request waits for start + 1.5
    for _index in range(9):
        second.request()
    second.request()
    assert clock.now == pytest.approx(start + 1.5)


def test_the_most_conservative_requests_per_minute_wins(server, tmp_path):
    clock = FakeClock()
    fast = Machine(server, clock, tmp_path / "a", store_config(requests_per_minute=60))
    slow = Machine(server, clock, tmp_path / "b", store_config(requests_per_minute=12))  # 5 s apart
    fast.request()
    slow.request()  # registers its limit
    assert fast.request() == pytest.approx(5.0)
    assert fast.request() == pytest.approx(5.0)


def test_a_reservation_lost_to_another_client_is_taken_again(server, tmp_path):
    """Two clients read the same state; the one that writes second must not take the same slot."""
    clock = FakeClock()
    first = Machine(server, clock, tmp_path / "a")
    second = Machine(server, clock, tmp_path / "b")
    read = first.store.read
    raced = []

    def read_then_lose_the_race(key):
        value = read(key)
        if not raced:
            raced.append(True)
            second.request()  # writes between this read and the compare-and-set
        return value

    first.store.read = read_then_lose_the_race
    assert first.request() == pytest.approx(1.0)
    starts = sorted(start for start, _deadline in shared_state_of(server, first.pacer)["in_flight"].values())
    assert starts == []  # both answered
    assert shared_state_of(server, first.pacer)["next"] == pytest.approx(clock.now)


def test_the_shared_state_and_its_key_hold_no_secret(server, tmp_path):
    clock = FakeClock()
    config = store_config(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    machine = Machine(server, clock, tmp_path, config)
    machine.request()
    connection = fakeredis.FakeRedis(server=server)
    for key in connection.keys("*"):
        text = key.decode() + connection.get(key).decode()
        assert CLIENT_ID not in text and CLIENT_SECRET not in text and API_URL not in text


def test_rate_limit_key_names_the_pace_for_two_applications():
    one = store_config(access_token=None, client_id="app-one", client_secret="s1", rate_limit_key="tenant-7")
    two = store_config(access_token=None, client_id="app-two", client_secret="s2", rate_limit_key="tenant-7")
    alone = store_config(access_token=None, client_id="app-two", client_secret="s2")
    assert account_pace_key(one) == account_pace_key(two) != account_pace_key(alone)
    assert "tenant-7" not in account_pace_key(one)


# ---------------------------------------------------------------------- Redis down, and back


def test_redis_down_falls_back_to_the_local_pace_with_one_warning_and_rejoins_without_a_burst(server, tmp_path):
    clock = FakeClock()
    config = store_config(requests_per_minute=600, rate_limit_window=1)
    machine = Machine(server, clock, tmp_path / "a", config)
    machine.request()
    server.connected = False
    for _index in range(3):
        machine.request()  # paced by the local file
    assert not machine.pacer.shared
    assert len(machine.warnings) == 1 and "cannot be used" in machine.warnings[0]
    assert "127.0.0.1:6399" in machine.warnings[0]
    local_answers = list(machine.pacer._local_answers)
    assert len(local_answers) == 3
    server.connected = True
    machine.request()
    assert machine.pacer.shared and "answers again" in machine.warnings[-1]
    answered = shared_state_of(server, machine.pacer)["answered"]
    assert all(any(abs(moment - local) < 1e-6 for moment in answered) for local in local_answers)
    # The other machine now counts them in the window: it sees every one of this machine's answers.
    assert len(answered) == 5


def test_after_a_fallback_the_local_pace_knows_the_requests_paced_through_redis(server, tmp_path):
    clock = FakeClock()
    machine = Machine(server, clock, tmp_path)
    machine.request()
    server.connected = False
    assert machine.request() == pytest.approx(1.0)  # not at once: the local pacer was told of the last start


def test_a_store_that_keeps_losing_the_race_falls_back_rather_than_delay_without_bound(server, tmp_path):
    clock = FakeClock()
    machine = Machine(server, clock, tmp_path)
    attempts = []
    machine.store.compare_and_set = lambda *args: attempts.append(args) and False
    assert machine.request() == 0.0
    assert not machine.pacer.shared and len(attempts) == redis_store.MAX_STEP_ATTEMPTS
    assert len(machine.warnings) == 1 and "no reservation could be made" in machine.warnings[0]


def test_a_slow_store_falls_back_within_a_bounded_time(server, tmp_path):
    clock = FakeClock()
    machine = Machine(server, clock, tmp_path)
    elapsed = [0.0]
    machine.pacer._monotonic = lambda: elapsed[0]

    def slow_and_lost(*args):
        elapsed[0] += 0.9  # each compare-and-set takes 0.9 s, and another client wins it
        return False

    machine.store.compare_and_set = slow_and_lost
    assert machine.request() == 0.0
    assert not machine.pacer.shared
    assert elapsed[0] <= redis_store.MAX_STEP_SECONDS + 0.9


def test_the_store_connects_with_short_timeouts_and_no_retries():
    client = redis_store._connect(store_config(rate_limit_store="redis://:%s@127.0.0.1:6399/2" % PASSWORD))
    options = client.connection_pool.connection_kwargs
    assert options["socket_connect_timeout"] == redis_store.CONNECT_TIMEOUT_SECONDS
    assert options["socket_timeout"] == redis_store.ANSWER_TIMEOUT_SECONDS
    assert options["db"] == 2 and options["password"] == PASSWORD
    assert client.get_retry()._retries == 0


def test_an_unreachable_redis_never_fails_a_task_and_its_password_never_shows(tmp_path):
    """A real connection to a port where nothing listens: the task completes on the local pace."""
    config = store_config(rate_limit_store="redis://:%s@127.0.0.1:1/0" % PASSWORD)
    warnings = []
    transport = FakeTransport()
    transport.expect("POST", ACCOUNT, body={})
    clock = FakeClock()
    with Client(config, transport=transport, clock=clock, sleep=clock.sleep, warn=warnings.append) as client:
        client.account.get()
        assert client.redact("x %s y" % PASSWORD) == "x ******** y"
    transport.assert_done()
    assert len(warnings) == 1 and "rate_limit_store redis://127.0.0.1:1/0 cannot be used" in warnings[0]
    assert PASSWORD not in warnings[0]


# ---------------------------------------------------------------------- the token cache


def token_cache(server, clock):
    store = RedisStore(store_config(), lambda message: None, connection=fakeredis.FakeRedis(server=server))
    return RedisTokenCache(store, API_URL, CLIENT_ID, CLIENT_SECRET, clock=clock)


def test_the_token_is_shared_encrypted_and_expires_with_it(server):
    clock = FakeClock()
    token_cache(server, clock).store(FETCHED_TOKEN, clock.now + 100)
    other_machine = token_cache(server, clock)
    token, expires_at = other_machine.load()
    assert token == FETCHED_TOKEN and clock.now + 99 <= expires_at <= clock.now + 100
    connection = fakeredis.FakeRedis(server=server)
    (key,) = connection.keys("*")
    assert FETCHED_TOKEN.encode() not in connection.get(key) and CLIENT_ID.encode() not in key
    assert 99000 <= connection.pttl(key) <= 100000
    other_machine.discard(FETCHED_TOKEN)
    assert connection.keys("*") == []


def test_the_token_cache_falls_back_to_the_file_while_redis_is_down(server):
    clock = FakeClock()
    cache = token_cache(server, clock)
    server.connected = False
    assert cache.store(FETCHED_TOKEN, clock.now + 100)
    assert TokenCache(API_URL, CLIENT_ID, CLIENT_SECRET, clock=clock).load()[0] == FETCHED_TOKEN
    assert cache.load()[0] == FETCHED_TOKEN


def test_two_machines_fetch_one_token(server, monkeypatch, tmp_path):
    monkeypatch.setattr(redis_store, "_connect", lambda config: fakeredis.FakeRedis(server=server))
    config = store_config(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_cache=True)
    transport = FakeTransport()
    expect_token(transport, expires_in=3600)
    transport.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    transport.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    for machine in ("a", "b"):  # separate state directories: the local file cannot help
        (tmp_path / machine).mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / machine))
        with Client(config, transport=transport) as client:
            client.account.get()
    transport.assert_done()


# ---------------------------------------------------------------------- the option


def test_a_redis_url_needs_the_redis_library_before_any_request(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "redis"
                        else real_find_spec(name, *args))
    with pytest.raises(InputError) as error:
        connection.config_from_params(dict(access_token="t", rate_limit_store="redis://:%s@r:6379" % PASSWORD))
    assert error.value.option == "rate_limit_store" and "pip install redis" in str(error.value)
    assert PASSWORD not in str(error.value)


@pytest.mark.parametrize("url, reason", [
    ("memcached://host", "must be local, or a redis:// or rediss:// URL"),
    ("redis://", "must be local, or a redis:// or rediss:// URL"),
    ("redis://:%s@host:99999" % PASSWORD, "the port must be"),
    ("redis://:%s@host/name" % PASSWORD, "database number"),
    ("Local", "must be local"),
])
def test_a_bad_store_is_an_error_naming_the_option_and_never_the_password(url, reason):
    with pytest.raises(InputError) as error:
        connection.config_from_params(dict(access_token="t", rate_limit_store=url))
    assert error.value.option == "rate_limit_store" and reason in str(error.value)
    assert PASSWORD not in str(error.value)


def test_the_choice_is_made_in_one_place(tmp_path):
    local_pacer, local_cache = shared_state(make_config(token_cache=True, access_token=None, client_id=CLIENT_ID,
                                                        client_secret=CLIENT_SECRET))
    assert isinstance(local_pacer, SharedPacer) and not isinstance(local_pacer, RedisPacer)
    assert isinstance(local_cache, TokenCache) and not isinstance(local_cache, RedisTokenCache)
    pacer, cache = shared_state(store_config(token_cache=True, access_token=None, client_id=CLIENT_ID,
                                             client_secret=CLIENT_SECRET), connection=fakeredis.FakeRedis())
    assert isinstance(pacer, RedisPacer) and isinstance(cache, RedisTokenCache)
    assert pacer.key == "opswat_it_access:pace:" + account_pace_key(make_config(
        access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET))
