# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client modules and plugins hold: one ``Session`` and a client per API resource on it.

``client.account``, ``client.devices``, ``client.groups``, ``client.status_changes`` and ``client.reports`` send the
requests (see account.py, devices.py, groups.py, status_changes.py, reports.py); everything they raise is an
``OpswatError`` whose message is already redacted. See docs/dev/architecture.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.account import AccountClient
from ansible_collections.opswat.it_access.plugins.module_utils.devices import DevicesClient
from ansible_collections.opswat.it_access.plugins.module_utils.groups import GroupsClient
from ansible_collections.opswat.it_access.plugins.module_utils.logs import LogsClient
from ansible_collections.opswat.it_access.plugins.module_utils.reports import ReportsClient
from ansible_collections.opswat.it_access.plugins.module_utils.session import Session
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import StatusChangesClient
from ansible_collections.opswat.it_access.plugins.module_utils.threats import ThreatsClient
from ansible_collections.opswat.it_access.plugins.module_utils.vulnerabilities import VulnerabilitiesClient


class Client(object):
    """Talks to one IT Access tenant with one ``ConnectionConfig``; a context manager that closes the session.

    Every keyword argument goes to ``Session`` (``on_secret``, ``log``, ``warn``, and for tests ``transport``,
    ``clock``, ``sleep``, ``pacer``, ``token_cache``).
    """

    def __init__(self, config, **session_options):
        self.session = Session(config, **session_options)
        self.account = AccountClient(self.session)
        self.devices = DevicesClient(self.session)
        self.groups = GroupsClient(self.session)
        self.status_changes = StatusChangesClient(self.session)
        self.vulnerabilities = VulnerabilitiesClient(self.session)
        self.threats = ThreatsClient(self.session)
        self.logs = LogsClient(self.session)
        self.reports = ReportsClient(self.session)

    @property
    def metrics(self):
        """``{requests, throttled, retries, waited_seconds}`` of every request sent so far."""
        return self.session.metrics

    def redact(self, text):
        """``text`` with every secret this client knows, and every credential-shaped value, masked."""
        return self.session.redact(text)

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
