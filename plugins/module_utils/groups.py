# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Groups (v3): the client of the groups resource, on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

GROUPS_PATH = "/o/api/v3/groups"

# The fields of a group the collection compares or sends back (group look-ups by name or id).
GROUP_VALUE_FIELDS = ("group_id", "group_name")


class GroupsClient(object):
    def __init__(self, session):
        self._session = session

    def list(self):
        """Every group, in pages of 50 (``Session.numbered_pages``: the end and the repeat checks)."""
        groups = []
        for _response, items in self._session.numbered_pages(GROUPS_PATH, {}, "groups", self._shape):
            groups.extend(items)
        return groups

    def _shape(self, response, data):
        session = self._session
        items = session.list_of_objects("POST", GROUPS_PATH, response, data, "groups")
        session.check_fields("POST", GROUPS_PATH, response, items, "groups", GROUP_VALUE_FIELDS)
        return items, len(items)
