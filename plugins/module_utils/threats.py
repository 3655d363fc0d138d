# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Threats (v3): what the antimalware scans of one device found; on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.errors import NotFoundError
from ansible_collections.opswat.it_access.plugins.module_utils.session import json_type
from ansible_collections.opswat.it_access.plugins.module_utils.vulnerabilities import check_max_entries

THREATS_PATH = "/o/api/v3/get_threats"

# The fields of a scan result that hold one value (docs/dev/api-notes.md, Get Threats).
THREAT_VALUE_FIELDS = ("critical", "scan_time", "file", "hash", "threat_name")


class ThreatsClient(object):
    def __init__(self, session):
        self._session = session

    def of_device(self, device, max_entries=None):
        """The antimalware scan results of ``device`` (a device id or a MAC), 50 a page, in the API's order;
        None when the API does not know the device. At most ``max_entries``."""
        check_max_entries(max_entries)
        body = {"id": device, "verbose": {"antimalware_scan": 1, "local_antimalware_threats": 0}}
        threats = []
        try:
            for _response, page in self._session.numbered_pages(THREATS_PATH, body, "threats", self._shape):
                threats.extend(page)
                if max_entries is not None and len(threats) >= max_entries:
                    return threats[:max_entries]
        except NotFoundError:
            return None
        return threats

    def _shape(self, response, data):
        """The scan results of one answer: the ``antimalware_scan`` list (absent: none) or a bare list."""
        session = self._session
        items = data.get("antimalware_scan", []) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise session.unexpected("POST", THREATS_PATH, response,
                                     "expected an object with an antimalware_scan list, or a JSON list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise session.unexpected("POST", THREATS_PATH, response, "antimalware_scan[%d] is a JSON %s, expected"
                                         " an object" % (index, json_type(item)))
        session.check_fields("POST", THREATS_PATH, response, items, "antimalware_scan", THREAT_VALUE_FIELDS)
        return items, len(items)
