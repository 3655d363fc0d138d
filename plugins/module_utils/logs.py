# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Logs (v3.3): the account's event logs of one category, cursor paged; on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.session import digest, json_type

LOGS_PATH = "/o/api/v3.3/logs"

LOG_CATEGORIES = ["device", "admin", "webhook", "device_report"]
# The API's bounds: entries a page, and how far back ``age`` may reach.
MAX_LOG_PAGE_SIZE = 100
MAX_LOG_AGE_SECONDS = 86400

# The fields of an entry the collection compares or shows as single values.
LOG_VALUE_FIELDS = ("timestamp", "event", "device_id", "device_name", "admin", "source", "details")

# A number above this is a time in milliseconds (the unit of start_time and end_time); below it, in seconds.
_MILLISECONDS_FROM = 10 ** 11


def check_log_query(category, events=None, age=None, start_ms=None, end_ms=None):
    """InputError naming the option at fault for a query the API forbids; nothing is sent before this passes."""
    if category not in LOG_CATEGORIES:
        raise InputError("category", "must be one of %s, got %r" % (", ".join(LOG_CATEGORIES), category))
    if events:
        if category == "device_report":
            raise InputError("events", "the API's events filter does not apply to the device_report category")
        for event in events:
            if not isinstance(event, str) or not event.strip():
                raise InputError("events", "every event must be a non-empty string, got %r" % (event,))
    if age is not None:
        if start_ms is not None or end_ms is not None:
            raise InputError("age", "give age or since/until, not both")
        if isinstance(age, bool) or not isinstance(age, int) or not 1 <= age <= MAX_LOG_AGE_SECONDS:
            raise InputError("age", "must be an integer number of seconds from 1 to %d (the API's maximum),"
                                    " got %r" % (MAX_LOG_AGE_SECONDS, age))
    if start_ms is not None and end_ms is not None and start_ms > end_ms:
        raise InputError("since", "must not be after until")


class LogsClient(object):
    def __init__(self, session):
        self._session = session

    def entries(self, category, events=None, age=None, start_ms=None, end_ms=None, max_entries=None):
        """The entries of ``category`` in the API's order (newest first), each with ``occurred_at`` added.

        ``age`` (seconds) or ``start_ms``/``end_ms`` (epoch milliseconds) bound the window; without either the
        API's default applies (the last hour). Pages of up to 100; the listing ends when ``next_token`` is
        missing, null or empty or a page has no entry, and fails when a cursor repeats, a page brings no entry
        not listed before, or before a page past ``max_listing_pages`` (``Session.cursor_pages``). Stops at
        ``max_entries``. The arguments are checked now; requests are sent as the iterator is consumed.
        """
        check_log_query(category, events, age, start_ms, end_ms)
        body = {"event_category": category}
        if events:
            body["filter"] = {"events": list(events)}
        for name, value in (("age", age), ("start_time", start_ms), ("end_time", end_ms)):
            if value is not None:
                body[name] = value
        return self._session.cursor_pages(LOGS_PATH, body, ("entry", "log entries"), self._shape, digest,
                                          MAX_LOG_PAGE_SIZE, max_entries)

    def _shape(self, response, data):
        """The entries of one page, redacted, with ``occurred_at``; every one an object with single-valued fields."""
        session = self._session
        if not isinstance(data, dict) or not isinstance(data.get("logs"), list):
            raise self._unexpected(response, "expected a JSON object with a logs list")
        logs = data["logs"]
        for index, entry in enumerate(logs):
            if not isinstance(entry, dict):
                raise self._unexpected(response, "logs[%d] is a JSON %s, expected an object" % (index, json_type(entry)))
        session.check_fields("POST", LOGS_PATH, response, logs, "logs", LOG_VALUE_FIELDS)
        # Entries carry no id: an entry is known by its whole content (Session.cursor_pages' identity).
        return [dict(self._redacted(entry), occurred_at=self._occurred_at(response, index, entry))
                for index, entry in enumerate(logs)]

    def _redacted(self, entry):
        """``entry`` with every secret masked: a webhook's entry could quote its URL, its key or an answer.

        Redacted as JSON text, so that a credential's member (``"license_key": "..."``) is masked whatever its
        value; string by string when the masked text is no longer JSON.
        """
        text = json.dumps(entry, ensure_ascii=False)
        masked = self._session.redact(text)
        if masked == text:
            return entry
        try:
            return json.loads(masked)
        except ValueError:
            return self._redacted_strings(entry)

    def _redacted_strings(self, value):
        if isinstance(value, dict):
            return dict((key, self._redacted_strings(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self._redacted_strings(item) for item in value]
        return self._session.redact(value) if isinstance(value, str) else value

    def _occurred_at(self, response, index, entry):
        """The entry's ``timestamp`` as ISO 8601 UTC (from epoch milliseconds or seconds, or an ISO string)."""
        moment = entry_time(entry.get("timestamp"))
        if moment is None:
            raise self._unexpected(response, "logs[%d].timestamp is %s, expected epoch milliseconds or an ISO 8601"
                                             " time" % (index, _shown(entry.get("timestamp"))))
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def _unexpected(self, response, what):
        return self._session.unexpected("POST", LOGS_PATH, response, what)


def entry_time(value):
    """An aware UTC datetime from epoch milliseconds or seconds (a number) or an ISO 8601 string; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000.0 if abs(value) >= _MILLISECONDS_FROM else float(value)
        try:
            return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        moment = parse_time(value)
        if moment is None:
            return None
        # A time without a zone in an answer is taken as UTC, as Get Devices' GMT times are.
        if moment.tzinfo is None:
            return moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(datetime.timezone.utc)
    return None


def parse_time(text):
    """A datetime from an ISO 8601 string (``2026-12-01T09:30:00Z``, ``2026-12-01 09:30:00+02:00``); else None."""
    text = text.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def epoch_ms(option, text):
    """Epoch milliseconds of an ISO 8601 time with a zone; InputError naming ``option`` otherwise."""
    moment = parse_time(text) if isinstance(text, str) else None
    if moment is None or moment.tzinfo is None:
        raise InputError(option, "must be an ISO 8601 time with a zone, for example 2026-12-01T09:30:00Z, got %r"
                         % (text,))
    return int(round(moment.timestamp() * 1000))


def _shown(value):
    return repr(value) if isinstance(value, str) else "a JSON %s" % json_type(value)
