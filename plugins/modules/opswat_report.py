#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: opswat_report
short_description: Fetch an IT Access report (patches, a scan's result, an agent log), and optionally save it
version_added: 0.1.0
description:
  - Fetches one report with Get Reports v3.1, in one request. A JSON answer is returned parsed (RV(report)), a CSV
    answer as rows (RV(rows)).
  - With O(dest), the answer is also written to that file, atomically, and the task is C(changed) only when the
    file's content (or O(mode)) differs, as M(ansible.builtin.get_url) does with a checksum. A ZIP or any other
    file answer needs O(dest).
  - The results of C(scan_threats) and C(fetch_agent_log) commands (O(command_id), from
    M(opswat.it_access.opswat_device_action)) may not be ready yet. The API does not say how it answers then;
    every plausible answer (HTTP 404, 202, 204, an empty body, an empty or C(pending) JSON object) gives
    RV(ready=false) and the task does not fail, so that a task can retry with C(until) (see the examples).
    M(opswat.it_access.opswat_device_action) with C(wait) waits for them itself.
  - JSON and CSV answers are returned, and written, with every secret the task knows masked (a report may echo
    the request's URL, access token included); a file answer is written as received.
author:
  - opswat.it_access maintainers (@opswat-it-access)
extends_documentation_fragment:
  - opswat.it_access.connection
  - opswat.it_access.attributes
  - opswat.it_access.attributes.ACTION_GROUP
attributes:
  check_mode:
    support: full
    details:
      - In check mode the report is fetched (a read) and nothing is written; C(changed) says whether O(dest) would
        change.
  diff_mode:
    support: none
  idempotent:
    support: full
    details:
      - With O(dest), a second run that fetches the same content changes nothing.
options:
  type:
    description:
      - The report. C(os_patch_summary) is the account's OS patch summary; C(device_missing_os_patch) the devices
        missing the patch O(kb); C(missing_os_patch) the patches one device (O(device_id) or O(mac)) misses;
        C(scan_threats_log) and C(agent_log) the result of a C(scan_threats) or C(fetch_agent_log) command
        (O(command_id)).
    type: str
    required: true
    choices: [os_patch_summary, device_missing_os_patch, missing_os_patch, agent_log, scan_threats_log]
  kb:
    description: The patch, for example C(KB5034441). Required with, and only for, O(type=device_missing_os_patch).
    type: str
  device_id:
    description: The device, by device ID. With O(type=missing_os_patch), exactly one of O(device_id) and O(mac).
    type: str
  mac:
    description: The device, by MAC address in any usual notation. Only with O(type=missing_os_patch).
    type: str
  command_id:
    description:
      - The command, as M(opswat.it_access.opswat_device_action) returned it in RV(opswat.it_access.opswat_device_action#module:devices[].command_id).
      - Required with, and only for, O(type=agent_log) and O(type=scan_threats_log).
    type: str
  dest:
    description:
      - A file to write the answer to; its directory must exist and be writable. Required with O(type=agent_log)
        (an agent log is a file), and whenever the answer is a file.
      - Written atomically (a temporary file beside it, then a rename), only when the content differs. An agent
        log is streamed to that temporary file as it arrives (at most 512 MiB); any other answer is read whole (at
        most 32 MiB) before it is written.
    type: path
  mode:
    description:
      - The mode of O(dest), as an octal string such as C('0640') (quote it in YAML) or an integer.
      - A new file without O(mode) is readable by its owner only (C(0600)); an existing one keeps its mode.
    type: raw
notes:
  - The cost is one request (and the token request, with client credentials); a 5xx answer is retried as every
    read is.
  - The vendor documents the answer formats as CSV, ZIP or JSON without saying which type answers which; the module
    tells them apart by the answer's C(Content-Type).
seealso:
  - module: opswat.it_access.opswat_device_action
"""

EXAMPLES = r"""
- name: Read the account's OS patch summary
  opswat.it_access.opswat_report:
    type: os_patch_summary
  register: patches

- name: Show the patches missing on most devices
  ansible.builtin.debug:
    msg: "{{ patches.rows | sort(attribute='missing_devices') | map(attribute='kb') | list }}"
  when: patches.format == 'csv'

- name: Save the devices missing one patch as CSV
  opswat.it_access.opswat_report:
    type: device_missing_os_patch
    kb: KB5034441
    dest: /var/tmp/missing-KB5034441.csv
    mode: "0640"

- name: The patches one device misses
  opswat.it_access.opswat_report:
    type: missing_os_patch
    mac: AA-BB-CC-DD-EE-01

- name: Start a scan
  opswat.it_access.opswat_device_action:
    action: scan_threats
    full_scan: true
    device_ids:
      - 839219d384a64dc6c93954a61fe74648
  register: scan

- name: Fetch its result, asking again until it is ready
  opswat.it_access.opswat_report:
    type: scan_threats_log
    command_id: "{{ scan.devices[0].command_id }}"
  register: scan_result
  until: scan_result.ready
  retries: 20
  delay: 30
"""

RETURN = r"""
ready:
  description:
    - Whether the report was there. False only for a command's result that is not ready yet (O(type=agent_log),
      O(type=scan_threats_log)); the other keys are then absent or null.
  returned: always
  type: bool
  sample: true
format:
  description: How the answer came - C(json) (see RV(report)), C(csv) (see RV(rows)) or C(file).
  returned: when ready
  type: str
  choices: [json, csv, file]
  sample: csv
content_type:
  description: The answer's media type, without parameters.
  returned: when ready
  type: str
  sample: text/csv
report:
  description: A JSON answer, parsed, with every secret masked.
  returned: when the answer is JSON
  type: raw
  sample: {"device_id": "839219d384a64dc6c93954a61fe74648", "missing_patches": [{"kb": "KB5034441"}]}
rows:
  description: A CSV answer, one dict per row keyed by the header's names, with every secret masked.
  returned: when the answer is CSV
  type: list
  elements: dict
  sample: [{"kb": "KB5034441", "missing_devices": "12"}]
dest:
  description: The file written (or, in check mode, that would be written).
  returned: with O(dest), when ready
  type: str
  sample: /var/tmp/missing-KB5034441.csv
size:
  description: The size of the answer as written, in bytes.
  returned: when ready
  type: int
  sample: 2048
sha256:
  description: The SHA-256 of the answer as written.
  returned: when ready
  type: str
  sample: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
api_requests:
  description: The HTTP requests this task sent.
  returned: always
  type: dict
  contains:
    requests:
      description: Every HTTP request sent, token requests, retries and throttled ones included.
      type: int
      sample: 1
    throttled:
      description: Answers with HTTP 429.
      type: int
      sample: 0
    retries:
      description: >-
        Requests sent again: after a 429 answer or a rejected access token (HTTP 401), and, for reads only,
        after a 5xx answer, a transport error or an answer that is not valid JSON. A device action is never
        sent again once it may have reached the service.
      type: int
      sample: 0
    waited_seconds:
      description: Seconds spent waiting on 429 answers and retry back-off (not the pacing between requests).
      type: float
      sample: 0.0
"""

import hashlib
import os

from ansible_collections.opswat.it_access.plugins.module_utils.devices import normalize_mac
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.files import (
    StreamTarget, check_file_destination, write_file)
from ansible_collections.opswat.it_access.plugins.module_utils.module import run_module
from ansible_collections.opswat.it_access.plugins.module_utils.reports import REPORT_TYPES, report_query

MODULE_OPTIONS = dict(
    type=dict(type="str", required=True, choices=REPORT_TYPES),
    kb=dict(type="str"),
    device_id=dict(type="str"),
    mac=dict(type="str"),
    command_id=dict(type="str"),
    dest=dict(type="path"),
    mode=dict(type="raw"),
)
MODULE_RULES = dict(mutually_exclusive=[("device_id", "mac")])


def file_mode(value):
    """``mode`` as an int: an octal string (``"0640"``) or an int; None when not given."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InputError("mode", "must be an octal string such as '0640' or an integer, not a boolean")
    if isinstance(value, int):
        mode = value
    else:
        try:
            mode = int(str(value).strip(), 8)
        except ValueError:
            raise InputError("mode", "must be an octal string such as '0640' (symbolic modes are not supported),"
                                     " got %r" % (value,))
    if not 0 <= mode <= 0o7777:
        raise InputError("mode", "must be between 0000 and 07777, got %o" % mode)
    return mode


def checked_options(params):
    """``(query, dest, mode)`` from the options; an InputError, before any request, for what cannot work."""
    device = params["device_id"]
    if params["mac"] is not None:
        device = normalize_mac(params["mac"], "mac")
    query = report_query(params["type"], command_id=params["command_id"], kb=params["kb"], device=device)
    mode = file_mode(params["mode"])
    dest = params["dest"]
    if dest is None:
        if params["type"] == "agent_log":
            raise InputError("dest", "is required with type=agent_log: an agent log is a file (a ZIP), saved there")
        if mode is not None:
            raise InputError("mode", "only applies with dest")
        return query, None, None
    return query, check_file_destination(dest), mode


def run(module, client):
    params = module.params
    query, dest, mode = checked_options(params)
    if params["type"] != "agent_log":
        return _result(module, client, query, dest, mode, None)
    # An agent log is streamed to a temporary file beside dest as it arrives, then renamed (or dropped).
    with StreamTarget(os.path.dirname(dest)) as target:
        return _result(module, client, query, dest, mode, target)


def _result(module, client, query, dest, mode, target):
    params = module.params
    report = client.reports.get(params["type"], command_id=query.get("command_id"), kb=query.get("kb"),
                                device=query.get("id"), sink=target.file if target is not None else None)
    if report is None:
        return dict(changed=False, ready=False)
    result = dict(changed=False, ready=True, format=report.kind, content_type=report.content_type)
    if report.content is None:
        written = target.commit(dest, mode=mode, check_mode=module.check_mode)
        result.update(size=written["size"], sha256=written["sha256"], dest=written["path"], changed=written["changed"])
        return result
    if report.kind == "json":
        result["report"] = report.data
    elif report.kind == "csv":
        result["rows"] = report.data
    elif dest is None:
        raise InputError("dest", "is required: the answer is a file (%s, %d bytes); give dest to save it"
                         % (report.content_type, report.size))
    content = client.reports.redacted_text(report)
    result.update(size=len(content), sha256=hashlib.sha256(content).hexdigest())
    if dest is not None:
        written = write_file(dest, content, mode=mode, check_mode=module.check_mode)
        result.update(dest=written["path"], changed=written["changed"])
    return result


def main():
    run_module(run, MODULE_OPTIONS, **MODULE_RULES)


if __name__ == "__main__":
    main()
