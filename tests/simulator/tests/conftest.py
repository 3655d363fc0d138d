# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the simulator's own tests: every test talks to a real simulator over real HTTP."""

import os
import sys

import pytest

# The simulator is not an installed package: tests import it from tests/simulator, as users do with PYTHONPATH.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from itaccess_sim import Simulator  # noqa: E402 pylint: disable=wrong-import-position
from sim_helpers import Api  # noqa: E402 pylint: disable=wrong-import-position


@pytest.fixture(name="make_sim")
def fixture_make_sim():
    """Factory of started simulators (rate limiting off and 200 devices unless asked), stopped at teardown."""
    started = []

    def make(**options):
        options.setdefault("devices", 200)
        options.setdefault("rate_limit", 0)
        sim = Simulator(**options).start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.stop()
        assert not sim.errors


@pytest.fixture(name="make_api")
def fixture_make_api(make_sim):
    """Factory of logged-in clients on a new simulator: ``make_api(**simulator_options)``."""
    apis = []

    def make(**options):
        api = Api(make_sim(**options))
        api.login()
        apis.append(api)
        return api

    yield make
    for api in apis:
        api.close()


@pytest.fixture(name="api")
def fixture_api(make_api):
    """A logged-in client on a fresh 200-device simulator without rate limiting."""
    return make_api()
