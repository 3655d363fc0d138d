# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures of the reliability suite (helpers live in reliability_harness.py, importable from every test file)."""

from __future__ import absolute_import, division, print_function

import pytest

import reliability_harness as harness
from isolation import no_stray_environment, private_state_directory  # noqa: F401  pylint: disable=unused-import  # autouse


def pytest_configure(config):
    config.addinivalue_line("markers", "soak: the full 1,000-run soak (RELIABILITY_SOAK_RUNS sets the number)")


@pytest.fixture
def make_sim():
    """Factory of started simulators (this suite's credentials and scaled limit), stopped at teardown."""
    started = []

    def make(**options):
        sim = harness.make_simulator(**options)
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
        assert not sim.errors, sim.errors


@pytest.fixture
def fast():
    """In-process modules build a client whose back-off is scaled like the simulator's window."""
    with harness.fast_client():
        yield
