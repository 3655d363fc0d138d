# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures every unit test shares: a private state directory, and the fake-transport harness."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import tempfile

import pytest

from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import Harness


@pytest.fixture(autouse=True)
def private_tempdir(monkeypatch, tmp_path):
    """The shared pace file, the token cache and every other state file go to a directory of this test."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


@pytest.fixture
def harness():
    """A client on the fake transport; the test fails if a scripted exchange was not used."""
    harness = Harness()
    yield harness
    harness.transport.assert_done()
