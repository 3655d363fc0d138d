# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``ReportsClient``: Get Reports v3.1 (``GET /o/api/v3.1/get_reports``), its answers told apart (JSON, CSV, a file,
"not ready yet") and the findings of a scan result read from whatever shape it has.

See docs/dev/api-notes.md (Get Reports) for what the API documents and what is assumed here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.session import is_json

REPORTS_PATH = "/o/api/v3.1/get_reports"
REPORT_TYPES = ["os_patch_summary", "device_missing_os_patch", "missing_os_patch", "agent_log", "scan_threats_log"]
# What each report type needs besides ``type``: the option that gives it, and its query parameter.
REPORT_NEEDS = {"device_missing_os_patch": ("kb", "kb"), "missing_os_patch": ("device", "id"),
                "agent_log": ("command_id", "command_id"), "scan_threats_log": ("command_id", "command_id")}
# An agent log is streamed to disk as it arrives, up to transport.FILE_ANSWER_LIMIT_BYTES (512 MiB); any other answer
# is held in memory, up to the cap of one JSON answer (32 MiB).

# The API does not say what it answers while a command's result is not ready: each of these means "not yet".
NOT_READY_STATUSES = (202, 204, 404)
PENDING_WORDS = ("pending", "processing", "in_progress", "queued", "running", "waiting", "not_ready", "generating",
                 "uploading", "started")
_CSV_TYPES = ("text/csv", "application/csv", "text/comma-separated-values")
# A scan result's list of findings, by the names a service plausibly gives it (Get Threats says antimalware_scan).
_FINDING_LISTS = ("threats", "antimalware_scan", "findings", "results", "detections", "infected_files")
_FINDING_FIELDS = (("name", ("threat_name", "name", "threat", "malware_name", "virus_name")),
                   ("file", ("file", "file_path", "path", "file_name")),
                   ("hash", ("hash", "sha256", "sha1", "md5", "file_hash")),
                   ("critical", ("critical", "is_critical")))


class Report(object):
    """One Get Reports answer: ``kind`` ``json`` (``data`` parsed), ``csv`` (``data`` a list of row dicts) or
    ``file`` (``data`` None); ``content`` the bytes as received (None when they were streamed to the sink: then
    ``size`` says how many), ``content_type`` without parameters."""

    def __init__(self, kind, content, content_type, data=None, streamed=None):
        self.kind = kind
        self.content = content
        self.content_type = content_type
        self.data = data
        self._streamed = streamed

    @property
    def size(self):
        return self._streamed if self.content is None else len(self.content)


class ReportsClient(object):
    """Get Reports on a ``Session``."""

    def __init__(self, session):
        self.session = session

    def get(self, report_type, command_id=None, kb=None, device=None, sink=None):
        """The report ``report_type``; None for a command's result that is not ready yet (every answer the API may
        give for that means "not yet": see NOT_READY_STATUSES and ``is_pending``). With ``sink`` (a binary file,
        see ``files.StreamTarget``), an answer that is not JSON is streamed there instead of held in memory."""
        query = report_query(report_type, command_id=command_id, kb=kb, device=device)
        waiting_on_command = report_type in ("agent_log", "scan_threats_log")
        response, data = self.session.call("GET", REPORTS_PATH, query=query, raw_answers=True, sink=sink,
                                           accept_statuses=(404,) if waiting_on_command else ())
        if response.status in NOT_READY_STATUSES:
            return None
        report = self._report(response, data)
        if waiting_on_command and is_pending(report):
            return None
        return report

    def _report(self, response, data):
        """The answer as a Report; ``data`` is its JSON as the session parsed it (None: empty, or not JSON)."""
        content = response.content
        content_type = (response.header("Content-Type") or "").split(";")[0].strip().lower()
        if response.streamed is not None:
            return Report("file", None, content_type or "application/octet-stream", streamed=response.streamed)
        if is_json(response):
            return Report("json", content, content_type, self._redacted(data))
        if content_type in _CSV_TYPES:
            text = content.decode("utf-8-sig", "replace")
            rows = [dict(row) for row in csv.DictReader(io.StringIO(text))]
            return Report("csv", content, content_type, self._redacted(rows))
        return Report("file", content, content_type or "application/octet-stream")

    def _redacted(self, value):
        """``value`` with every secret masked in its strings: a report may echo the request's URL."""
        if isinstance(value, dict):
            return dict((self.session.redact(str(key)), self._redacted(item)) for key, item in value.items())
        if isinstance(value, list):
            return [self._redacted(item) for item in value]
        if isinstance(value, str):
            return self.session.redact(value)
        return value

    def redacted_text(self, report):
        """The bytes to write for ``report``: JSON and CSV with every secret masked, a file as received."""
        if report.kind == "file":
            return report.content
        return self.session.redact(report.content.decode("utf-8", "replace")).encode("utf-8")


def report_query(report_type, command_id=None, kb=None, device=None):
    """Get Reports' query parameters; an InputError when ``report_type`` lacks what it needs or gets what it does not."""
    values = dict(command_id=command_id, kb=kb, device=device)
    need = REPORT_NEEDS.get(report_type)
    query = {"type": report_type}
    for option in ("command_id", "kb", "device"):
        given = values[option] not in (None, "")
        if need is not None and option == need[0]:
            if not given:
                raise InputError(_option_name(option), "is required with type=%s" % report_type)
            query[need[1]] = str(values[option]).strip()
        elif given:
            owners = [name for name, (owner, _param) in sorted(REPORT_NEEDS.items()) if owner == option]
            raise InputError(_option_name(option), "only applies to type=%s, not type=%s" % (
                " or type=".join(owners), report_type))
    return query


def _option_name(option):
    return "device_id or mac" if option == "device" else option


def is_pending(report):
    """Whether a 200 answer to a command's report still means "not ready": an empty body, an empty JSON value, or a
    JSON object whose ``status`` is one of PENDING_WORDS and that holds nothing else of substance."""
    if report.kind == "file" or report.kind == "csv":
        return report.size == 0 if report.content is None else not report.content.strip()
    data = report.data
    if data in (None, {}, [], ""):
        return True
    if isinstance(data, dict):
        status = str(data.get("status") or data.get("state") or "").strip().lower().replace(" ", "_").replace("-", "_")
        return status in PENDING_WORDS
    return False


def scan_findings(report):
    """``(threats, summary)`` of a scan result: each finding as ``{name, file, hash, critical}`` (None where the
    report does not say), and the answer's other single values (``scan_time``, ``status``...)."""
    data = report.data
    records, summary = [], {}
    if isinstance(data, list):
        records = data
    elif isinstance(data, dict):
        for name in _FINDING_LISTS:
            if isinstance(data.get(name), list):
                records = data[name]
                break
        summary = dict((key, value) for key, value in data.items()
                       if not isinstance(value, (list, dict)) and key not in _FINDING_LISTS)
    threats = []
    for record in records:
        if not isinstance(record, dict):
            continue
        finding = dict((field, _first_of(record, names)) for field, names in _FINDING_FIELDS)
        if isinstance(finding["critical"], str):
            finding["critical"] = finding["critical"].strip().lower() in ("1", "true", "yes")
        threats.append(finding)
    return threats, summary


def _first_of(record, names):
    for name in names:
        if record.get(name) not in (None, ""):
            return record[name]
    return None
