# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Get Vulnerabilities: the CVEs of the account (v3.1) or of one device (v3.2), and their vocabulary; on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError, NotFoundError
from ansible_collections.opswat.it_access.plugins.module_utils.session import MAX_PAGE_SIZE, json_type

ACCOUNT_CVES_PATH = "/o/api/v3.1/cves"
DEVICE_CVES_PATH = "/o/api/v3.2/get_cves"  # v3.2 brought filter.kev
# The API's maximum a page of one device's CVEs; the account-wide listing's is MAX_PAGE_SIZE.
DEVICE_CVES_PAGE_SIZE = 100

SCORE_TYPES = ["opswat_score", "cvss2_score", "cvss3_score"]
# The severities each score type has (docs/dev/api-notes.md, Get Vulnerabilities).
SEVERITIES_BY_SCORE_TYPE = {
    "opswat_score": ["critical", "important", "moderate", "low", "unknown"],
    "cvss3_score": ["critical", "high", "medium", "low", "none"],
    "cvss2_score": ["high", "medium", "low"],
}
ALL_SEVERITIES = sorted(set(value for values in SEVERITIES_BY_SCORE_TYPE.values() for value in values))
SORT_FIELDS = ["opswat_score", "cvss2_score", "cvss3_score", "severity", "cve_id"]
SORT_ORDERS = ["asc", "desc"]

# The fields of a CVE record that hold one value: a user compares and sorts on them.
CVE_VALUE_FIELDS = ("cve_id", "severity", "summary", "publish_date", "update_date", "opswat_score", "cvss2_score",
                    "cvss3_score", "remediation", "cwe_id")


def check_max_entries(value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InputError("max_entries", "must be an integer of 1 or more, got %r" % (value,))


def check_severities(score_type, severities):
    """``severities`` when each is a severity of ``score_type``; InputError naming the option otherwise."""
    if score_type not in SEVERITIES_BY_SCORE_TYPE:
        raise InputError("score_type", "must be one of %s, got %r" % (", ".join(SCORE_TYPES), score_type))
    allowed = SEVERITIES_BY_SCORE_TYPE[score_type]
    for value in severities or ():
        if value not in allowed:
            raise InputError("severity", "%r is not a severity of score_type %s (its severities: %s)"
                             % (value, score_type, ", ".join(allowed)))
    return severities


class VulnerabilitiesClient(object):
    def __init__(self, session):
        self._session = session

    def of_device(self, device, kev_only=False, verbose=False, max_entries=None):
        """The CVEs of ``device`` (a device id or a MAC), 100 a page; None when the API does not know the device.

        ``kev_only``: known-exploited ones only; ``verbose``: every field (else the ids alone, each as
        ``{"cve_id": ...}``). At most ``max_entries``: the paging stops as soon as it has them.
        """
        check_max_entries(max_entries)
        body = {"id": device, "verbose": 1 if verbose else 0}
        if kev_only:
            body["filter"] = {"kev": 1}
        try:
            return self._listing(DEVICE_CVES_PATH, body, DEVICE_CVES_PAGE_SIZE, max_entries)
        except NotFoundError:
            return None

    def account(self, search=None, severities=None, score_type="opswat_score", sort_by=None, sort_order=None,
                max_entries=None):
        """The account's CVEs (Get Vulnerabilities v3.1), 50 a page; ``severities`` those of ``score_type``.

        Without ``sort_by`` the API's own order; ``sort_order`` needs ``sort_by``. At most ``max_entries``.
        """
        check_max_entries(max_entries)
        check_severities(score_type, severities)
        if sort_by is not None and sort_by not in SORT_FIELDS:
            raise InputError("sort_by", "must be one of %s, got %r" % (", ".join(SORT_FIELDS), sort_by))
        if sort_order is not None and sort_order not in SORT_ORDERS:
            raise InputError("sort_order", "must be asc or desc, got %r" % (sort_order,))
        if sort_order is not None and sort_by is None:
            raise InputError("sort_order", "needs sort_by (the API sorts on a field)")
        body = {"filter": {"score_type": score_type}}
        if severities:
            body["filter"]["severity"] = list(severities)
        if search:
            body["search"] = search
        if sort_by is not None:
            body["sort"] = {"field": sort_by, "order": sort_order or "asc"}
        return self._listing(ACCOUNT_CVES_PATH, body, MAX_PAGE_SIZE, max_entries)

    def _listing(self, path, body, page_size, max_entries):
        records = []
        pages = self._session.numbered_pages(path, body, "CVEs", self._shape(path), page_size=page_size)
        for _response, page in pages:
            records.extend(page)
            if max_entries is not None and len(records) >= max_entries:
                return records[:max_entries]
        return records

    def _shape(self, path):
        def shape(response, data):
            records = self._records(path, response, data)
            return records, len(records)
        return shape

    def _records(self, path, response, data):
        """The CVE records of one answer: a bare list or the ``cves`` list of an object; a bare id is a record."""
        session = self._session
        items = data.get("cves", []) if isinstance(data, dict) else data
        if not isinstance(items, list):
            raise session.unexpected("POST", path, response, "expected a JSON list, or an object with a cves list")
        records = []
        for index, item in enumerate(items):
            record = {"cve_id": item} if isinstance(item, str) else item
            if not isinstance(record, dict):
                raise session.unexpected("POST", path, response, "cves[%d] is a JSON %s, expected an object or a CVE id"
                                         % (index, json_type(item)))
            cve_id = record.get("cve_id")
            if not isinstance(cve_id, str) or not cve_id:
                what = "is missing" if cve_id is None else ("is empty" if cve_id == "" else
                                                            "is a JSON %s, expected a string" % json_type(cve_id))
                raise session.unexpected("POST", path, response, "cves[%d].cve_id %s" % (index, what))
            records.append(record)
        session.check_fields("POST", path, response, records, "cves", CVE_VALUE_FIELDS)
        return records
