# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action catalogue: each action's option checks, why an action does not apply to a device, and the
documentation's tables, which must say what the catalogue says."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible_collections.opswat.it_access.plugins.module_utils import catalogue
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.modules import opswat_device_action

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


def test_exempt_params_need_whole_hours():
    assert catalogue.exempt_params(dict(exempt_hours=0)) == {"exempt_time": 0}
    for value, reason in ((None, "is required"), (True, "not a boolean"), (65000, "between 0 (forever)")):
        with pytest.raises(InputError) as raised:
            catalogue.exempt_params(dict(exempt_hours=value))
        assert raised.value.option == "exempt_hours" and reason in raised.value.reason


def device(**fields):
    base = dict(device_id="d1", device_name="one", status="compliant", agent_type="persistent",
                agent_version="7.6.300.0", os_info={"type": "windows"})
    base.update(fields)
    return base


@pytest.mark.parametrize("action, fields, reason", [
    ("exempt", dict(status="ignored"), "exempt does not apply to devices whose status is ignored"),
    ("unexempt", dict(agent_type="domain controller"), "unexempt does not apply to domain controllers"),
    ("ignore", {}, "ignore applies to unknown devices only"),
    ("unignore", {}, "unignore applies to ignored devices only"),
    ("assign_to_group", dict(agent_type="Domain Controller"), "assign_to_group does not apply to domain controllers"),
    ("dhcprenew", dict(agent_type="on-demand"), "dhcprenew needs a persistent agent; this device has an on-demand agent"),
    ("re-identify", dict(agent_type="none"), "re-identify needs a persistent agent or a mobile one; this device has no agent"),
    ("scan_threats", dict(agent_version="7.6.198.0"), "scan_threats: agent 7.6.198.0 is older than 7.6.206.0"),
    ("fetch_agent_log", dict(os_info={"type": "linux"}), "fetch_agent_log: the agent does not support it on linux (only on mac, windows)"),
])
def test_why_an_action_does_not_apply(action, fields, reason):
    assert catalogue.action_applicability(action, device(**fields)) == (False, reason)


@pytest.mark.parametrize("action, fields, applies", [
    ("scan_threats", {}, True),
    ("scan_threats", dict(agent_version=None), True),   # the device lacks the data: the API decides
    ("scan_threats", dict(agent_type=None), None),
    ("re-identify", dict(agent_type="mobile"), True),
    ("delete", dict(status="unknown"), True),
])
def test_where_an_action_applies_there_is_no_reason(action, fields, applies):
    assert catalogue.action_applicability(action, device(**fields)) == (applies, None)


def test_the_checks_give_the_api_params():
    assert catalogue.action_params("scan_threats", dict(scan_types=["memory", "specific_path", "memory"],
                                                        scan_path="/x")) == dict(full_scan=0, scan_types=[0, 4], path="/x")
    assert catalogue.action_params("scan_threats", dict(full_scan=True)) == dict(full_scan=1)
    assert catalogue.action_params("assign_to_group", dict(group_name="Q")) is None
    with pytest.raises(InputError) as raised:
        catalogue.action_params("unexempt", dict(exempt_hours=1))
    assert str(raised.value) == "exempt_hours: only applies to action=exempt, not action=unexempt"


def test_each_action_only_option_belongs_to_one_action_and_is_in_the_option_spec():
    assert set(catalogue.ACTION_ONLY_OPTIONS) <= set(catalogue.ACTION_OPTIONS)
    assert catalogue.ACTION_OPTIONS["action"]["choices"] == catalogue.ACTIONS
    assert catalogue.ACTION_OPTIONS["scan_types"]["choices"] == catalogue.SCAN_TYPES


def _api_notes_table():
    """{type: (options, idempotent, applies to)} of the Device Action table in docs/dev/api-notes.md."""
    with open(os.path.join(ROOT, "docs", "dev", "api-notes.md")) as handle:
        text = handle.read()
    rows = {}
    for line in text[text.index("## Device Action"):].splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")] if line.strip().startswith("|") else []
        if len(cells) == 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = (tuple(re.findall(r"`([^`]+)`", cells[1])), cells[2], cells[3])
    return rows


def test_the_api_notes_table_is_the_catalogue():
    expected = dict((action.name, (action.options, "yes" if action.idempotent else "no", action.applies_to))
                    for action in catalogue.CATALOGUE.values())
    assert _api_notes_table() == expected


def test_the_module_documentation_is_the_catalogue():
    doc = yaml.safe_load(opswat_device_action.DOCUMENTATION)
    options = doc["options"]
    assert options["action"]["choices"] == catalogue.ACTIONS
    assert options["actions"]["suboptions"]["action"]["choices"] == catalogue.ACTIONS
    assert options["scan_types"]["choices"] == catalogue.SCAN_TYPES
    assert options["actions"]["suboptions"]["scan_types"]["choices"] == catalogue.SCAN_TYPES
    idempotent, commands = doc["attributes"]["idempotent"]["details"]
    assert re.findall(r"C\(([^)]+)\)", idempotent) == [name for name in catalogue.ACTIONS if catalogue.CATALOGUE[name].idempotent]
    assert re.findall(r"C\(([^)]+)\)", commands) == [name for name in catalogue.ACTIONS if not catalogue.CATALOGUE[name].idempotent]
    for option, action in catalogue.ACTION_ONLY_OPTIONS.items():
        assert "O(action=%s)" % action in " ".join(options[option]["description"]), option


def test_the_readme_table_is_the_catalogue():
    with open(os.path.join(ROOT, "README.md")) as handle:
        row = [line for line in handle if line.startswith("| `opswat.it_access.opswat_device_action` |")][0]
    idempotent, commands = re.match(r"[^|]*\| [^|]*\| (.*) \(idempotent\), and (.*) \(commands\)", row).groups()
    assert idempotent.split(", ") == [name for name in catalogue.ACTIONS if catalogue.CATALOGUE[name].idempotent]
    assert commands.split(", ") == [name for name in catalogue.ACTIONS if not catalogue.CATALOGUE[name].idempotent]
