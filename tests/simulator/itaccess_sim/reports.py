# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Reports: the answer of each report type, and command results that become ready after a delay.

The API does not say what Get Reports answers while a command's result is not ready, so the answer is a setting
(``NOT_READY_ANSWERS``). Scan findings and missing patches are drawn from the fleet's seed and the device id alone:
the same fleet gives the same report, whatever happened before.
"""

import csv
import hashlib
import io
import random
import urllib.parse
import zipfile

REPORT_TYPES = ("os_patch_summary", "device_missing_os_patch", "missing_os_patch", "agent_log", "scan_threats_log",
                "scan_threat_log")
# The report type that holds each command's result, by the Device Action that started it (the vendor's page
# spells scan_threats_log both ways).
COMMAND_REPORTS = {"agent_log": "fetch_agent_log", "scan_threats_log": "scan_threats", "scan_threat_log": "scan_threats"}
# Every plausible answer while a result is not ready: 404 (not found yet), 202 Accepted, 204 No Content, 200 with
# an empty body, 200 with an empty JSON object, 200 with {"status": "pending"}.
NOT_READY_ANSWERS = ("404", "202", "204", "empty", "empty_object", "pending")
AGENT_LOG_FORMATS = ("zip", "text")

# Patches the simulated Windows devices may miss: (kb, title, severity, release date).
PATCHES = (
    ("KB5034441", "Windows Recovery Environment update", "critical", "2024-01-09"),
    ("KB5035845", "Cumulative Update for Windows 11", "critical", "2024-03-12"),
    ("KB5036893", "Cumulative Update for Windows 11", "important", "2024-04-09"),
    ("KB5037771", "Cumulative Update for Windows 11", "important", "2024-05-14"),
    ("KB5039212", "Cumulative Update for Windows 11", "critical", "2024-06-11"),
    ("KB5040442", "Cumulative Update for Windows 11", "important", "2024-07-09"),
    ("KB5041585", "Cumulative Update for Windows 11", "moderate", "2024-08-13"),
    ("KB890830", "Windows Malicious Software Removal Tool", "low", "2024-08-13"),
)
THREAT_NAMES = ("Trojan.GenericKD.4711", "EICAR-Test-File", "PUA.Win32.Toolbar", "Ransom.WannaCry", "Backdoor.Agent.X",
                "Adware.Bundler", "Worm.Conficker.B")
THREAT_FOLDERS = ("C:\\Users\\Public\\Downloads", "C:\\Windows\\Temp", "C:\\ProgramData\\Updater", "/Users/Shared", "/tmp")
# Draws of how many threats a scan finds: most scans are clean.
THREAT_COUNTS = (0, 0, 0, 0, 0, 0, 1, 1, 2, 3)


class RawAnswer:  # pylint: disable=too-few-public-methods
    """An answer that is not JSON (CSV, ZIP, text or an empty body), sent as it is."""

    def __init__(self, body, content_type=None, headers=None):
        self.body = body
        self.headers = dict(headers or {})
        if content_type is not None:
            self.headers["Content-Type"] = content_type


class ReportError(Exception):
    """An answer decided while building a report: (status, payload)."""

    def __init__(self, status, payload):
        super().__init__(status)
        self.status = status
        self.payload = payload


def scan_findings(seed, device_id):
    """The threats a scan of ``device_id`` finds in a fleet of ``seed``: [{threat_name, file, hash, critical}]."""
    rng = random.Random(f"scan:{seed}:{device_id}")
    findings = []
    for index in range(rng.choice(THREAT_COUNTS)):
        name = rng.choice(THREAT_NAMES)
        folder = rng.choice(THREAT_FOLDERS)
        separator = "\\" if folder.startswith("C:") else "/"
        digest = hashlib.sha256(f"{seed}:{device_id}:{index}:{name}".encode()).hexdigest()
        findings.append({"threat_name": name, "file": f"{folder}{separator}{digest[:8]}.exe", "hash": digest,
                         "critical": name.startswith(("Trojan", "Ransom", "Backdoor", "Worm"))})
    return findings


def missing_patches(seed, device):
    """The patches ``device`` misses (Windows only): [{kb, title, severity, release_date}]."""
    if device["_sim"]["os"] != "windows":
        return []
    rng = random.Random(f"patch:{seed}:{device['device_id']}")
    return [{"kb": kb, "title": title, "severity": severity, "release_date": released}
            for kb, title, severity, released in PATCHES if rng.random() < 0.3]


def agent_log_text(seed, command):
    """The agent log a fetch_agent_log command uploads: a few deterministic lines."""
    device_id = command["device_id"]
    rng = random.Random(f"log:{seed}:{device_id}")
    lines = [f"[agent] device {device_id} command {command['command_id']}"]
    for index in range(5 + rng.randrange(20)):
        lines.append(f"2025-06-30T11:{index % 60:02d}:00Z INFO compliance check {rng.randrange(1 << 32):08x} passed")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _zip(name, data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # A fixed date: the same log gives the same archive, byte for byte.
        archive.writestr(zipfile.ZipInfo(name, date_time=(2025, 6, 30, 12, 0, 0)), data)
    return buffer.getvalue()


def _csv(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return RawAnswer(buffer.getvalue().encode("utf-8"), "text/csv; charset=utf-8")


class Reports:
    """Answers Get Reports against one fleet, with the settings in ``config`` (``report_delay``,
    ``report_not_ready``, ``agent_log_format``, ``report_echo_url``)."""

    def __init__(self, fleet, config):
        self.fleet = fleet
        self.config = config

    def answer(self, query):
        """(status, payload) of one Get Reports request; ``query`` holds its parameters (validated by schema)."""
        kind = query["type"]
        try:
            if kind in COMMAND_REPORTS:
                return self._command_report(kind, query)
            return 200, getattr(self, "_" + kind)(query)
        except ReportError as error:
            return error.status, error.payload

    # ------------------------------------------------------------------------------------ patch reports

    def _os_patch_summary(self, _query):
        counts = dict.fromkeys((patch[0] for patch in PATCHES), 0)
        for device in self.fleet.devices:
            for patch in missing_patches(self.fleet.seed, device):
                counts[patch["kb"]] += 1
        return _csv(("kb", "title", "severity", "release_date", "missing_devices"),
                    [(kb, title, severity, released, counts[kb]) for kb, title, severity, released in PATCHES])

    def _device_missing_os_patch(self, query):
        kb = query.get("kb")
        if not kb:
            raise ReportError(400, {"error": "missing required parameter 'kb' for type device_missing_os_patch"})
        rows = [(device["device_id"], device["device_name"], device["os_info"]["type"], device["group_name"])
                for device in self.fleet.devices
                if any(patch["kb"] == kb.upper() for patch in missing_patches(self.fleet.seed, device))]
        return _csv(("device_id", "device_name", "os_type", "group_name"), rows)

    def _missing_os_patch(self, query):
        key = query.get("id")
        if not key:
            raise ReportError(400, {"error": "missing required parameter 'id' for type missing_os_patch"})
        device = self.fleet.device_by_id(key) or self.fleet.device_by_mac(key)
        if device is None:
            raise ReportError(404, {"error": "Device not found"})
        return {"device_id": device["device_id"], "missing_patches": missing_patches(self.fleet.seed, device)}

    # ---------------------------------------------------------------------------------- command results

    def _command_report(self, kind, query):
        command_id = query.get("command_id")
        if not command_id:
            raise ReportError(400, {"error": f"missing required parameter 'command_id' for type {kind}"})
        command = self.fleet.commands.get(command_id)
        if command is None or command["action"] != COMMAND_REPORTS[kind]:
            raise ReportError(404, {"error": "Report not found"})
        if self.fleet.now() < command["issued_at"] + self.config.report_delay:
            return self._not_ready(command)
        if kind == "agent_log":
            return 200, self._agent_log(command)
        answer = {"command_id": command_id, "device_id": command["device_id"], "status": "completed",
                  "scan_time": command["scan_time"], "threats": scan_findings(self.fleet.seed, command["device_id"])}
        answer["threats_found"] = len(answer["threats"])
        if self.config.report_echo_url:
            # A careless service could echo the request, access token included: clients must not show it.
            answer["report_url"] = "/o/api/v3.1/get_reports?" + urllib.parse.urlencode(query)
        return 200, answer

    def _not_ready(self, command):
        answer = self.config.report_not_ready
        if answer == "404":
            return 404, {"error": "Report not found"}
        if answer == "202":
            return 202, {"message": "The report is being generated"}
        if answer == "204":
            return 204, RawAnswer(b"")
        if answer == "empty":
            return 200, RawAnswer(b"")
        if answer == "empty_object":
            return 200, {}
        return 200, {"command_id": command["command_id"], "status": "pending"}

    def _agent_log(self, command):
        text = agent_log_text(self.fleet.seed, command)
        name = f"agent_log_{command['command_id']}"
        if self.config.agent_log_format == "text":
            return RawAnswer(text, "text/plain; charset=utf-8",
                             {"Content-Disposition": f'attachment; filename="{name}.log"'})
        return RawAnswer(_zip("agent.log", text), "application/zip",
                         {"Content-Disposition": f'attachment; filename="{name}.zip"'})
