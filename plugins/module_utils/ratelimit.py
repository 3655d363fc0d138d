# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rate limiting: the pacer that keeps the collection's own requests from drawing a 429, the pace maths, and
the policy for the 429s other clients of the account cause.

**Pacing.** Two rules keep the collection's own requests from ever drawing a 429.

1. **Even spacing.** Requests of one account start at least ``min_interval`` seconds apart, with no bursts:
   the only schedule that is safe whether the service counts a fixed or a sliding window.
2. **The window budget.** The service counts a request when it *arrives*, which is some time between the moment
   the client started it and the moment its answer came back. Spacing the starts alone is not enough: a request
   that reaches the service late (a process not scheduled on a loaded machine, a slow network) while the next one
   leaves on time puts one request too many into the window that the late one opened. So a request may start at
   time ``s`` only when fewer than ``budget`` (L) earlier requests could still arrive within ``window`` (W)
   seconds before it: those answered after ``s - W``, and those still in flight. For one process this reads
   "request n + L does not start before the answer of request n plus W". Proof that no window of W seconds then
   holds L + 1 of our requests, however late each arrived: take the request of that window that started last;
   every other one arrived after its arrival minus W, so was answered after its start minus W, so was counted
   when it started; there were at most L - 1 of them.

   With little latency the first rule already implies the second (L starts span L x 1.01 x 60 / rpm seconds,
   1% more than W), so the second costs nothing; it holds back a request only after an answer that took more than
   that 1% of the window (0.6 s at 10 requests a minute).

Every task of a play is its own process, so the pace of an account is shared through a small JSON state file (one
per API URL and client, named by a hash, never by a secret) in the user's state directory (state.py), locked while
it is read and rewritten. It holds the next reserved start, the answer times that still matter and the requests in
flight. Where the file or file locks are unavailable, pacing falls back to this process alone, and says so
(``on_fallback``).

**A 429 anyway** (another client of the account used its budget): ``ThrottlePolicy`` waits as the answer says
(``Retry-After`` in seconds or as an HTTP date, else ``X-RateLimit-Reset-Time`` in seconds or as an epoch), else a
whole window, and fails with ``RateLimitError`` once the waits would pass ``rate_limit_timeout``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import math
import os
import random
import time
from datetime import timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from ansible_collections.opswat.it_access.plugins.module_utils.errors import RateLimitError
from ansible_collections.opswat.it_access.plugins.module_utils.state import (
    describe_os_error, file_locks_available, state_directory, update_locked_file)

# The names a loopback api_url is usually written with: one server on this machine, so one pace.
LOOPBACK_ALIASES = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}

# A reservation further ahead than this is not believed: the wall clock was set back, or the file is
# garbage. It still allows a long queue of processes (for example 50 forks at 1 request a minute).
MAX_RESERVATION_AHEAD_SECONDS = 3600.0

# A state file larger than this is garbage: a real one holds about one answer time per request of a window.
MAX_STATE_BYTES = 1024 * 1024

# Float sums of intervals land a hair off the exact answer-plus-window they are compared with: without a
# tolerance, a request due exactly then would be pushed back by a nanosecond and a whole extra interval.
CLOCK_TOLERANCE_SECONDS = 1e-6

# How long a request can stay "in flight" before it is counted as answered. A process that crashed (or was
# killed) between the start and the answer never reports one, and must not hold the others back for ever; a live
# process reports its real answer time, however late, which replaces this guess. The request reached the service,
# if ever, once the connection was made (within the transport's timeout) and the request written (its socket
# operations again within the timeout): so two timeouts after the start bound its arrival, which is all the
# window rule needs from the answer time.
IN_FLIGHT_TIMEOUTS = 2
DEFAULT_IN_FLIGHT_SECONDS = 60.0  # two timeouts at the default timeout of 30 s


def normalised_url(api_url):
    """``api_url`` as the pace knows it: one spelling for every way of writing the same service.

    The scheme and host are lower case, the default port is left out and so are trailing slashes of the path
    (whose case is kept: a path may be case-sensitive). ``localhost``, ``127.0.0.1`` and ``::1`` are one host:
    ``localhost`` resolves to one of the two, and a simulator or a tunnel listening on a loopback port is one
    server however it is written. Other host names are not resolved: two names may be one server or two.
    """
    try:
        parts = urlsplit(api_url)
        port = parts.port
    except ValueError:
        return api_url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if host in LOOPBACK_ALIASES:
        host = "loopback"
    elif ":" in host:
        host = "[%s]" % host
    if port is not None and port != DEFAULT_PORTS.get(scheme):
        host = "%s:%d" % (host, port)
    return "%s://%s%s" % (scheme, host, parts.path.rstrip("/"))


def pace_key(api_url, client_id=None, access_token=None):
    """A name for the account's pace: a sha256 of the normalised API URL and the client id (or of a hash of the
    token).

    The token is hashed twice over so that neither it nor a plain hash of it is ever written anywhere.
    """
    if client_id:
        identity = "client_id:" + client_id
    else:
        identity = "token:" + hashlib.sha256((access_token or "").encode("utf-8")).hexdigest()
    return hashlib.sha256(("%s\n%s" % (normalised_url(api_url), identity)).encode("utf-8")).hexdigest()


def account_pace_key(config):
    """The name of the account's pace: of ``rate_limit_key`` when the user set one (two OAuth applications of one
    account share one limit), else ``pace_key``. A sha256 either way: nothing the user wrote is stored in clear."""
    if config.rate_limit_key:
        return hashlib.sha256(("rate_limit_key\n" + config.rate_limit_key).encode("utf-8")).hexdigest()
    return pace_key(config.api_url, client_id=config.client_id, access_token=config.access_token)


def empty_state():
    """The shared state: the last reserved start, answer times (ascending) and ``{request id: [start, deadline]}``."""
    return {"next": None, "answered": [], "in_flight": {}}


class Pacer(object):
    """Paces the requests of this process only.

    ``window`` (seconds) and ``budget`` (requests) enable the window rule; without them, only the starts are spaced.
    ``in_flight_seconds``: after how long a request that never reported its answer counts as answered.
    Call ``wait_turn()`` before each request and ``record_answer()`` when its answer (or failure) came back.
    """

    def __init__(self, min_interval, clock=None, sleep=None, window=None, budget=None, in_flight_seconds=None):
        self.min_interval = float(min_interval)
        self.window = None if window is None else float(window)
        self.budget = None if window is None else int(budget if budget is not None else 1)
        self.in_flight_seconds = float(DEFAULT_IN_FLIGHT_SECONDS if in_flight_seconds is None else in_flight_seconds)
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._state = empty_state()
        self._last_start = None  # the last start this process reserved
        self._in_flight_id = None  # this process's request between wait_turn() and record_answer()
        self._id_prefix = "%d-%x" % (os.getpid(), random.getrandbits(32))
        self._id_counter = 0

    def wait_turn(self):
        """Block until the next request may start, and record that it starts now. Returns the seconds slept."""
        slept = 0.0
        slot = None
        while True:
            self._id_counter += 1
            request_id = "%s-%d" % (self._id_prefix, self._id_counter)
            slot, delay = self._update(self._claim, slot, request_id)
            self._last_start = slot
            if delay is None:
                self._in_flight_id = request_id if self.window is not None else None
                return slept
            self._sleep(delay)
            slept += delay

    def record_answer(self):
        """The request started by the last ``wait_turn()`` has its answer (any answer, or a failure): now."""
        request_id, self._in_flight_id = self._in_flight_id, None
        if request_id is not None:
            self._update(self._answer, request_id)

    def close(self):
        """Mark the request still in flight as answered, so that other processes stop counting it.

        The state file itself is opened only while it is read and written: no file stays open.
        """
        self.record_answer()

    # ---------------------------------------------------------------- the rules, applied to a state

    def _update(self, step, *args):
        """Apply ``step(state, now, *args)`` to the state and return its result (here: this process's own state)."""
        return step(self._state, self._clock(), *args)

    def _claim(self, state, now, slot, request_id):
        """Start a request now, or reserve the slot to come back at. Returns ``(slot, seconds to sleep)``, the
        seconds None when the request starts now.

        ``slot`` is None for a new request (it takes the next slot of the queue), else the slot it was given.
        No side effect but on ``state``: the same step may be applied again to another state after a fallback.
        """
        if slot is not None:
            # This process slept until its slot: a clock that lags behind the sleep (set back) must not loop.
            now = max(now, slot)
        self._prune(state, now)
        if slot is None:
            # Knowing already when the window budget allows a start saves a wasted slot in the queue.
            slot = self._next_slot(state, self._window_clear_at(state, now))
        if slot > now:
            return slot, slot - now
        clear_at = self._window_clear_at(state, now)
        if clear_at > now:
            # Someone's answer came late, or a request is still in flight: back into the queue, after it.
            slot = self._next_slot(state, clear_at)
            return slot, slot - now
        if self.window is not None:
            state["in_flight"][request_id] = [now, now + self.in_flight_seconds]
        return slot, None

    def _answer(self, state, now, request_id):
        state["in_flight"].pop(request_id, None)
        state["answered"].append(now)
        self._prune(state, now)

    def _next_slot(self, state, earliest):
        """The next free start of the queue, not before ``earliest``; reserved in ``state``."""
        slot = earliest
        for previous in (state["next"], self._last_start):
            if previous is not None:
                slot = max(slot, previous + self.min_interval)
        state["next"] = slot
        return slot

    def _window_clear_at(self, state, now):
        """The earliest time from ``now`` at which fewer than ``budget`` requests could share a window with a new one.

        A request still in flight is counted as answered now at the earliest: if it answers later, the check made
        when the slot comes sees that and waits again.
        """
        if self.window is None:
            return now
        keys = [answered + self.window for answered in state["answered"]]
        keys.extend(now + self.window for _request in state["in_flight"])
        keys = sorted((key for key in keys if key > now + CLOCK_TOLERANCE_SECONDS), reverse=True)
        if len(keys) < self.budget:
            return now
        return keys[self.budget - 1]

    def _prune(self, state, now):
        """Forget what can no longer hold a request back, and what cannot be true (times far in the future)."""
        horizon = now + MAX_RESERVATION_AHEAD_SECONDS
        if state["next"] is not None and state["next"] > horizon:
            state["next"] = None
        answered = [moment for moment in state["answered"] if moment <= horizon]
        for request_id, (start, deadline) in list(state["in_flight"].items()):
            if start > horizon or deadline <= now:
                del state["in_flight"][request_id]
                if start <= horizon:
                    answered.append(deadline)  # never reported: see IN_FLIGHT_TIMEOUTS
        if self.window is None:
            state["answered"] = []
            return
        # Only the latest ``budget`` answers can ever decide a start: an earlier one lies below ``budget`` later
        # ones, which hold a request back for at least as long.
        answered = sorted(moment for moment in answered if moment + self.window > now)
        state["answered"] = answered[-self.budget:]


class SharedPacer(Pacer):
    """Paces the requests of every process of the same account on this machine, through a locked file."""

    def __init__(self, min_interval, key, clock=None, sleep=None, directory=None, on_fallback=None, window=None,
                 budget=None, in_flight_seconds=None):
        super(SharedPacer, self).__init__(min_interval, clock=clock, sleep=sleep, window=window, budget=budget,
                                          in_flight_seconds=in_flight_seconds)
        self.path = os.path.join(directory or state_directory(), "pace-%s" % key)
        self._on_fallback = on_fallback
        self._shared = file_locks_available()

    @property
    def shared(self):
        """Whether the pace is still shared with other processes (false after a fallback)."""
        return self._shared

    def _update(self, step, *args):
        args = (self._clock(),) + args
        if self._shared:
            try:
                result, self._state = self._update_file(step, args)
                return result
            except (OSError, IOError) as error:
                # A file another user owns, a read-only temp directory...: pace this process alone from now on,
                # from the last state the file gave (it holds this process's own requests).
                self._shared = False
                if self._on_fallback is not None:
                    self._on_fallback(
                        "the pace is no longer shared with the other tasks of this account (requests_per_minute):"
                        " the pace file %s is unusable (%s); other tasks running at the same time may draw 429"
                        " answers" % (self.path, describe_os_error(error)))
        return step(self._state, *args)

    def _update_file(self, step, args):
        def apply(raw):
            state = parse_state(raw)
            return (step(state, *args), state), serialize_state(state)

        return update_locked_file(self.path, MAX_STATE_BYTES, apply)


def _is_time(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def parse_state(raw):
    """The state in ``raw`` (bytes); whatever cannot be read is left out (an unreadable file is an empty state)."""
    state = empty_state()
    try:
        data = json.loads(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return state
    if not isinstance(data, dict):
        return state
    if _is_time(data.get("next")):
        state["next"] = float(data["next"])
    answered = data.get("answered")
    if isinstance(answered, list):
        state["answered"] = sorted(float(moment) for moment in answered if _is_time(moment))
    in_flight = data.get("in_flight")
    if isinstance(in_flight, dict):
        for request_id, times in in_flight.items():
            if isinstance(times, list) and len(times) == 2 and all(_is_time(moment) for moment in times):
                state["in_flight"][request_id] = [float(times[0]), float(times[1])]
    return state


def serialize_state(state):
    return json.dumps(state, sort_keys=True, separators=(",", ":")).encode("ascii")


def default_pacer(config, clock=None, sleep=None, on_fallback=None):
    """The pacer a client uses unless told otherwise: shared by every process of the same account.

    ``clock`` must be wall-clock time (``time.time``): the state file is read by other processes.
    """
    return SharedPacer(pace_interval(config), account_pace_key(config), clock=clock or time.time, sleep=sleep,
                       on_fallback=on_fallback, window=config.rate_limit_window, budget=window_budget(config),
                       in_flight_seconds=IN_FLIGHT_TIMEOUTS * config.timeout)


# ---------------------------------------------------------------------- the pace maths


def min_interval(config):
    """The budget's spacing: 60 / requests_per_minute seconds."""
    return 60.0 / config.requests_per_minute


def pace_interval(config):
    """Seconds the pacer keeps between the starts of two requests: an even pace, no bursts.

    ``config.pace_margin`` (1% by default) above ``min_interval``: the service counts arrivals, and two requests
    sent exactly one budget apart can arrive closer than that when the first travels slower, putting one
    request too many into a fixed window.
    """
    return min_interval(config) * config.pace_margin


def window_budget(config):
    """Requests the service allows in one ``rate_limit_window``: rpm x window / 60, at least 1.

    The tolerance keeps a product that float arithmetic puts a hair below a whole number (200 x 5.1 / 60)
    from losing a request.
    """
    return max(1, int(math.floor(config.requests_per_minute * config.rate_limit_window / 60.0 + 1e-9)))


# ---------------------------------------------------------------------- the 429 policy

EPOCH_THRESHOLD = 10 ** 9  # a reset time above this is an epoch timestamp, not a number of seconds
EPOCH_MILLISECONDS_THRESHOLD = 10 ** 12
# A 429 that says "retry now" (0, or a reset time already past by our clock) would otherwise be
# retried at the pacing rate without ever using the rate_limit_timeout budget.
MIN_THROTTLE_WAIT_SECONDS = 1.0
# The wait after a 429 that names no time: the service's window.
DEFAULT_THROTTLE_WINDOW_SECONDS = 60.0


class ThrottlePolicy(object):
    """The waits after 429 answers of one client, within ``rate_limit_timeout`` seconds in total (-1: no bound).

    ``clock`` is wall-clock time (Retry-After dates and epoch reset times); ``log`` and ``redact`` are the
    session's. ``window_seconds`` is an attribute so that tests can shorten it.
    """

    def __init__(self, timeout, clock=None, sleep=None, log=None, redact=None):
        self.timeout = timeout
        self.window_seconds = DEFAULT_THROTTLE_WINDOW_SECONDS
        self.throttled = 0  # 429 answers
        self.waited = 0.0  # seconds waited on them
        self._clock = clock or time.time
        self._sleep = sleep or time.sleep
        self._log = log or (lambda message: None)
        self._redact = redact or (lambda text: text)

    def wait(self, request, response):
        """Wait as the 429 ``response`` to ``request`` ("POST /path") asks; ``RateLimitError`` past the budget."""
        self.throttled += 1
        seconds, source = self.next_wait(response)
        self._check_budget(request, seconds, source)
        self._log("%s: rate limited (HTTP 429); waiting %.3f s (%s)" % (request, seconds, source))
        self._sleep(seconds)
        self.waited += seconds
        return seconds

    def next_wait(self, response):
        """Seconds to wait after a 429, and where that number came from."""
        now = self._clock()
        seconds = retry_after_seconds(response.header("Retry-After"), now)
        source = "Retry-After"
        if seconds is None:
            seconds = reset_time_seconds(response.header("X-RateLimit-Reset-Time"), now)
            source = "X-RateLimit-Reset-Time"
        if seconds is None:
            seconds = self.window_seconds
            source = "a full rate-limit window"
        return max(seconds, MIN_THROTTLE_WAIT_SECONDS), source

    def _check_budget(self, request, seconds, source):
        budget = self.timeout
        if budget < 0 or self.waited + seconds <= budget:  # -1: no bound
            return
        if budget == 0:
            why = "rate_limit_timeout is 0, so a 429 is never waited on"
        else:
            why = "the next wait of %.1f s (%s) would pass rate_limit_timeout (%g s)" % (seconds, source, budget)
        raise RateLimitError(self._redact(
            "%s: rate limited by the API (HTTP 429): %d answer(s) with HTTP 429 in total, %.1f s waited on them; %s."
            " Another client of the same account may be using its budget: raise rate_limit_timeout, or"
            " lower requests_per_minute" % (request, self.throttled, self.waited, why)),
            waited_seconds=round(self.waited, 3), throttled=self.throttled)


def as_seconds(value):
    """A finite, non-negative number of seconds from a number or a numeric string; else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def retry_after_seconds(value, now):
    """``Retry-After``: delay-seconds or an HTTP date; None when absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    seconds = as_seconds(value)
    if seconds is not None:
        return seconds
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:  # "-0000" or no zone: HTTP dates are GMT
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, moment.timestamp() - now)


def reset_time_seconds(value, now):
    """``X-RateLimit-Reset-Time``: seconds until the reset, or an epoch (above 10^9); None when unreadable."""
    seconds = as_seconds(str(value).strip()) if value is not None else None
    if seconds is None:
        return None
    if seconds > EPOCH_MILLISECONDS_THRESHOLD:
        seconds /= 1000.0  # an epoch in milliseconds
    if seconds > EPOCH_THRESHOLD:
        return max(0.0, seconds - now)
    return seconds
