# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client: one session, a client per API resource on it, closed with the session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, DETAILS, GROUPS, STATUS_CHANGES)


def test_close_closes_the_transport(harness):
    with harness.client() as client:
        pass
    assert client is not None and harness.transport.closed


def test_every_resource_client_sends_through_the_one_session(harness):
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    harness.expect("POST", GROUPS, body=[])
    harness.expect("POST", DETAILS, body=[])
    harness.expect("POST", STATUS_CHANGES, body=[])
    client = harness.client()
    client.account.get()
    client.groups.list()
    client.devices.details(["d1"])
    client.status_changes.within(60)
    assert client.metrics == client.session.metrics
    assert client.metrics["requests"] == 4


def test_redact_masks_what_the_session_knows(harness):
    client = harness.client()
    assert ACCESS_TOKEN not in client.redact("token %s" % ACCESS_TOKEN)
