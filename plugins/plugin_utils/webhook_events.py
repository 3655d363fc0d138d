# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the webhook event source (extensions/eda/plugins/event_source/webhook.py) decides without a socket: its
arguments, the HTTP request head, the delivery's JSON, the de-duplication of the service's retries and the events."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hmac
import json
import os
from collections import OrderedDict

from ansible_collections.opswat.it_access.plugins.module_utils.connection import CONNECTION_OPTIONS
from ansible_collections.opswat.it_access.plugins.module_utils.devices import as_listed, id_key, listing_status
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils.event_source import (
    boolean_argument, check_known_arguments, connection_config, device_payload, integer_argument, number_argument,
    path_argument, shown, string_argument, utc_timestamp)

EVENT_NAME = "device_status_webhook"
# The webhook's own statuses besides the device statuses of Get Devices: a device enrolled, a device removed.
WEBHOOK_ONLY_STATUSES = ("deleted",)
ENRICHED_FIELDS = ("device_name", "severity", "group_name")

MAX_HEADER_BYTES = 16384   # the request line and every header, with their line ends
MAX_HEADER_LINES = 100

# The source's own arguments (besides the connection options, read with enrich: true).
WEBHOOK_ARGUMENTS = ("host", "port", "token", "path", "certfile", "keyfile", "max_body_bytes", "read_timeout",
                     "max_connections", "dedup_size", "enrich")


class WebhookSettings(object):
    """The checked arguments of the source; ``config`` is the ``ConnectionConfig`` when ``enrich`` is on, else None."""

    def __init__(self, values, config):
        self.__dict__.update(values)
        self.config = config

    def __repr__(self):
        return "WebhookSettings(host=%r, port=%r, path=%r, tls=%r, enrich=%r)" % (
            self.host, self.port, self.path, self.certfile is not None, self.enrich)


def webhook_settings(args, environ=None):
    """The source's arguments checked; InputError naming the argument at fault (never quoting ``token``).

    Keys ansible-rulebook adds (``eda_*``) are ignored; any other unknown key is an error, so a typo is not silently
    a default. The connection options (and their environment variables) are read only with ``enrich: true``.
    """
    args = dict(args or {})
    check_known_arguments(args, WEBHOOK_ARGUMENTS + tuple(CONNECTION_OPTIONS))
    values = dict(
        host=string_argument(args, "host", "127.0.0.1"),
        port=integer_argument(args, "port", None, 0, 65535),
        token=string_argument(args, "token", None, secret=True),
        path=string_argument(args, "path", "/"),
        certfile=path_argument(args, "certfile"),
        keyfile=path_argument(args, "keyfile"),
        max_body_bytes=integer_argument(args, "max_body_bytes", 1048576, 2, 32 * 1024 * 1024),
        read_timeout=number_argument(args, "read_timeout", 10.0, 0.001, 3600),
        max_connections=integer_argument(args, "max_connections", 64, 1, 10000),
        dedup_size=integer_argument(args, "dedup_size", 10000, 1, 10 ** 7),
        enrich=boolean_argument(args, "enrich", False),
    )
    _check_webhook_values(values)
    config = connection_config(args, os.environ if environ is None else environ) if values["enrich"] else None
    return WebhookSettings(values, config)


def _check_webhook_values(values):
    for name in ("port", "token"):
        if values[name] is None:
            raise InputError(name, "is required")
    if not values["token"].strip():
        raise InputError("token", "must not be empty")
    if not values["host"]:
        raise InputError("host", "must not be empty")
    if not values["path"].startswith("/"):
        raise InputError("path", "must start with /, got %s" % shown(values["path"]))
    if values["keyfile"] is not None and values["certfile"] is None:
        raise InputError("keyfile", "needs certfile")
    for name in ("certfile", "keyfile"):
        if values[name] is not None and not os.path.isfile(values[name]):
            raise InputError(name, "is not a readable file: %s" % values[name])


# ---------------------------------------------------------------------------------------------- the HTTP request


class RequestRefused(Exception):
    """A request answered with ``status`` and no event; ``reason`` is logged and sent back (it quotes no header)."""

    def __init__(self, status, reason):
        super(RequestRefused, self).__init__("%d %s" % (status, reason))
        self.status = status
        self.reason = reason


class RequestHead(object):
    """The request line and headers (names lower-cased; a repeated header keeps every value, in order)."""

    def __init__(self, method, target, headers):
        self.method = method
        self.target = target
        self.path = target.split("?", 1)[0]
        self.headers = headers

    def header(self, name):
        """The one value of header ``name``, None when absent; 400 when it is repeated."""
        values = self.headers.get(name, [])
        if len(values) > 1:
            raise RequestRefused(400, "the %s header is repeated" % name)
        return values[0] if values else None


def parse_head(data):
    """The ``RequestHead`` of the bytes up to and including the blank line; RequestRefused (400, 431) otherwise."""
    lines = data.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise RequestRefused(400, "the request line is not HTTP/1.x")
    header_lines = [line for line in lines[1:] if line]
    if len(header_lines) > MAX_HEADER_LINES:
        raise RequestRefused(431, "more than %d header lines" % MAX_HEADER_LINES)
    headers = {}
    for line in header_lines:
        name, separator, value = line.partition(":")
        if not separator or not name or name != name.strip():
            raise RequestRefused(400, "a header line is not a name and a value")
        headers.setdefault(name.lower(), []).append(value.strip())
    return RequestHead(parts[0], parts[1], headers)


def authorized(head, token):
    """Whether the Authorization header holds ``token`` as it is (the service sends the key bare, no scheme).

    Compared in constant time; a missing header is compared like a wrong one. A repeated header is refused.
    """
    values = head.headers.get("authorization", [])
    given = values[0] if len(values) == 1 else ""
    return hmac.compare_digest(given.encode("utf-8"), token.encode("utf-8"))


def body_length(head, max_body_bytes):
    """How the body is framed: its length, or None for chunked; RequestRefused for 411, 413, 400 or 501."""
    encoding = head.header("transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise RequestRefused(501, "the only transfer encoding accepted is chunked")
        if head.headers.get("content-length"):
            raise RequestRefused(400, "both Content-Length and Transfer-Encoding")
        return None
    length = head.header("content-length")
    if length is None:
        raise RequestRefused(411, "a Content-Length header (or chunked encoding) is required")
    if not length.isdigit():
        raise RequestRefused(400, "Content-Length is not a number")
    if int(length) > max_body_bytes:
        raise RequestRefused(413, "the body is larger than %d bytes" % max_body_bytes)
    return int(length)


# ---------------------------------------------------------------------------------------------- the delivery


class Delivery(object):
    """One item of the service's array: ``status`` in Get Devices' spelling, ``timestamp`` in milliseconds."""

    __slots__ = ("device_id", "status", "timestamp")

    def __init__(self, device_id, status, timestamp):
        self.device_id = device_id
        self.status = status
        self.timestamp = timestamp

    @property
    def key(self):
        """What a retry of the same delivery repeats: the device (case-insensitive), the status, the time."""
        return (id_key(self.device_id), self.status, self.timestamp)


def parse_delivery(body):
    """The ``Delivery`` items of a webhook body (bytes); RequestRefused(400) naming the first fault.

    The body is the documented JSON: an array of objects with a non-empty string ``device_id``, a ``status`` the
    collection knows (``non_compliant``, ``non-compliant``, ``installed``, ``deleted``...) and an integer
    ``timestamp`` (milliseconds since the epoch). An empty array is valid and brings nothing.
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RequestRefused(400, "the body is not JSON") from None
    if not isinstance(data, list):
        raise RequestRefused(400, "the body is not a JSON array of {device_id, status, timestamp}")
    return [_delivery(index, item) for index, item in enumerate(data)]


def _delivery(index, item):
    if not isinstance(item, dict):
        raise RequestRefused(400, "item %d is not a JSON object" % index)
    device_id, status, timestamp = item.get("device_id"), item.get("status"), item.get("timestamp")
    if not isinstance(device_id, str) or not device_id.strip():
        raise RequestRefused(400, "item %d: device_id is missing or not a non-empty string" % index)
    spelled = webhook_status(status)
    if spelled is None:
        raise RequestRefused(400, "item %d: status %s is not a status this collection knows" % (index, shown(status)))
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise RequestRefused(400, "item %d: timestamp is not an integer number of milliseconds" % index)
    return Delivery(device_id, spelled, timestamp)


def webhook_status(status):
    """A webhook status in Get Devices' spelling (``non-compliant`` -> ``non_compliant``), ``deleted`` as it is;
    None when it is none the collection knows."""
    spelled = listing_status(status)
    if spelled is None and isinstance(status, str) and status.strip().lower() in WEBHOOK_ONLY_STATUSES:
        spelled = status.strip().lower()
    return spelled


class Deduplicator(object):
    """Remembers the keys of the last ``size`` deliveries: the service's retries of one are emitted once."""

    def __init__(self, size):
        self.size = size
        self._seen = OrderedDict()

    def fresh(self, deliveries):
        """The deliveries not seen before (a repeat within ``deliveries`` too), now remembered; the oldest keys
        are forgotten past ``size``."""
        new = []
        for delivery in deliveries:
            key = delivery.key
            if key in self._seen:
                self._seen.move_to_end(key)
                continue
            self._seen[key] = True
            new.append(delivery)
            if len(self._seen) > self.size:
                self._seen.popitem(last=False)
        return new

    def __len__(self):
        return len(self._seen)


def observed_at(timestamp):
    """The delivery's timestamp (milliseconds) as every event's ``observed_at``: ISO 8601 UTC, to the millisecond."""
    return utc_timestamp(timestamp / 1000.0)


def event_of(delivery, device=None):
    """The event of one delivery, in the poller's shape; ``device`` (Device Details, as listed) fills in the
    name, severity and group, which the webhook does not carry."""
    record = dict((name, device.get(name)) for name in ENRICHED_FIELDS) if device is not None else {}
    record.update(device_id=delivery.device_id, status=delivery.status)
    return {"opswat": device_payload(EVENT_NAME, record, observed_at(delivery.timestamp))}


def details_by_id(client, deliveries):
    """Device Details of the deliveries' devices (paced, 50 a request), as listed, by ``id_key``; blocking.

    A device the service has deleted (or any unknown id) is simply absent.
    """
    ids = []
    for delivery in deliveries:
        if delivery.device_id not in ids:
            ids.append(delivery.device_id)
    return dict((id_key(device.get("device_id")), as_listed(device)) for device in client.devices.details(ids))


def events_of(deliveries, details=None):
    """The events of ``deliveries``, enriched from ``details`` (``details_by_id``) when given."""
    details = details or {}
    return [event_of(delivery, details.get(id_key(delivery.device_id))) for delivery in deliveries]
