# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Render the fault matrix of docs/reliability.md from a run's report.

    RELIABILITY_REPORT=/tmp/matrix.jsonl python -m pytest -p no:cacheprovider tests/reliability/test_fault_matrix.py
    python tests/reliability/matrix_report.py /tmp/matrix.jsonl > /tmp/matrix.md

The output replaces the tables between the ``matrix:begin`` and ``matrix:end`` markers of the document.
"""

from __future__ import absolute_import, division, print_function

import json
import sys

import test_fault_matrix as matrix

READ_COLUMNS = matrix.READ_TARGETS
GLOBAL_COLUMNS = ("account", "groups", "listing", "action_write")


def load(path):
    results = {}
    with open(path) as handle:
        for line in handle:
            if line.strip():
                entry = json.loads(line)
                results[entry["case"]] = entry
    return results


def expected(row, write=False):
    if row.fails is None:
        parts = ["success"]
        if "throttled" in row.expect:
            parts.append("%d throttled" % row.expect["throttled"])
        if "retries" in row.expect:
            parts.append("%d retr%s" % (row.expect["retries"], "y" if row.expect["retries"] == 1 else "ies"))
        if "tokens" in row.expect:
            parts.append("token fetched again once")
        if "warning" in row.expect:
            parts.append("warning: %s" % row.expect["warning"])
        text = ", ".join(parts)
    else:
        text = "fails: " + " … ".join("`%s`" % item for item in row.fails)
    if write and row.fails is not None:
        text += "; batch %s by the API; the next run sends %s" % (
            "applied" if row.applied else "not applied", "nothing" if row.applied else "only the 10 devices of that batch")
    return text


def cell(entry):
    if entry is None:
        return "—"
    metrics = entry.get("api_requests") or {}
    return "%s %s/%s/%s" % (entry["outcome"], metrics.get("requests", "?"), metrics.get("retries", "?"),
                            metrics.get("throttled", "?"))


def table(rows, columns, results, write=False):
    lines = ["| fault | expected | " + " | ".join("`%s`" % column for column in columns) + " |",
             "|---|---|" + "---|" * len(columns)]
    for row in rows:
        cells = [cell(results.get("%s-%s" % (column, row.name))) if column not in row.not_for else "n/a"
                 for column in columns]
        lines.append("| %s (`%s`) | %s | %s |" % (row.description, row.name, expected(row, write), " | ".join(cells)))
    return lines


def render(results):
    out = ["### Reads (faults on the target's own endpoint; mid-listing: on the third page of six)", ""]
    out += table(matrix.READ_ROWS, READ_COLUMNS, results)
    out += ["", "### Device Action writes (faults on the second of two action requests)", ""]
    out += table(matrix.WRITE_ROWS, ("action_write",), results, write=True)
    out += ["", "### The connection itself", ""]
    out += table(matrix.GLOBAL_ROWS, GLOBAL_COLUMNS, results)
    out += ["", "### Command results (Get Reports)", "",
            "`action_wait`: `opswat_device_action` `scan_threats` with `wait` on 3 devices, the fault on the second"
            " report request; `report`: `opswat_report` `missing_os_patch`, the fault on its request.", "",
            "| case | expected | outcome requests/retries/throttled | action requests |", "|---|---|---|---|"]
    for row, target in [(param.values[0], param.values[1]) for param in matrix.REPORT_CASES]:
        entry = results.get("%s-%s" % (target, row.name))
        actions = entry["action_requests"] if entry else "—"
        out.append("| `%s-%s` | %s | %s | %s |" % (target, row.name, expected(row), cell(entry), actions))
    out += ["", "### Inventory plugin (`ansible-inventory --list -vvvv`) and role (`ansible-playbook -vvvv`)", "",
            "| case | outcome | message | seconds |", "|---|---|---|---|"]
    for name, entry in sorted(results.items()):
        if name.startswith(("inventory-", "inventory_refresh-", "role-")):
            seconds = entry["seconds"] if entry["seconds"] is not None else "(one run)"
            out.append("| `%s` | %s | %s | %s |" % (name, entry["outcome"], (entry["msg"] or "").replace("|", "\\|")[:160],
                                                    seconds))
    out += ["", "<details><summary>Every module case of the last run</summary>", "",
            "| case | outcome | requests/retries/throttled | action requests | seconds | message |",
            "|---|---|---|---|---|---|"]
    for name, entry in sorted(results.items()):
        if name.startswith(("inventory-", "inventory_refresh-", "role-", "soak")):
            continue
        metrics = entry.get("api_requests") or {}
        out.append("| `%s` | %s | %s/%s/%s | %s | %s | %s |" % (
            name, entry["outcome"], metrics.get("requests"), metrics.get("retries"), metrics.get("throttled"),
            entry["action_requests"], entry["seconds"], (entry["msg"] or "").replace("|", "\\|")[:140]))
    out += ["", "</details>"]
    return "\n".join(out)


if __name__ == "__main__":
    print(render(load(sys.argv[1])))
