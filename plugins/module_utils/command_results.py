# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting for the results of device commands (opswat_device_action ``wait``): the checks of the wait options, the
poll of Get Reports for each command (oldest first, within the pace and ``wait_timeout``) and each device's result.

The API has one command per device, so waiting on K devices costs at least K report requests; a command is asked
for again only after every other one waiting was asked, and never sooner than MIN_REPOLL_SECONDS after.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections import deque

from ansible_collections.opswat.it_access.plugins.module_utils.catalogue import CATALOGUE
from ansible_collections.opswat.it_access.plugins.module_utils.devices import unique_ids
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, OpswatError
from ansible_collections.opswat.it_access.plugins.module_utils.files import (
    StreamTarget, check_directory, command_file_name, write_file)
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer
from ansible_collections.opswat.it_access.plugins.module_utils.reports import scan_findings

DEFAULT_WAIT_TIMEOUT = 600
MIN_REPOLL_SECONDS = 2.0
WAITED_ACTIONS = sorted(name for name, action in CATALOGUE.items() if action.result is not None)
_EXTENSIONS = {"application/zip": "zip", "application/x-zip-compressed": "zip", "application/gzip": "gz",
               "application/x-gzip": "gz", "text/plain": "log", "application/json": "json", "text/csv": "csv"}


class Waiting(object):
    """The checked wait options of a task: the actions waited on, ``timeout`` in seconds, ``dest`` (absolute)."""

    def __init__(self, requests, timeout, dest):
        self.requests = requests
        self.timeout = timeout
        self.dest = dest
        self.failure = None  # the error that stopped the poll, if one did
        self.fetched = 0


class _Command(object):
    """One command waited on, and the entries of the devices it was sent for (two MACs of one device: one command)."""

    def __init__(self, action, command_id, entries):
        self.action = action
        self.report_type = CATALOGUE[action].result
        self.command_id = command_id
        self.entries = entries
        self.asked_at = None


def check_wait(params, requests):
    """A ``Waiting`` for the task's options, None without ``wait``; an InputError, before any request, for wait
    options that cannot work (``wait`` with no action that has a result, ``dest`` missing or not a writable
    directory, ``dest`` or a ``wait_timeout`` below 1 where they do not apply)."""
    if not params.get("wait"):
        if params.get("dest") is not None:
            raise InputError("dest", "only applies with wait=true")
        return None
    waited = [request for request in requests if CATALOGUE[request.action].result is not None]
    if not waited:
        raise InputError("wait", "only applies to actions with a result (%s), not action=%s"
                         % (", ".join(WAITED_ACTIONS), ", ".join(request.action for request in requests)))
    timeout = params.get("wait_timeout")
    timeout = DEFAULT_WAIT_TIMEOUT if timeout is None else timeout
    check_integer("wait_timeout", timeout)
    if timeout < 1:
        raise InputError("wait_timeout", "must be at least 1 second, got %d" % timeout)
    logs = any(request.action == "fetch_agent_log" for request in waited)
    dest = params.get("dest")
    if logs and dest is None:
        raise InputError("dest", "is required with wait=true and fetch_agent_log: the directory the agent logs are"
                                 " saved in")
    if dest is not None and not logs:
        raise InputError("dest", "only applies to fetch_agent_log with wait=true (the directory its agent logs are"
                                 " saved in)")
    return Waiting(waited, timeout, check_directory(dest) if dest is not None else None)


def _commands(waiting):
    """The commands sent, in the order they were sent (oldest first); every waited entry gets ``report: None``."""
    commands, by_id = [], {}
    for request in waiting.requests:
        for entry in request.results:
            entry["report"] = None
            if entry["result"] != "changed" or not entry.get("command_id"):
                continue
            command = by_id.get(entry["command_id"])
            if command is None:
                command = by_id[entry["command_id"]] = _Command(request.action, entry["command_id"], [])
                commands.append(command)
            command.entries.append(entry)
    return commands


def wait_for_results(client, waiting, check_mode):
    """Poll Get Reports for each command of ``waiting`` until its result is in or ``timeout`` passes, and record
    each device's result. Check mode sends no command and no poll: each device stays as it would be sent.

    A poll that fails (after the session's own retries) stops the wait: the results fetched so far stay, the others
    are ``pending`` with what happened, and ``waiting.failure`` holds the error.
    """
    if check_mode:
        _commands(waiting)
        return
    session = client.session
    queue = deque(_commands(waiting))
    deadline = session.clock() + waiting.timeout
    while queue:
        command = queue[0]
        now = session.clock()
        if now >= deadline:
            break
        if command.asked_at is not None and command.asked_at + MIN_REPOLL_SECONDS > now:
            pause = command.asked_at + MIN_REPOLL_SECONDS - now
            if now + pause >= deadline:
                break
            session.sleep(pause)
            continue
        try:
            done = _fetch(client, waiting, command)
        except OpswatError as error:
            waiting.failure = error
            break
        command.asked_at = session.clock()
        queue.popleft()
        if not done:
            queue.append(command)
    for command in queue:
        _mark_pending(waiting, command)


def _fetch(client, waiting, command):
    """Ask for one command's result once and record it; False when it is not ready yet. An agent log is streamed
    to a temporary file under ``dest`` as it arrives, and renamed when it is whole."""
    try:
        with (StreamTarget(waiting.dest) if command.report_type == "agent_log" else _NoTarget()) as target:
            report = client.reports.get(command.report_type, command_id=command.command_id, sink=target.file)
            if report is None:
                return False
            outcome = _outcome(client, waiting, command, report, target)
    except (OSError, IOError) as error:
        for entry in command.entries:
            entry.update(result="pending", error="the result came in and could not be saved (%s); fetch it again"
                         " with opswat_report (type=%s, command_id=%s)" % (
                             getattr(error, "strerror", None) or error, command.report_type, command.command_id))
        return True
    waiting.fetched += 1
    for entry in command.entries:
        entry["report"] = dict(outcome)
    return True


class _NoTarget(object):
    """No sink: the answer is held in memory (a scan result)."""

    file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None


def _outcome(client, waiting, command, report, target):
    if command.report_type == "agent_log" or report.kind == "file":
        return _saved(client, waiting, command, report, target)
    threats, summary = scan_findings(report)
    outcome = dict(summary, threats=threats, threats_found=len(threats))
    for key in ("command_id", "device_id"):
        outcome.pop(key, None)
    return outcome


def _saved(client, waiting, command, report, target):
    """The result saved under ``dest``: ``{path, size, sha256, content_type}``; a file answer of a scan without
    ``dest`` is described only."""
    if waiting.dest is None:
        return dict(path=None, size=report.size, content_type=report.content_type, threats=None, threats_found=None)
    name = command_file_name(command.entries[0]["device_id"], command.command_id,
                             _EXTENSIONS.get(report.content_type, "bin"))
    path = os.path.join(waiting.dest, name)
    if report.content is None:
        written = target.commit(path)
    else:
        written = write_file(path, client.reports.redacted_text(report))
    return dict(path=written["path"], size=written["size"], sha256=written["sha256"], content_type=report.content_type)


def _mark_pending(waiting, command):
    if waiting.failure is not None:
        why = "not fetched: Get Reports failed while waiting (%s)" % waiting.failure.message.rstrip(".")
    else:
        why = "no result within wait_timeout (%d s)" % waiting.timeout
    for entry in command.entries:
        entry.update(result="pending", error="%s; the command was sent: fetch its result later with opswat_report"
                     " (type=%s, command_id=%s)" % (why, command.report_type, command.command_id))


def finish_result(result, requests, waiting, allow_partial):
    """The task's result after waiting, from the one ``one_action_result`` or ``several_actions_result`` built for
    ``requests``: a ``pending`` device is in ``changed_ids`` (its command was sent) and in ``failed_ids``; the task
    fails when a poll failed, or (unless ``allow_partial``) when a result is ``pending``."""
    blocks = [result] if "actions" not in result else result["actions"]
    pending = 0
    for block, request in zip(blocks, requests):
        late = [entry["id"] for entry in request.results if entry["result"] == "pending"]
        pending += len(late)
        if late:
            block["changed_ids"] = [entry["id"] for entry in request.results
                                    if entry["result"] in ("changed", "pending")]
            block["failed_ids"] = unique_ids(block["failed_ids"] + late)
            block["changed"] = True
    result["changed"] = result["changed"] or bool(pending)
    counts = "%d result(s) fetched, %d pending" % (waiting.fetched, pending)
    if waiting.failure is not None:
        message = "Waiting for the command results stopped: %s. %s; every device's entry says what is known." % (
            waiting.failure.message.rstrip("."), counts)
    elif pending and not allow_partial:
        message = ("%s within wait_timeout (%d s) (see failed_ids); the commands were sent. Set allow_partial=true"
                   " to accept this, or fetch the results later with opswat_report." % (counts, waiting.timeout))
    else:
        return result
    result.update(failed=True, msg="%s %s" % (result["msg"], message) if result.get("failed") else message)
    return result
