# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Account Details (v3.2): the client of the account resource, on a Session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
from ansible_collections.opswat.it_access.plugins.module_utils.session import json_type

ACCOUNT_PATH = "/o/api/v3.2/account"


class AccountClient(object):
    def __init__(self, session):
        self._session = session

    def get(self, score_type="opswat_score"):
        """Account Details as the API returns it; the license key, if any, is masked in every message from now on."""
        session = self._session
        response, account = session.call("POST", ACCOUNT_PATH, json_body={"score_type": score_type})
        if not isinstance(account, dict):
            raise session.unexpected("POST", ACCOUNT_PATH, response, "expected a JSON object")
        license_key = account.get("license_key")
        if license_key is not None and not isinstance(license_key, str):
            # The body is not quoted: the redactor does not know a license key in this shape.
            raise UnexpectedResponseError(session.redact(
                "POST %s: unexpected answer: license_key is a JSON %s, expected a string"
                % (session.requested_path(ACCOUNT_PATH), json_type(license_key))), status=response.status)
        if isinstance(license_key, str):
            # Returned to the user only when asked for; never to appear in an error or a log line.
            session.mask(license_key)
        return account
