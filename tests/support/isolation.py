# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Autouse fixtures of the functional and reliability suites: every test sees the collection as a new machine
would. Each suite's conftest imports them (an imported fixture is registered like one defined there)."""

from __future__ import absolute_import, division, print_function

import os
import shutil
import tempfile

import pytest


@pytest.fixture(autouse=True)
def no_stray_environment(monkeypatch):
    """A developer's OPSWAT_* variables must not change what a test sees."""
    for name in list(os.environ):
        if name.startswith("OPSWAT_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def private_state_directory(monkeypatch, tmp_path_factory):
    """Give a test its own temp directory for the collection's state (the pace and the token cache), in this
    process and in every ansible run it starts: a token cached by an earlier test for a simulator that happened to
    listen on the same port must not be sent (and rejected) here, and no test's pace may hold another's back.

    A short path of its own, not pytest's ``tmp_path``: ansible-core puts a Unix socket in it, and those paths are
    limited to about 100 characters.
    """
    tmp_path_factory.getbasetemp()  # pytest's own temp root is chosen now, outside the private directory
    path = tempfile.mkdtemp(prefix="oit-")
    monkeypatch.setenv("TMPDIR", path)
    monkeypatch.setattr(tempfile, "tempdir", path)
    yield path
    shutil.rmtree(path, ignore_errors=True)
