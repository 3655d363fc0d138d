# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixed-window rate limiting with the API's ``X-RateLimit-*`` headers (docs/dev/api-notes.md, Rate limit).

The API documents 10 requests a minute, a 429 when exceeded and three headers; it does not say whether
the window is fixed or sliding, nor whether the bucket is per account or per endpoint. The simulator uses
a fixed window that opens with the first request after the previous one closed, and either one bucket for
the whole account or one per (account, endpoint).
"""

import dataclasses
import math
import threading
import time

SCOPES = ("account", "endpoint")
RESET_TIME_FORMATS = ("seconds", "epoch")


@dataclasses.dataclass
class Decision:
    """Outcome of one request against the limiter: whether it may proceed and the headers to send."""

    allowed: bool
    headers: dict
    # Seconds until the window resets; the value of Retry-After when that header is enabled.
    wait: float


class RateLimiter:
    """Counts requests per bucket in fixed windows. ``limit == 0`` disables limiting (and the headers)."""

    def __init__(self, limit=10, window=60.0, scope="account", retry_after=False, reset_time_format="seconds"):
        # pylint: disable=too-many-arguments,too-many-positional-arguments
        self._lock = threading.Lock()
        self._buckets = {}
        self.limit = self.window = self.scope = self.retry_after = None
        if reset_time_format not in RESET_TIME_FORMATS:
            raise ValueError(f'reset_time_format must be one of {", ".join(RESET_TIME_FORMATS)}')
        self.reset_time_format = reset_time_format
        self.configure(limit, window, scope, retry_after)

    def configure(self, limit, window, scope=None, retry_after=None):
        """Change the limit, window, and optionally scope and Retry-After; every bucket starts afresh."""
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
            raise ValueError("rate_limit must be an integer >= 0")
        if not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0:
            raise ValueError("window must be a number of seconds > 0")
        if scope is not None and scope not in SCOPES:
            raise ValueError(f'rate_limit_scope must be one of {", ".join(SCOPES)}')
        with self._lock:
            self.limit = limit
            self.window = float(window)
            if scope is not None:
                self.scope = scope
            if retry_after is not None:
                self.retry_after = bool(retry_after)
            self._buckets = {}

    @property
    def enabled(self):
        """False when ``limit`` is 0."""
        return self.limit > 0

    def _bucket_key(self, endpoint):
        return "account" if self.scope == "account" else endpoint

    def _reset_header(self, wait):
        seconds = max(0, math.ceil(wait))
        if self.reset_time_format == "epoch":
            return str(int(math.ceil(time.time() + wait)))
        return str(seconds)

    def _headers(self, remaining, wait):
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(0, remaining)),
            "X-RateLimit-Reset-Time": self._reset_header(wait),
        }

    def hit(self, endpoint):
        """Count one request to ``endpoint``; a refused request is not counted and changes nothing."""
        if not self.enabled:
            return Decision(True, {}, 0.0)
        with self._lock:
            now = time.monotonic()
            key = self._bucket_key(endpoint)
            start, used = self._buckets.get(key, (None, 0))
            if start is None or now >= start + self.window:
                start, used = now, 0
            wait = start + self.window - now
            if used >= self.limit:
                self._buckets[key] = (start, used)
                return Decision(False, self._headers(0, wait), wait)
            used += 1
            self._buckets[key] = (start, used)
            return Decision(True, self._headers(self.limit - used, wait), wait)

    def refuse(self, endpoint, reset=None):
        """A 429 decision that counts nothing (for injected 429s); ``reset`` overrides the seconds to wait.

        The headers say no request is left; Reset-Time is the time left in the current window (a whole
        window when none is open), so a client that honours it waits as it would for a real 429.
        """
        with self._lock:
            now = time.monotonic()
            start, _used = self._buckets.get(self._bucket_key(endpoint), (None, 0))
            wait = self.window if start is None or now >= start + self.window else start + self.window - now
            if reset is not None:
                wait = float(reset)
            return Decision(False, self._headers(0, wait), wait)
