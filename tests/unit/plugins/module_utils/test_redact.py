# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.redact import MASK, Redactor


def test_known_secret_is_masked_everywhere():
    redactor = Redactor(["s3cret-token"])
    assert redactor.redact("a s3cret-token b s3cret-token") == "a %s b %s" % (MASK, MASK)


def test_url_encoded_forms_of_a_secret_are_masked():
    redactor = Redactor(["tok/en+with=chars and space"])
    for form in ("tok%2Fen%2Bwith%3Dchars%20and%20space", "tok%2Fen%2Bwith%3Dchars+and+space"):
        assert redactor.redact("see %s here" % form) == "see %s here" % MASK


def test_secret_added_later_is_masked():
    redactor = Redactor()
    assert redactor.redact("value-1234") == "value-1234"
    redactor.add("value-1234")
    assert redactor.redact("value-1234") == MASK


@pytest.mark.parametrize("empty", [None, "", "   ", 42])
def test_empty_or_non_string_secrets_are_ignored(empty):
    redactor = Redactor([empty])
    assert redactor.redact("nothing to hide 42") == "nothing to hide 42"


def test_longer_secret_is_masked_whole_when_it_contains_a_shorter_one():
    redactor = Redactor(["abcd", "xxabcdyy"])
    assert redactor.redact("[xxabcdyy]") == "[%s]" % MASK


@pytest.mark.parametrize("text, hidden", [
    ("GET https://h/o/api/v3/x?access_token=unknown-value&b=1", "unknown-value"),
    ("body client_secret=other-value&grant_type=client_credentials", "other-value"),
    ("Authorization: Bearer abc.def-ghi", "abc.def-ghi"),
    ('{"access_token": "json-value", "token_type": "bearer"}', "json-value"),
    ('{"license_key":"LK-9"}', "LK-9"),
    ("ACCESS_TOKEN=upper-case-value", "upper-case-value"),
])
def test_credential_shaped_values_are_masked_whatever_their_value(text, hidden):
    redacted = Redactor().redact(text)
    assert hidden not in redacted
    assert MASK in redacted


def test_parameter_pattern_keeps_the_rest_of_the_url():
    redacted = Redactor().redact("https://h/p?access_token=abc&limit=5")
    assert redacted == "https://h/p?access_token=%s&limit=5" % MASK


def test_token_type_bearer_in_json_is_not_mistaken_for_a_header():
    assert Redactor().redact('{"token_type": "bearer", "expires_in": 5}') == '{"token_type": "bearer", "expires_in": 5}'


def test_non_string_input():
    redactor = Redactor(["secret-1"])
    assert redactor.redact(None) is None
    assert redactor.redact(b"x secret-1") == "x %s" % MASK
    assert redactor.redact(ValueError("secret-1 leaked")) == "%s leaked" % MASK
    assert redactor.redact(12) == "12"


def test_a_credential_cut_short_by_a_truncated_answer_is_masked_to_the_end():
    redactor = Redactor([])
    text = redactor.redact('{"name": "Account", "license_key": "c7fde805ec99108d')
    assert "c7fde805" not in text and text.endswith('"license_key": "%s' % MASK)
    assert "eyJh" not in redactor.redact('{"access_token": "eyJhbGciOi\\')
