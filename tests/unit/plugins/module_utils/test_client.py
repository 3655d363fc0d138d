# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The client: one session, a client per API resource on it, closed with the session."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


def test_close_closes_the_transport(harness):
    with harness.client() as client:
        pass
    assert client is not None and harness.transport.closed
