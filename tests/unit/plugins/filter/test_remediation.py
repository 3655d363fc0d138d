# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation role's filters are its planner's functions under their published names."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.filter import remediation as remediation_filters
from ansible_collections.opswat.it_access.plugins.plugin_utils import remediation


def test_filters_are_registered():
    assert remediation_filters.FilterModule().filters() == dict(
        remediation_rules=remediation.check_rules, remediation_plan=remediation.plan,
        remediation_summary=remediation.summary)


def test_a_rule_passes_through_the_filters_as_the_role_chains_them():
    filters = remediation_filters.FilterModule().filters()
    rules = [dict(name="release", match={"status": ["exempted"]}, action="unexempt")]
    assert [rule["controls"] for rule in filters["remediation_rules"](rules)] == ["exemption"]
    entries = filters["remediation_plan"]([dict(device_id="a", status="exempted")], rules, now="2025-06-30T12:00:00Z")
    assert [entry["device_action"] for entry in entries] == [dict(action="unexempt", device_ids=["a"])]
    assert filters["remediation_summary"](entries)["rules"][0]["targets"] == 1
