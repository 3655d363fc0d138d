# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The request log: one dict per handled API request, kept in memory and optionally as JSON lines.

Tests read it to count and inspect the collection's requests, so it must be safe to print anywhere:
credentials are replaced by ``"***"`` both by key (``access_token``, ``client_secret``, ``license_key``)
and by value (any issued token, the client secret or the license key found inside any other string).
"""

import json
import re
import threading

MASK = "***"
SECRET_KEYS = ("access_token", "client_secret", "license_key")
_QUERY_SECRET_KEYS = ("access_token", "client_secret")
_UUID_RE = re.compile(r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}")
# Raw bodies that are not JSON are kept for debugging, but only this much of them.
RAW_BODY_LIMIT = 2000


class Scrubber:
    """Knows the secrets of a simulator run and removes them from any value."""

    def __init__(self, is_token, fixed_secrets):
        # ``is_token`` answers whether a string is a token issued by the simulator; tokens are UUIDs, so
        # candidates are found with one regular expression instead of a scan per issued token.
        self._is_token = is_token
        self._fixed = [secret for secret in fixed_secrets if secret]

    def text(self, value):
        """``value`` with every known secret inside it replaced by the mask."""
        for secret in self._fixed:
            if secret in value:
                value = value.replace(secret, MASK)
        return _UUID_RE.sub(lambda match: MASK if self._is_token(match.group(0)) else match.group(0), value)

    def value(self, value, secret_keys=SECRET_KEYS):
        """A copy of a JSON value with secret keys masked and secrets in strings removed."""
        if isinstance(value, dict):
            return {key: (MASK if key in secret_keys else self.value(item, secret_keys)) for key, item in value.items()}
        if isinstance(value, list):
            return [self.value(item, secret_keys) for item in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def query(self, query):
        """A copy of a query dict with the token and client secret masked."""
        return self.value(query, _QUERY_SECRET_KEYS)

    def raw(self, text):
        """A body that was not JSON: truncated, then scrubbed."""
        return self.text(text[:RAW_BODY_LIMIT])


class RequestLog:
    """Thread-safe list of entries, oldest first, mirrored to a JSON-lines file when ``path`` is given."""

    def __init__(self, path=None):
        self._lock = threading.Lock()
        self._entries = []
        self._path = path
        self._handle = None
        self.open()

    def open(self):
        """Open the file for appending, if there is one and it is not open yet."""
        with self._lock:
            if self._path and self._handle is None:
                self._handle = open(self._path, "a", encoding="utf-8")  # pylint: disable=consider-using-with

    def append(self, entry):
        """Record one entry (already scrubbed)."""
        with self._lock:
            self._entries.append(entry)
            if self._handle is not None:
                self._handle.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
                # Flushed per line so that a user tailing the file sees each request as it happens.
                self._handle.flush()

    def entries(self):
        """Copies of the entries, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._entries]

    def clear(self):
        """Forget the in-memory entries (the file, if any, keeps its history)."""
        with self._lock:
            self._entries = []

    def close(self):
        """Close the file, if any."""
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
