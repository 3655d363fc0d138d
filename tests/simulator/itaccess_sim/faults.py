# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Injected faults: each applies to the next ``count`` matching requests, then disappears.

Faults are kept in the order they were added; a request takes the first fault whose endpoint matches
(``None`` matches every endpoint), so several faults queue up behind each other.
"""

import threading

ENDPOINTS = ("token", "account", "devices", "detail", "groups", "action", "status_changed")
ENDPOINTS += ("reports",)  # Get Reports

# kind -> {option: (accepted types, default)}
KINDS = {
    "rate_limit": {"retry_after": ((bool, type(None)), None), "reset": ((int, float, type(None)), None)},
    "status": {"code": ((int,), 500), "body": ((str, dict, list, type(None)), None), "content_type": ((str, type(None)), None)},
    "status_after_apply": {"code": ((int,), 500), "body": ((str, dict, list, type(None)), None)},
    "slow": {"seconds": ((int, float), 5.0), "apply": ((bool,), True)},
    "drop": {"after_apply": ((bool,), False)},
    "malformed": {"body": ((str, type(None)), None)},
    "expire_token": {},
}
# A token request carries no access token, so there is nothing to expire on it.
_NOT_FOR = {"expire_token": ("token",)}


class Fault:
    """One injected fault; ``options`` holds every option of its kind, defaults filled in."""

    def __init__(self, kind, count, endpoint, options, after=0):
        self.kind = kind
        self.count = count
        self.endpoint = endpoint
        self.options = options
        # Matching requests to let through before the fault starts: "the token expires after page 3".
        self.after = after

    def matches(self, endpoint):
        """Whether this fault applies to a request to ``endpoint``."""
        if endpoint in _NOT_FOR.get(self.kind, ()):
            return False
        return self.endpoint is None or self.endpoint == endpoint

    def as_dict(self):
        """JSON-friendly description (for the control endpoint)."""
        return dict(self.options, kind=self.kind, count=self.count, endpoint=self.endpoint, after=self.after)


def make_fault(kind, count=1, endpoint=None, after=0, **options):
    """Validate and build a fault; raise ValueError with a message naming the bad argument.

    ``after``: how many matching requests pass untouched before the fault applies.
    """
    if kind == "refuse":
        raise ValueError("fault 'refuse' is not injected: stop the simulator to have connections refused")
    if kind not in KINDS:
        raise ValueError(f'unknown fault kind {kind!r}; expected one of {", ".join(sorted(KINDS))}')
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("fault count must be an integer >= 1")
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise ValueError("fault after must be an integer >= 0")
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f'unknown endpoint {endpoint!r}; expected one of {", ".join(ENDPOINTS)} or None')
    spec = KINDS[kind]
    unknown = sorted(set(options) - set(spec))
    if unknown:
        raise ValueError(f"fault {kind!r} takes no option {unknown[0]!r}")
    values = {}
    for name, (types, default) in spec.items():
        value = options.get(name, default)
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            raise ValueError(f"fault option {name!r} has the wrong type")
        values[name] = value
    if "code" in values and not 100 <= values["code"] <= 599:
        raise ValueError("fault option 'code' must be an HTTP status code")
    if kind == "slow" and values["seconds"] < 0:
        raise ValueError("fault option 'seconds' must be >= 0")
    return Fault(kind, count, endpoint, values, after)


class FaultQueue:
    """Thread-safe ordered list of pending faults."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = []

    def add(self, fault):
        """Queue a fault built by ``make_fault``."""
        with self._lock:
            self._faults.append(fault)

    def clear(self):
        """Forget every pending fault."""
        with self._lock:
            self._faults = []

    def pending(self):
        """Descriptions of the pending faults, in order."""
        with self._lock:
            return [fault.as_dict() for fault in self._faults]

    def peek(self, endpoint):
        """The fault this request to ``endpoint`` would take, without taking it (called once per request).

        A matching fault still waiting for its ``after`` requests counts this one and lets it pass.
        """
        with self._lock:
            for fault in self._faults:
                if not fault.matches(endpoint):
                    continue
                if fault.after > 0:
                    fault.after -= 1
                    continue
                return fault
            return None

    def take(self, fault):
        """Use up one occurrence of ``fault`` (as returned by ``peek``)."""
        with self._lock:
            fault.count -= 1
            if fault.count <= 0 and fault in self._faults:
                self._faults.remove(fault)
