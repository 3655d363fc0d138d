# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options as a module sees them: a bad value fails before any request and names the environment
variable it came from; the pace and the token cache say so when they cannot be shared; the token never goes to a
proxy in clear text without a warning."""

from __future__ import absolute_import, division, print_function

import os
import socket

import pytest
from conftest import connection_vars

from ansible_collections.opswat.it_access.plugins.module_utils.state import state_directory


@pytest.fixture(autouse=True)
def no_proxy_from_the_developer(monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "all_proxy",
                 "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("option, variable, value, reason", [
    ("timeout", "OPSWAT_TIMEOUT", "nan", "must be a number of seconds greater than 0"),
    ("timeout", "OPSWAT_TIMEOUT", "soon", "cannot be read as float"),
    ("rate_limit_timeout", "OPSWAT_RATE_LIMIT_TIMEOUT", "inf", "finite"),
    ("requests_per_minute", "OPSWAT_REQUESTS_PER_MINUTE", "0", "whole number, at least 1"),
    ("api_url", "OPSWAT_API_URL", "http://127.0.0.1:70000", "the port must be a number from 1 to 65535"),
    ("proxy_url", "OPSWAT_PROXY_URL", "ftp://proxy.example.test", "must be an http:// or https:// URL"),
])
def test_a_bad_value_from_the_environment_names_the_variable_and_sends_nothing(
        simulator, run_module, monkeypatch, option, variable, value, reason):
    monkeypatch.setenv(variable, value)
    connection = connection_vars(simulator, **{option: None})
    outcome = run_module("account_info", connection=connection)
    assert outcome.failed
    assert outcome.msg.startswith("%s (%s): " % (variable, option)) and reason in outcome.msg, outcome.msg
    assert simulator.request_log() == []


def test_the_same_bad_value_in_the_task_names_the_option_alone(simulator, run_module, monkeypatch):
    monkeypatch.setenv("OPSWAT_TIMEOUT", "10")  # set, but the task's own value wins
    outcome = run_module("account_info", connection=connection_vars(simulator, timeout="nan"))
    assert outcome.failed and outcome.msg.startswith("timeout: "), outcome.msg
    assert simulator.request_log() == []


def test_a_good_value_from_the_environment_is_used(simulator, run_module, monkeypatch):
    monkeypatch.setenv("OPSWAT_REQUESTS_PER_MINUTE", "6000")
    outcome = run_module("account_info", connection=connection_vars(simulator, requests_per_minute=None))
    assert not outcome.failed, outcome.msg


def test_a_state_directory_it_cannot_use_is_a_warning_not_a_silence(simulator, run_module):
    with open(state_directory(), "w") as blocker:  # where the directory should be: a file
        blocker.write("in the way")
    outcome = run_module("account_info")
    assert not outcome.failed, outcome.msg
    warnings = " ".join(outcome.warnings)
    assert "the pace is no longer shared" in warnings and state_directory() in warnings
    assert "could not be shared with the next tasks of this account (token_cache)" in warnings
    assert os.path.isfile(state_directory())


def test_plain_http_through_a_proxy_warns_that_the_token_travels_in_clear(simulator, run_module):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    # A loopback api_url is fine directly; through a proxy it is not (the proxy is not there: the task fails after
    # warning, which is all this test needs).
    outcome = run_module("account_info", connection=connection_vars(
        simulator, proxy_url="http://127.0.0.1:%d" % closed_port, timeout=2))
    assert [warning for warning in outcome.warnings
            if "through the proxy http://127.0.0.1:%d (proxy_url)" % closed_port in warning
            and "clear text" in warning], outcome.warnings
    assert simulator.request_log() == []  # it went to the proxy, not to the service


def test_plain_http_to_loopback_directly_does_not_warn(simulator, run_module):
    outcome = run_module("account_info")
    assert not [warning for warning in outcome.warnings if "clear text" in warning]
