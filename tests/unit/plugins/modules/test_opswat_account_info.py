# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""opswat_account_info through main(), on the fake API."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.modules.opswat_account_info import main
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY, NO_TOKEN, TOKEN)

ACCOUNT_ANSWER = {
    "name": "acme", "devices_used": 2, "license_key": LICENSE_KEY,
    "devices_by_status": [{"status": "compliant", "number_of_devices": 1},
                          {"status": "non-compliant", "number_of_devices": 1}],
}
ONE_REQUEST = dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)


def test_returns_the_account_as_the_api_shapes_it_without_the_license_key(module_harness):
    module_harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, json_body={"score_type": "opswat_score"},
                          body=ACCOUNT_ANSWER)
    result = module_harness.run(main)
    assert result.exit_code == 0
    assert result["changed"] is False
    expected = dict(ACCOUNT_ANSWER)
    del expected["license_key"]
    assert result["account"] == expected
    assert result["api_requests"] == ONE_REQUEST
    assert result.leaked() == []


def test_license_key_only_when_asked_for(module_harness):
    module_harness.expect("POST", ACCOUNT, body=ACCOUNT_ANSWER)
    result = module_harness.run(main, include_license_key=True)
    assert result["account"]["license_key"] == LICENSE_KEY
    assert result.leaked([ACCESS_TOKEN]) == []


def test_score_type_is_sent_as_given(module_harness):
    module_harness.expect("POST", ACCOUNT, json_body={"score_type": "cvss3_score"}, body={"name": "acme"})
    assert module_harness.run(main, score_type="cvss3_score")["account"] == {"name": "acme"}


def test_check_mode_reads_the_same_account(module_harness):
    module_harness.expect("POST", ACCOUNT, body=ACCOUNT_ANSWER)
    result = module_harness.run(main, check_mode=True)
    assert result["changed"] is False
    assert result["account"]["name"] == "acme"


def test_bad_score_type_fails_naming_the_option_before_any_request(module_harness):
    result = module_harness.run(main, score_type="cvss4_score")
    assert result.exit_code == 1
    assert result["failed"] is True
    assert "score_type" in result["msg"]


def test_fetched_token_and_client_secret_never_reach_the_output(module_harness):
    module_harness.expect("POST", TOKEN, token=NO_TOKEN,
                          form={"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "grant_type": "client_credentials"},
                          body={"access_token": FETCHED_TOKEN, "token_type": "bearer", "expires_in": 3600})
    module_harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body=ACCOUNT_ANSWER)
    result = module_harness.run(main, access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert result["api_requests"]["requests"] == 2
    assert result.leaked() == []


def test_a_rejected_token_fails_with_a_message_and_the_requests_it_cost(module_harness):
    module_harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401, body={"error": "invalid_token"})
    result = module_harness.run(main)
    assert result.exit_code == 1
    assert result["failed"] is True
    assert "401" in result["msg"]
    assert result["api_requests"] == ONE_REQUEST
    assert "account" not in result
    assert result.leaked() == []
