# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection's Event-Driven Ansible sources share: their arguments, the connection from them and the
environment, the event payload, and the client run in a thread that a cancelled source can stop."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio
import logging
import math
import os
import threading
from datetime import datetime, timezone

from ansible_collections.opswat.it_access.plugins.module_utils.client import Client
from ansible_collections.opswat.it_access.plugins.module_utils.connection import CONNECTION_OPTIONS, config_from_params
from ansible_collections.opswat.it_access.plugins.module_utils.devices import DEVICE_STATUSES, listing_status
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.session import json_type

# Keys ansible-rulebook itself adds to a source's arguments start with this (eda_feedback_queue, ...).
ENGINE_ARGUMENT_PREFIX = "eda_"

PAYLOAD_FIELDS = ("device_id", "device_name", "status", "previous_status", "severity", "group_name", "observed_at")

MAX_SHOWN_CHARS = 60  # of a value an error quotes back
_TRUE_WORDS = ("true", "yes", "on", "1")
_FALSE_WORDS = ("false", "no", "off", "0")


class SourceStopped(Exception):
    """Raised in the client's thread when the source was cancelled: its waits end at once."""


class Stopper(object):
    """The client's ``sleep``: it waits on an event, so that cancelling the source ends any pacing, 429 or back-off
    wait of the thread at once (a thread cannot be cancelled) instead of holding the engine's shutdown."""

    def __init__(self):
        self._event = threading.Event()

    def stop(self):
        self._event.set()

    @property
    def stopped(self):
        return self._event.is_set()

    def sleep(self, seconds):
        if self._event.wait(max(0.0, seconds)):
            raise SourceStopped()


def source_logger(source_name):
    """The logger of a source: ansible-rulebook shows its lines with -v (info) and -vv (debug)."""
    return logging.getLogger(source_name)


def check_known_arguments(args, known):
    """InputError naming the first argument that is none of ``known`` (a typo would otherwise be ignored)."""
    for name in sorted(args):
        if name not in known and not str(name).startswith(ENGINE_ARGUMENT_PREFIX):
            raise InputError(name, "is not an argument of this source; the arguments are %s" % ", ".join(sorted(known)))


def integer_argument(args, name, default, minimum, maximum):
    """``args[name]`` as an integer of ``minimum``..``maximum`` (a string of digits, as a template renders it, is
    accepted; a boolean is not)."""
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(name, "must be a whole number from %d to %d, got %r" % (minimum, maximum, value))
    return value


def number_argument(args, name, default, minimum, maximum):
    """``args[name]`` as a finite number of ``minimum``..``maximum`` (a numeric string accepted; a boolean not)."""
    value = args.get(name)
    if value is None:
        return default
    number = None
    if not isinstance(value, bool) and isinstance(value, (int, float, str)):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not minimum <= number <= maximum:
        raise InputError(name, "must be a number from %s to %s, got %r" % (minimum, maximum, value))
    return number


def string_argument(args, name, default, secret=False):
    """``args[name]`` as a string; ``secret``: an error never quotes it."""
    value = args.get(name)
    if value is None:
        return default
    if not isinstance(value, str):
        raise InputError(name, "must be a string, got %s" % ("a JSON %s" % json_type(value) if secret else shown(value)))
    return value


def shown(value):
    """A value as an error quotes it back: a string's repr cut to a few dozen characters, else its JSON type."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= MAX_SHOWN_CHARS else text[:MAX_SHOWN_CHARS] + "..."
    return "a JSON %s" % json_type(value)


def boolean_argument(args, name, default):
    """``args[name]`` as a boolean: true/false (or yes/no, on/off, 1/0 as strings); anything else is an error."""
    value = args.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS + _FALSE_WORDS:
        return value.strip().lower() in _TRUE_WORDS
    raise InputError(name, "must be true or false, got %r" % (value,))


def statuses_argument(args, name="statuses"):
    """``args[name]``: a list of device statuses in Get Devices' spelling (``non_compliant``); None when unset."""
    value = args.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InputError(name, "must be a list of statuses, got %r" % (value,))
    wrong = [status for status in value if not isinstance(status, str) or status not in DEVICE_STATUSES]
    if wrong:
        raise InputError(name, "unknown status(es) %s; choose from %s (Get Devices' spelling)"
                         % (", ".join(repr(status) for status in wrong), ", ".join(DEVICE_STATUSES)))
    return list(value)


def path_argument(args, name):
    """``args[name]`` as an absolute path (``~`` expanded); None when unset or empty (a template's way to say unset)."""
    value = args.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.strip():
        raise InputError(name, "must be a file path, got %r" % (value,))
    return os.path.abspath(os.path.expanduser(value))


def connection_config(args, environ=None):
    """The ``ConnectionConfig`` of a source: each connection option from its argument, else from its environment
    variable (the modules' OPSWAT_* variables), else its default. An error names the option, and the variable when
    the value came from one."""
    environ = os.environ if environ is None else environ
    params, sources, unreadable = {}, {}, {}
    for name, option in CONNECTION_OPTIONS.items():
        value = args.get(name)
        if value is None and option["env"] in environ:
            value = environ[option["env"]]
            sources[name] = option["env"]
        try:
            params[name] = _typed(name, option["type"], value)
        except InputError as error:
            unreadable[name] = error.reason
            params[name] = None
    return config_from_params(params, sources=sources, unreadable=unreadable)


def _typed(name, kind, value):
    """A connection option's value converted as a module's argument spec would, with a strict boolean."""
    if value is None:
        return None
    if kind == "bool":
        return boolean_argument({name: value}, name, None)
    if kind in ("int", "float"):
        if isinstance(value, bool):
            raise InputError(name, "must be a number, got %r" % (value,))
        try:
            number = float(value) if kind == "float" else int(str(value).strip())
        except (TypeError, ValueError):
            raise InputError(name, "cannot be read as %s, got %r" % (kind, value)) from None
        if kind == "float" and not math.isfinite(number):
            raise InputError(name, "must be a finite number, got %r" % (value,))
        return number
    if not isinstance(value, str):
        raise InputError(name, "must be a string, got %r" % (value,))
    return os.path.expanduser(value) if kind == "path" else value


def account_identity(config):
    """What tells one account's checkpoint from another's: the API URL and the client ID (never a secret)."""
    return {"api_url": config.api_url, "client_id": config.client_id}


def new_client(config, stopper, logger):
    """A ``Client`` whose waits end when ``stopper`` is stopped; its debug lines and warnings go to ``logger``
    (already redacted by the client)."""
    return Client(config, sleep=stopper.sleep, log=logger.debug, warn=logger.warning)


async def in_thread(function, *args):
    """``function(*args)`` run in a worker thread: the client is synchronous and must not block the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, function, *args)


def utc_timestamp(epoch_seconds):
    """``epoch_seconds`` as ISO 8601 in UTC, to the millisecond (``2026-12-01T17:02:03.250Z``): every event's
    ``observed_at``, whichever source emits it."""
    moment = datetime.fromtimestamp(epoch_seconds, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def device_payload(event, record, observed_at, previous_status=None):
    """``{"event": event, device_id, device_name, status, previous_status, severity, group_name, observed_at}``
    from a device record (any of its fields may be missing: null); statuses in Get Devices' spelling."""
    payload = {"event": event}
    for field in PAYLOAD_FIELDS:
        payload[field] = record.get(field)
    payload["status"] = listing_status(record.get("status")) or record.get("status")
    payload["previous_status"] = listing_status(previous_status)
    payload["observed_at"] = observed_at
    return payload
