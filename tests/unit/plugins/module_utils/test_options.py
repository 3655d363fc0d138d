# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integer options that refuse booleans, device ids compared without regard to case, why an action does not
apply, and what a write that stops records for each device."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import actions, connection, devices
from ansible_collections.opswat.it_access.plugins.module_utils.errors import ApiError, InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer, reject_boolean_integers

SPEC = dict(
    count=dict(type="int"),
    name=dict(type="str"),
    items=dict(type="list", elements="dict", options=dict(hours=dict(type="int"), flag=dict(type="bool"))),
    single=dict(type="dict", options=dict(size=dict(type="int"))),
)


@pytest.mark.parametrize("params, option", [
    (dict(count=True), "count"),
    (dict(items=[dict(hours=1), dict(hours=False)]), "items[1].hours"),
    (dict(single=dict(size=True)), "single.size"),
])
def test_a_boolean_in_an_integer_option_is_refused_with_its_name(params, option):
    with pytest.raises(InputError) as raised:
        reject_boolean_integers(SPEC, params)
    assert raised.value.option == option and "not a boolean" in raised.value.reason


def test_integers_and_other_types_pass():
    reject_boolean_integers(SPEC, dict(count=0, name="x", items=[dict(hours=5, flag=True)], single=None))
    assert check_integer("x", 7) == 7 and check_integer("x", None) is None


def test_integer_connection_options_refuse_booleans_also_outside_modules():
    # The inventory plugin builds its connection with config_from_params, without AnsibleModule.
    with pytest.raises(InputError) as raised:
        connection.config_from_params(dict(access_token="t", requests_per_minute=True))
    assert raised.value.option == "requests_per_minute"


def test_exempt_params_need_whole_hours():
    assert devices.exempt_params(0) == {"exempt_time": 0}
    for value, reason in ((None, "is required"), (True, "not a boolean"), (65000, "between 0 (forever)")):
        with pytest.raises(InputError) as raised:
            devices.exempt_params(value)
        assert raised.value.option == "exempt_hours" and reason in raised.value.reason


def test_ids_compare_without_regard_to_case_and_keep_the_first_spelling():
    assert devices.id_key("ABCdef") == "abcdef" and devices.id_key(None) is None
    assert devices.unique_ids(["AB", "ab", "cd", "Ab", "CD"]) == ["AB", "cd"]


def device(**fields):
    base = dict(device_id="d1", device_name="one", status="compliant", agent_type="persistent",
                agent_version="7.6.300.0", os_info={"type": "windows"})
    base.update(fields)
    return base


@pytest.mark.parametrize("action, fields, reason", [
    ("exempt", dict(status="ignored"), "exempt does not apply to devices whose status is ignored"),
    ("unexempt", dict(agent_type="domain controller"), "unexempt does not apply to domain controllers"),
    ("ignore", {}, "ignore applies to unknown devices only"),
    ("unignore", {}, "unignore applies to ignored devices only"),
    ("assign_to_group", dict(agent_type="Domain Controller"), "assign_to_group does not apply to domain controllers"),
    ("dhcprenew", dict(agent_type="on-demand"), "dhcprenew needs a persistent agent; this device has an on-demand agent"),
    ("re-identify", dict(agent_type="none"), "re-identify needs a persistent agent or a mobile one; this device has no agent"),
    ("scan_threats", dict(agent_version="7.6.198.0"), "scan_threats: agent 7.6.198.0 is older than 7.6.206.0"),
    ("fetch_agent_log", dict(os_info={"type": "linux"}), "fetch_agent_log: the agent does not support it on linux (only on mac, windows)"),
])
def test_why_an_action_does_not_apply(action, fields, reason):
    assert devices.action_applicability(action, device(**fields)) == (False, reason)


@pytest.mark.parametrize("action, fields, applies", [
    ("scan_threats", {}, True),
    ("scan_threats", dict(agent_version=None), True),   # the device lacks the data: the API decides
    ("scan_threats", dict(agent_type=None), None),
    ("re-identify", dict(agent_type="mobile"), True),
    ("delete", dict(status="unknown"), True),
])
def test_where_an_action_applies_there_is_no_reason(action, fields, applies):
    assert devices.action_applicability(action, device(**fields)) == (applies, None)


class StubClient(object):
    """Answers a device action with ``answers``, or raises ``error`` carrying them."""

    def __init__(self, answers, error=None, unsent=None):
        self.answers, self.error, self.unsent = answers, error, unsent
        self.sent = None
        self.devices = self  # the write calls client.devices.action()

    def action(self, action, ids=None, params=None):
        self.sent = ids
        if self.error is not None:
            self.error.completed_results, self.error.unsent_ids = self.answers, self.unsent
            raise self.error
        return self.answers


def planned(ids, found):
    request = actions.check_action(dict(action="unexempt", device_ids=ids))
    request.devices = dict((key, found.get(devices.id_key(key))) for key in request.wanted)
    actions.plan(request)
    return request


def test_answers_match_the_sent_ids_in_any_case():
    found = dict(aa=device(device_id="aa", status="exempted"), bb=device(device_id="bb", status="exempted"))
    request = planned(["AA", "bb"], found)
    client = StubClient([dict(id="aa", status=1), dict(id="BB", status=-1)])
    actions.write(client, request)
    assert client.sent == ["aa", "bb"]
    assert [(entry["id"], entry["result"]) for entry in request.results] == [("AA", "changed"), ("bb", "not_supported")]
    assert request.results[1]["error"] == "the API answered that the action does not apply to this device"


def test_a_write_that_stops_marks_the_unsent_devices_not_sent():
    found = dict((key, device(device_id=key, status="exempted")) for key in ("a", "b", "c"))
    request = planned(["a", "b", "c"], found)
    error = ApiError("POST /x failed: HTTP 503. The action may have been applied: check.", status=503)
    error.may_have_been_applied = True  # as the client marks a 5xx answer to a device action
    actions.write(StubClient([dict(id="a", status=1)], error=error, unsent=["c"]), request)
    assert [entry["result"] for entry in request.results] == ["changed", "failed", "not_sent"]
    assert request.outcome_unknown == ["b"] and request.failed_ids() == ["b", "c"]
    message = actions.stopped_message(request)
    assert message == ("unexempt stopped: POST /x failed: HTTP 503. The action may have been applied: check. 1 device(s)"
                       " changed, 1 with an unknown outcome (failed: the action may have been applied to them), 1 not sent")


def test_a_refused_request_leaves_no_outcome_unknown():
    found = dict((key, device(device_id=key, status="exempted")) for key in ("a", "b"))
    request = planned(["a", "b"], found)
    error = ApiError("POST /x: the access token was rejected (HTTP 401)", status=401)
    error.may_have_been_applied = False
    client = StubClient([], error=error, unsent=["b"])
    actions.write(client, request)
    assert [entry["result"] for entry in request.results] == ["failed", "not_sent"]
    assert request.outcome_unknown == [] and request.refused == ["a"]
    message = actions.stopped_message(request)
    assert message == ("unexempt stopped: POST /x: the access token was rejected (HTTP 401). 0 device(s) changed,"
                       " 0 with an unknown outcome, 1 refused (failed: the action was not applied to them), 1 not sent")
