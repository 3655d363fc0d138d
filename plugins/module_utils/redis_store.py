# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``rate_limit_store``: the pace and the token cache of an account shared through Redis by every machine, and
``shared_state()``, the one place that chooses them (Redis or this machine's files).

**The pace** keeps exactly the rules of ratelimit.py's ``Pacer``: each step (claim a start, record an answer) is
applied to the state read from Redis, in Redis' own time (``TIME``, so the machines' clocks do not matter), and
written back only if nobody changed it meanwhile (a compare-and-set script run on the server), so two clients can
never take the same slot: two round trips a step, four a request. Clients sharing a key write their limits into the state and the
most conservative is in force for all (the longest spacing and window, the smallest budget).

**The token** is kept encrypted exactly as on disk (auth.py's ``TokenCache``), under the digest that names the file,
and expires in Redis with the token.

**Never a new way to fail**: a Redis that cannot be reached within ``CONNECT_TIMEOUT_SECONDS``, or that answers an
error, makes the request use this machine's files instead, with a warning; the next request tries Redis again.
The requests paced locally meanwhile are written into the shared state when Redis is back, so that rejoining it
does not burst past the limit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time
from urllib.parse import urlsplit, urlunsplit

try:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:
    HAS_REDIS = False
else:
    HAS_REDIS = True

from ansible_collections.opswat.it_access.plugins.module_utils.connection import STORE_SCHEMES
from ansible_collections.opswat.it_access.plugins.module_utils.auth import TokenCache, default_token_cache
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import (
    MAX_RESERVATION_AHEAD_SECONDS, MAX_STATE_BYTES, Pacer, account_pace_key, default_pacer, parse_state,
    serialize_state)

# A request waits at most this long for Redis to connect, and as long again for each of its answers.
CONNECT_TIMEOUT_SECONDS = 1.0
ANSWER_TIMEOUT_SECONDS = 1.0
KEY_PREFIX = "opswat_it_access:"
# A step that keeps losing its compare-and-set to other clients, or whose Redis is slow, falls back rather than delay
# the request without bound: after this many attempts, or once this many seconds have passed.
MAX_STEP_ATTEMPTS = 20
MAX_STEP_SECONDS = 2.0
# How long the limits a client wrote stay in force after its last request: two of its windows and spacings.
LIMITS_KEPT_WINDOWS = 2

# KEYS[1]: the state's key; ARGV: the value read (empty: none), the new value, its time to live in milliseconds.
COMPARE_AND_SET = """
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class StoreUnavailable(Exception):
    """Redis could not be used for this step: the caller uses this machine's files."""


def is_redis_url(value):
    return bool(value) and urlsplit(value).scheme in STORE_SCHEMES


def describe_store(url):
    """The store's URL without its user name and password, for messages."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = "[%s]" % netloc
    if parts.port:
        netloc = "%s:%d" % (netloc, parts.port)
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _connect(config):
    """A Redis client of ``config.rate_limit_store``: lazy (nothing is sent until the first step), no retries."""
    options = dict(socket_connect_timeout=CONNECT_TIMEOUT_SECONDS, socket_timeout=ANSWER_TIMEOUT_SECONDS,
                   retry=Retry(NoBackoff(), 0), health_check_interval=0)
    if config.rate_limit_store_password:
        options["password"] = config.rate_limit_store_password
    if urlsplit(config.rate_limit_store).scheme == "rediss" and config.rate_limit_store_ca_path:
        options["ssl_ca_certs"] = config.rate_limit_store_ca_path
    return redis.Redis.from_url(config.rate_limit_store, **options)


class RedisStore(object):
    """One Redis of ``rate_limit_store``: the few operations the pace and the token cache need, each raising
    ``StoreUnavailable`` (after one warning per outage) when Redis cannot be used.

    ``connection`` and ``clock`` (instead of Redis ``TIME``) are for tests.
    """

    def __init__(self, config, warn, connection=None, clock=None):
        self.description = describe_store(config.rate_limit_store)
        self._redis = connection if connection is not None else _connect(config)
        self._warn = warn
        self._clock = clock
        self._compare_and_set = self._redis.register_script(COMPARE_AND_SET)
        self.down = False  # the last operation failed

    def give_up(self, reason):
        """Raise ``StoreUnavailable``, warning first unless this outage was already reported."""
        if not self.down:
            self.down = True
            self._warn("rate_limit_store %s cannot be used (%s): the pace and the access token are shared"
                       " only with the tasks of this machine until Redis is back; tasks on other machines"
                       " may draw 429 answers meanwhile" % (self.description, reason))
        raise StoreUnavailable()

    def _run(self, operation):
        try:
            result = operation()
        except (redis.RedisError, OSError, ValueError) as error:
            reason = _reason(error)
        else:
            reason = None
        if reason is not None:  # raised outside the except block: the error is not chained to it
            self.give_up(reason)
        if self.down:
            self.down = False
            self._warn("rate_limit_store %s answers again: the pace and the access token are shared through it"
                       " again" % self.description)
        return result

    def read(self, key):
        """``(Redis time in seconds, the value of key or None)``, in one round trip."""
        def operation():
            pipe = self._redis.pipeline(transaction=False)
            pipe.time()
            pipe.get(key)
            (seconds, microseconds), value = pipe.execute()
            return (self._clock() if self._clock else seconds + microseconds / 1e6), value
        return self._run(operation)

    def compare_and_set(self, key, expected, value, ttl_seconds):
        """Set ``key`` to ``value`` if it still holds ``expected`` (None: no value); returns whether it did."""
        return bool(self._run(lambda: self._compare_and_set(
            keys=[key], args=[expected or b"", value, max(1, int(ttl_seconds * 1000))])))

    def get_with_ttl(self, key):
        """``(value or None, milliseconds it has left)``, in one round trip."""
        def operation():
            pipe = self._redis.pipeline(transaction=False)
            pipe.get(key)
            pipe.pttl(key)
            return tuple(pipe.execute())
        return self._run(operation)

    def put(self, key, value, ttl_seconds):
        self._run(lambda: self._redis.set(key, value, px=max(1, int(ttl_seconds * 1000))))

    def delete(self, key):
        self._run(lambda: self._redis.delete(key))

    def close(self):
        try:
            self._redis.close()
        except Exception:  # pylint: disable=broad-exception-caught  # closing a dead connection must not fail
            pass


def _reason(error):
    """What went wrong, in redis-py's words (they name the host and port, never the password)."""
    return ("%s: %s" % (error.__class__.__name__, error)).rstrip(": ")


class RedisPacer(Pacer):
    """``Pacer``'s rules on a state shared in Redis by every client of the account; ``local`` (the machine's
    ``SharedPacer``) paces the requests Redis cannot.

    ``local_clock`` is the local pacer's clock (wall-clock time): it converts the requests paced locally into
    Redis time when Redis answers again.
    """

    def __init__(self, store, key, local, min_interval, window, budget, in_flight_seconds, sleep=None,
                 local_clock=None):
        super(RedisPacer, self).__init__(min_interval, sleep=sleep, window=window, budget=budget,
                                         in_flight_seconds=in_flight_seconds)
        self.key = KEY_PREFIX + "pace:" + key
        self._store = store
        self._local = local
        self._local_clock = local_clock or time.time
        self._monotonic = time.monotonic  # an attribute, so that tests can move it
        self._own_limits = (self.min_interval, self.window, self.budget)
        self._via_local = False  # the last request was paced by the local pacer
        # Local clock. This client's last start and answers, for the local pacer to know them after a fallback;
        # those paced locally, for the shared state to know them when Redis answers again.
        self._own_start = None
        self._own_answers = []
        self._local_starts = []
        self._local_answers = []

    @property
    def shared(self):
        """Whether the last request was paced with every machine (false while Redis cannot be used)."""
        return not self._via_local

    def wait_turn(self):
        try:
            slept = Pacer.wait_turn(self)
            self._via_local = False
        except StoreUnavailable:
            if not self._via_local:
                self._seed_local()
            self._via_local = True
            slept = self._local.wait_turn()
            self._local_starts = [self._local_clock()]
        self._own_start = self._local_clock()
        return slept

    def record_answer(self):
        keep = self._own_limits[2] or 1
        self._own_answers = (self._own_answers + [self._local_clock()])[-keep:]
        if self._via_local:
            self._local.record_answer()
            self._local_answers = (self._local_answers + [self._local_clock()])[-keep:]
            return
        try:
            Pacer.record_answer(self)
        except StoreUnavailable:
            pass  # the request counts as answered when in_flight_seconds have passed: later, never sooner

    def _seed_local(self):
        """Tell the local pacer this client's own recent requests, paced through Redis: no burst after a fallback."""
        answers, start = list(self._own_answers), self._own_start

        def seed(state, _now):
            state["answered"] = sorted(state["answered"] + answers)
            if start is not None:
                state["next"] = max(state["next"] or start, start)

        self._local._update(seed)  # pylint: disable=protected-access  # the local pacer's own state step

    def close(self):
        self.record_answer()
        self._local.close()
        self._store.close()

    def _update(self, step, *args):
        """Apply ``step(state, now, *args)`` to the shared state, atomically, in Redis time."""
        started = self._monotonic()
        for _attempt in range(MAX_STEP_ATTEMPTS):
            if self._monotonic() - started > MAX_STEP_SECONDS:
                break
            local_now = self._local_clock()  # before the read: the offset below errs late, never early
            now, raw = self._store.read(self.key)
            state = parse_state(raw) if raw is not None and len(raw) <= MAX_STATE_BYTES else parse_state(b"")
            state["limits"] = _parse_limits(raw)
            self._rejoin(state, now - local_now)
            self._apply_limits(state, now)
            result = step(state, now, *args)
            ttl = MAX_RESERVATION_AHEAD_SECONDS + LIMITS_KEPT_WINDOWS * (self.window or 0) + self.min_interval
            if self._store.compare_and_set(self.key, raw, serialize_state(state), ttl):
                self._local_starts, self._local_answers = [], []
                return result
        self._store.give_up("no reservation could be made within %g s: Redis is slow, or too many clients write at"
                            " once" % MAX_STEP_SECONDS)

    def _rejoin(self, state, offset):
        """Write the requests paced locally (while Redis could not be used) into the shared state, in its time."""
        for start in self._local_starts:
            state["next"] = max(state["next"] or start + offset, start + offset)
        state["answered"] = sorted(state["answered"] + [answer + offset for answer in self._local_answers])

    def _apply_limits(self, state, now):
        """Write this client's limits into the state; the most conservative of every client's are in force."""
        interval, window, budget = self._own_limits
        kept_for = LIMITS_KEPT_WINDOWS * ((window or 0) + interval)
        limits = dict((member, entry) for member, entry in state["limits"].items() if entry[3] > now)
        limits[self._id_prefix] = [interval, window or 0, budget or 0, now + kept_for]
        state["limits"] = limits
        self.min_interval = max(entry[0] for entry in limits.values())
        if window is not None:
            self.window = max(entry[1] for entry in limits.values())
            self.budget = max(1, int(min(entry[2] for entry in limits.values() if entry[2] > 0)))


def _parse_limits(raw):
    """``{client: [interval, window, budget, kept until]}`` from the state's bytes; what is unreadable is left out."""
    try:
        data = json.loads((raw or b"{}").decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return {}
    limits = data.get("limits") if isinstance(data, dict) else None
    if not isinstance(limits, dict):
        return {}
    return dict((str(member), [float(value) for value in entry]) for member, entry in limits.items()
                if isinstance(entry, list) and len(entry) == 4
                and all(isinstance(value, (int, float)) and not isinstance(value, bool) for value in entry))


class RedisTokenCache(TokenCache):
    """``TokenCache``'s encrypted entry kept in Redis until the token expires; in the file when Redis fails."""

    def __init__(self, store, api_url, client_id, client_secret, clock=None):
        super(RedisTokenCache, self).__init__(api_url, client_id, client_secret, clock=clock)
        self._store = store
        self.key = None if self.name is None else KEY_PREFIX + "token:" + self.name

    def _read(self):
        if self._cipher is None:
            return None
        try:
            raw, ttl_milliseconds = self._store.get_with_ttl(self.key)
        except StoreUnavailable:
            return TokenCache._read(self)
        entry = None if raw is None or ttl_milliseconds <= 0 else self._open(raw)
        # Redis' time to live rather than the expiry inside: the clock of the machine that wrote it may differ.
        return None if entry is None else (entry[0], self._clock() + ttl_milliseconds / 1000.0)

    def _write(self, sealed, expires_at):
        try:
            self._store.put(self.key, sealed, expires_at - self._clock())
            return True
        except StoreUnavailable:
            return TokenCache._write(self, sealed, expires_at)

    def _remove(self):
        try:
            self._store.delete(self.key)
        except StoreUnavailable:
            pass
        TokenCache._remove(self)


def shared_state(config, clock=None, sleep=None, warn=None, connection=None):
    """``(pacer, token cache)`` of a client: this machine's files, or Redis with them as the fallback.

    ``clock`` must be wall-clock time; ``connection`` (a Redis client) is for tests.
    """
    warn = warn or (lambda message: None)
    pacer = default_pacer(config, clock=clock, sleep=sleep, on_fallback=warn)
    token_cache = default_token_cache(config, clock=clock)
    if not is_redis_url(config.rate_limit_store):
        return pacer, token_cache
    store = RedisStore(config, warn, connection=connection)
    pacer = RedisPacer(store, account_pace_key(config), pacer, pacer.min_interval, pacer.window, pacer.budget,
                       pacer.in_flight_seconds, sleep=sleep, local_clock=clock)
    if token_cache is not None:
        token_cache = RedisTokenCache(store, config.api_url, config.client_id, config.client_secret, clock=clock)
    return pacer, token_cache
