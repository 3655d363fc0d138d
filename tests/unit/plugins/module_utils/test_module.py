# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""run_module: the argument spec, the client's life, api_requests, and the one exit for typed errors."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils import module as module_runner
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCOUNT, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, NO_TOKEN, TOKEN)

OPTIONS = dict(word=dict(type="str", default="hello"), count=dict(type="int"))


def main_of(run, **spec_rules):
    return lambda: module_runner.run_module(run, OPTIONS, **spec_rules)


def read_account(module, client):
    return dict(changed=False, word=module.params["word"], account=client.account.get())


def test_the_result_gets_api_requests_and_the_client_is_closed(module_harness):
    module_harness.expect("POST", ACCOUNT, body={"name": "acme"})
    result = module_harness.run(main_of(read_account), word="hi")
    assert result.exit_code == 0
    assert result["word"] == "hi"
    assert result["account"] == {"name": "acme"}
    assert result["api_requests"] == dict(requests=1, throttled=0, retries=0, waited_seconds=0.0)
    assert module_harness.transport.closed


def test_connection_options_are_part_of_every_module(module_harness):
    seen = {}

    def run(module, client):
        seen.update(module.params)
        return dict(changed=False)

    module_harness.run(main_of(run))
    assert {"api_url", "access_token", "client_id", "client_secret", "requests_per_minute", "word", "count"} <= set(seen)


def test_a_typed_error_fails_with_its_message_option_and_the_requests_spent(module_harness):
    module_harness.expect("POST", ACCOUNT, body={})

    def run(module, client):
        client.account.get()
        raise InputError("word", "must rhyme")

    result = module_harness.run(main_of(run))
    assert result.exit_code == 1
    assert result["failed"] is True
    assert result["msg"] == "word: must rhyme"
    assert result["option"] == "word"
    assert result["api_requests"]["requests"] == 1
    assert module_harness.transport.closed


def test_a_result_marked_failed_fails_the_task_and_keeps_every_key(module_harness):
    def run(module, client):
        return dict(changed=True, failed=True, msg="2 failed", devices=["d1"])

    result = module_harness.run(main_of(run))
    assert result.exit_code == 1
    assert result["failed"] is True
    assert result["msg"] == "2 failed"
    assert result["devices"] == ["d1"]
    assert result["changed"] is True
    assert "api_requests" in result


def test_a_boolean_for_an_integer_fails_naming_the_option_before_the_module_runs(module_harness):
    calls = []
    result = module_harness.run(main_of(lambda module, client: calls.append(1) or dict(changed=False)), count=True)
    assert result.exit_code == 1
    assert "count" in result["msg"]
    assert calls == []


def test_a_bad_connection_option_fails_naming_it_before_any_request(module_harness):
    result = module_harness.run(main_of(read_account), requests_per_minute=0)
    assert result.exit_code == 1
    assert result["msg"].startswith("requests_per_minute:")


def test_spec_rules_reach_ansible_module(module_harness):
    result = module_harness.run(main_of(read_account, required_if=[("word", "bye", ["count"])]), word="bye")
    assert result.exit_code == 1
    assert "count" in result["msg"]


def test_a_secret_the_client_learns_is_masked_wherever_the_module_puts_it(module_harness):
    module_harness.expect("POST", TOKEN, token=NO_TOKEN, body={"access_token": FETCHED_TOKEN, "expires_in": 3600})
    module_harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})

    def run(module, client):
        client.account.get()
        return dict(changed=False, echo="token was %s" % FETCHED_TOKEN)

    result = module_harness.run(main_of(run), access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    assert result.exit_code == 0
    assert result.leaked() == []
    assert result["echo"].startswith("token was ")


def test_without_requests_the_module_says_which_library_is_missing(module_harness, monkeypatch):
    monkeypatch.setattr(module_runner, "HAS_REQUESTS", False)
    result = module_harness.run(main_of(read_account))
    assert result.exit_code == 1
    assert "requests" in result["msg"]
