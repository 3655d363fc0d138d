# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation role's filters, over its planner (plugins/plugin_utils/remediation.py). The documentation of
each filter is in the ``.yml`` file of the same name next to this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.plugin_utils.remediation import check_rules, plan, summary


class FilterModule(object):
    """The remediation role's filters."""

    def filters(self):
        return {
            "remediation_rules": check_rules,
            "remediation_plan": plan,
            "remediation_summary": summary,
        }
