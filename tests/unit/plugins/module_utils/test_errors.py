# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The typed errors and what each gives to fail_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, AuthenticationError, InputError, NotFoundError, OpswatError, RateLimitError, TransportError,
    UnexpectedResponseError)


def test_to_fail_json_is_the_message_and_the_details():
    error = OpswatError("it failed", status=500, body="excerpt")
    assert error.to_fail_json() == dict(msg="it failed", status=500, body="excerpt")
    assert str(error) == "it failed"


def test_an_input_error_names_its_option_first():
    error = InputError("timeout", "must be greater than 0")
    assert error.message == "timeout: must be greater than 0"
    assert (error.option, error.reason) == ("timeout", "must be greater than 0")
    assert error.to_fail_json() == dict(msg="timeout: must be greater than 0", option="timeout")


def test_a_rate_limit_error_carries_the_time_it_waited():
    error = RateLimitError("rate limited", waited_seconds=12.5, throttled=3)
    assert error.waited_seconds == 12.5
    assert error.to_fail_json() == dict(msg="rate limited", waited_seconds=12.5, throttled=3)


def test_an_api_error_carries_its_status_and_body():
    error = ApiError("failed: HTTP 500", status=500, body="oops")
    assert (error.status, error.body) == (500, "oops")
    assert error.to_fail_json() == dict(msg="failed: HTTP 500", status=500, body="oops")


@pytest.mark.parametrize("kind", [ApiError, AuthenticationError, InputError, NotFoundError, RateLimitError,
                                  TransportError, UnexpectedResponseError])
def test_every_error_is_an_opswat_error_that_leaves_no_outcome_unknown_unless_marked(kind):
    assert issubclass(kind, OpswatError)
    assert kind.may_have_been_applied is False
