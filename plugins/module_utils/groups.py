# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Groups (v3): the client of the groups resource, on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.session import MAX_PAGE_SIZE, digest

GROUPS_PATH = "/o/api/v3/groups"

# The fields of a group the collection compares or sends back (group look-ups by name or id).
GROUP_VALUE_FIELDS = ("group_id", "group_name")


class GroupsClient(object):
    def __init__(self, session):
        self._session = session

    def list(self):
        """Every group, in pages of 50; the listing ends on 413 or a short page, and fails when a page repeats."""
        groups = []
        pages_seen = {}  # digest of a page's groups -> its page number
        page = 1
        while True:
            items = self._page(page, len(groups), pages_seen)
            if items is None:
                break  # past the last page
            groups.extend(items)
            if len(items) < MAX_PAGE_SIZE:
                break
            page += 1
        return groups

    def _page(self, page, listed, pages_seen):
        """The groups of page ``page`` (None past the last one), checked against the pages seen before."""
        session = self._session
        session.check_page_ceiling(GROUPS_PATH, page - 1, "groups", listed)
        response, data = session.call("POST", GROUPS_PATH, json_body={"page": page, "limit": MAX_PAGE_SIZE},
                                      accept_statuses=(413,))
        if response.status == 413:
            return None
        items = session.list_of_objects("POST", GROUPS_PATH, response, data, "groups")
        session.check_fields("POST", GROUPS_PATH, response, items, "groups", GROUP_VALUE_FIELDS)
        fingerprint = digest(items)
        if items and fingerprint in pages_seen:
            raise session.unexpected("POST", GROUPS_PATH, response,
                                     "page %d repeats page %d: the listing would loop" % (page, pages_seen[fingerprint]))
        pages_seen[fingerprint] = page
        return items
