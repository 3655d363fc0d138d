# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the event sources share: argument checks, the connection from arguments and environment, the payload."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils import event_source


def test_integer_arguments_accept_a_rendered_template_and_reject_booleans():
    assert event_source.integer_argument({"interval": "30"}, "interval", 60, 1, 100) == 30
    assert event_source.integer_argument({}, "interval", 60, 1, 100) == 60
    for wrong in (True, 0, 101, "soon", 1.5):
        with pytest.raises(InputError, match="interval: must be a whole number from 1 to 100"):
            event_source.integer_argument({"interval": wrong}, "interval", 60, 1, 100)


def test_boolean_arguments_are_strict():
    assert event_source.boolean_argument({"batch": "yes"}, "batch", False) is True
    assert event_source.boolean_argument({"batch": False}, "batch", True) is False
    with pytest.raises(InputError, match="batch: must be true or false"):
        event_source.boolean_argument({"batch": "ture"}, "batch", False)


def test_statuses_are_get_devices_spelling():
    assert event_source.statuses_argument({"statuses": "non_compliant"}) == ["non_compliant"]
    assert event_source.statuses_argument({}) is None
    with pytest.raises(InputError, match="statuses: unknown status.*'non-compliant'"):
        event_source.statuses_argument({"statuses": ["non-compliant"]})
    with pytest.raises(InputError, match="statuses: must be a list"):
        event_source.statuses_argument({"statuses": []})


def test_unknown_arguments_are_named_and_the_engines_own_are_ignored():
    event_source.check_known_arguments({"interval": 1, "eda_feedback_queue": object()}, ("interval",))
    with pytest.raises(InputError, match="intervall: is not an argument of this source; the arguments are interval"):
        event_source.check_known_arguments({"intervall": 1}, ("interval",))


def test_an_empty_path_is_unset_and_a_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    assert event_source.path_argument({"checkpoint_path": ""}, "checkpoint_path") is None
    assert event_source.path_argument({"checkpoint_path": "cp.json"}, "checkpoint_path") == str(tmp_path / "cp.json")
    with pytest.raises(InputError, match="checkpoint_path: must be a file path"):
        event_source.path_argument({"checkpoint_path": 5}, "checkpoint_path")


def test_the_connection_comes_from_arguments_then_the_modules_environment_variables():
    environ = {"OPSWAT_API_URL": "https://tenant.example.test", "OPSWAT_CLIENT_ID": "id",
               "OPSWAT_CLIENT_SECRET": "secret", "OPSWAT_VALIDATE_CERTS": "no", "OPSWAT_REQUESTS_PER_MINUTE": "20"}
    config = event_source.connection_config({"timeout": 12}, environ)
    assert (config.api_url, config.client_id, config.validate_certs, config.requests_per_minute, config.timeout) == (
        "https://tenant.example.test", "id", False, 20, 12.0)
    config = event_source.connection_config({"client_id": "arg", "client_secret": "s2"}, environ)
    assert config.client_id == "arg"
    assert event_source.account_identity(config) == {"api_url": "https://tenant.example.test", "client_id": "arg"}


def test_a_bad_value_from_the_environment_names_the_variable():
    environ = {"OPSWAT_ACCESS_TOKEN": "token", "OPSWAT_VALIDATE_CERTS": "perhaps"}
    with pytest.raises(InputError, match="OPSWAT_VALIDATE_CERTS \\(validate_certs\\): must be true or false"):
        event_source.connection_config({}, environ)
    with pytest.raises(InputError, match="^timeout: cannot be read as float"):
        event_source.connection_config({"timeout": "soon"}, {"OPSWAT_ACCESS_TOKEN": "token"})


def test_the_payload_has_every_field_in_get_devices_spelling():
    payload = event_source.device_payload("device_status_changed", {"device_id": "a", "status": "non-compliant"},
                                          "2026-12-01T17:00:00.000Z", previous_status="compliant")
    assert payload == {"event": "device_status_changed", "device_id": "a", "device_name": None,
                       "status": "non_compliant", "previous_status": "compliant", "severity": None,
                       "group_name": None, "observed_at": "2026-12-01T17:00:00.000Z"}
    assert event_source.utc_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert event_source.utc_timestamp(1.2504) == "1970-01-01T00:00:01.250Z"


def test_a_stopped_stopper_ends_a_wait_at_once():
    stopper = event_source.Stopper()
    stopper.sleep(0)
    stopper.stop()
    with pytest.raises(event_source.SourceStopped):
        stopper.sleep(3600)
