# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AccountClient: Account Details as the API returns it, the license key kept out of every message."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import UnexpectedResponseError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, LICENSE_KEY)


def test_get_account_sends_score_type_and_the_token(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, json_body={"score_type": "cvss"}, body={"name": "acme"})
    assert harness.client().account.get(score_type="cvss") == {"name": "acme"}


def test_get_account_default_score_type(harness):
    harness.expect("POST", ACCOUNT, json_body={"score_type": "opswat_score"}, body={})
    assert harness.client().account.get() == {}


def test_account_answer_that_is_not_an_object(harness):
    harness.expect("POST", ACCOUNT, body=[1, 2])
    with pytest.raises(UnexpectedResponseError, match="expected a JSON object"):
        harness.client().account.get()


@pytest.mark.parametrize("license_key", [[LICENSE_KEY], {"key": LICENSE_KEY}, 123456789])
def test_a_license_key_that_is_not_a_string_is_an_unexpected_answer_that_never_quotes_it(harness, license_key):
    harness.expect("POST", ACCOUNT, body={"license_key": license_key, "devices_used": 3})
    with pytest.raises(UnexpectedResponseError) as caught:
        harness.client().account.get()
    assert str(caught.value).startswith("POST %s: unexpected answer: license_key is a JSON " % ACCOUNT)
    assert "expected a string" in str(caught.value)
    failure = repr(caught.value.to_fail_json())
    assert LICENSE_KEY not in failure and "123456789" not in failure
