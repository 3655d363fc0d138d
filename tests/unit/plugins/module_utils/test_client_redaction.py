# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No error path shows a secret: not in the message, the details, a log line, or the traceback."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import (
    ApiError, AuthenticationError, NotFoundError, OpswatError, RateLimitError, TransportError,
    UnexpectedResponseError)
from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK
from ansible_collections.opswat.it_access.plugins.module_utils.transport import DROPPED, TIMEOUT, TLS
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, ACTION, API_URL, CLIENT_ID, CLIENT_SECRET, DEVICES, FETCHED_TOKEN, LICENSE_KEY, TOKEN,
    Harness)

SECRETS = (ACCESS_TOKEN, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY)

# An answer that quotes every secret, bare and in the places credentials usually travel.
ECHO = (
    "echo %s %s %s %s; url %s%s?access_token=%s; form client_id=%s&client_secret=%s; Authorization: Bearer %s;"
    ' {"license_key": "%s"}' % (ACCESS_TOKEN, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY, API_URL, ACCOUNT,
                                FETCHED_TOKEN, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY))


def learn_every_secret(harness):
    """Script the exchanges through which the client learns the fetched token and the license key."""
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"access_token": FETCHED_TOKEN, "expires_in": 43199})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"license_key": LICENSE_KEY})


def api_error(harness):
    harness.expect("POST", ACCOUNT, status=400, text=ECHO)
    return ApiError, lambda client: client.get_account()


def read_5xx_exhausted(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, status=503, text=ECHO)
    return ApiError, lambda client: client.get_account()


def not_found(harness):
    harness.expect("POST", ACCOUNT, status=404, text=ECHO)
    return NotFoundError, lambda client: client.get_account()


def unexpected_shape(harness):
    harness.expect("POST", ACCOUNT, body=[ECHO])
    return UnexpectedResponseError, lambda client: client.get_account()


def malformed_json(harness):
    harness.expect("POST", ACCOUNT, text=ECHO)
    harness.expect("POST", ACCOUNT, text=ECHO)
    return UnexpectedResponseError, lambda client: client.get_account()


def rate_limited(harness):
    harness.expect("POST", ACCOUNT, status=429, text=ECHO, headers={"Retry-After": ECHO})
    harness.expect("POST", ACCOUNT, status=429, text=ECHO, headers={"Retry-After": "1000"})
    return RateLimitError, lambda client: client.get_account()


def tls_failure(harness):
    harness.expect("POST", ACCOUNT, fail=(TLS, "verify failed for %s%s?access_token=%s" % (API_URL, ACCOUNT,
                                                                                           FETCHED_TOKEN)))
    return TransportError, lambda client: client.get_account()


def dropped_action(harness):
    harness.expect("POST", ACTION, fail=(DROPPED, ECHO))
    return TransportError, lambda client: client.device_action("delete", ids=["d1"])


def timeout_read(harness):
    for _attempt in range(4):
        harness.expect("POST", ACCOUNT, fail=(TIMEOUT, ECHO))
    return TransportError, lambda client: client.get_account()


def action_500(harness):
    harness.expect("POST", ACTION, status=500, text=ECHO)
    return ApiError, lambda client: client.device_action("delete", ids=["d1"])


def action_malformed(harness):
    harness.expect("POST", ACTION, text=ECHO)
    return UnexpectedResponseError, lambda client: client.device_action("delete", ids=["d1"])


def token_rejected_twice(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"access_token": "another-token-SECRET"})
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    return AuthenticationError, lambda client: client.get_account()


def bad_client_credentials(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, status=401, text=ECHO)
    return AuthenticationError, lambda client: client.get_account()


def token_answer_without_token(harness):
    harness.expect("POST", ACCOUNT, status=401, text=ECHO)
    harness.expect("POST", TOKEN, body={"token": FETCHED_TOKEN, "secret": CLIENT_SECRET})
    return UnexpectedResponseError, lambda client: client.get_account()


def listing_loop(harness):
    harness.expect("POST", DEVICES, body={"devices": [{"device_id": "d1"}], "next_token": FETCHED_TOKEN})
    harness.expect("POST", DEVICES, body={"devices": [{"device_id": "d2"}], "next_token": FETCHED_TOKEN})
    return UnexpectedResponseError, lambda client: list(client.iter_devices())


SCENARIOS = [api_error, read_5xx_exhausted, not_found, unexpected_shape, malformed_json, rate_limited, tls_failure,
             dropped_action, timeout_read, action_500, action_malformed, token_rejected_twice, bad_client_credentials,
             token_answer_without_token, listing_loop]


def assert_no_secret(text, where):
    for secret in SECRETS + (CLIENT_SECRET, "another-token-SECRET"):
        assert secret not in text, "%s leaks %s: %s" % (where, secret, text)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[scenario.__name__ for scenario in SCENARIOS])
def test_no_error_path_shows_a_secret(scenario):
    harness = Harness()
    # The 401 scenarios need the first call to be rejected; the others learn every secret beforehand.
    learns_first = scenario not in (token_rejected_twice, bad_client_credentials, token_answer_without_token)
    if learns_first:
        learn_every_secret(harness)
    expected_class, action = scenario(harness)
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                            rate_limit_timeout=100)
    if learns_first:
        assert client.get_account() == {"license_key": LICENSE_KEY}
    with pytest.raises(OpswatError) as caught:
        action(client)
    error = caught.value
    harness.transport.assert_done()

    assert isinstance(error, expected_class)
    assert error.__context__ is None and error.__cause__ is None
    assert_no_secret(str(error), "str(error)")
    assert_no_secret(repr(error.to_fail_json()), "to_fail_json()")
    assert_no_secret(repr(error.args), "error.args")
    assert_no_secret("".join(traceback.format_exception(type(error), error, error.__traceback__)), "traceback")
    assert_no_secret("\n".join(harness.log_lines), "log")
    if learns_first and "body" in error.details and error.details["body"]:
        assert MASK in error.details["body"]


def test_redact_masks_every_known_secret():
    harness = Harness()
    learn_every_secret(harness)
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client.get_account()
    assert_no_secret(client.redact(ECHO), "redact()")
    # The license key is hidden from messages but is not a no_log value: a module may return it on request.
    assert harness.secrets == [FETCHED_TOKEN]


def test_log_lines_are_redacted():
    harness = Harness()
    learn_every_secret(harness)
    harness.expect("POST", ACCOUNT, fail=(TIMEOUT, ECHO))
    harness.expect("POST", ACCOUNT, body={})
    client = harness.client(access_token=ACCESS_TOKEN, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    client.get_account()
    client.get_account()
    assert any("retry 1 of 3" in line for line in harness.log_lines)
    assert any("fetched an access token" in line for line in harness.log_lines)
    assert_no_secret("\n".join(harness.log_lines), "log")
