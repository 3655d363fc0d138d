# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation role's planner: rule checks, planning from one listing (same matching as the modules), summary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import itertools
import random
import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.opswat.it_access.plugins.module_utils import actions, catalogue
from ansible_collections.opswat.it_access.plugins.module_utils import devices as device_utils
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.plugin_utils import remediation

NOW = "2025-06-30T12:00:00Z"
NOW_EPOCH = calendar.timegm((2025, 6, 30, 12, 0, 0))


def device(device_id, status="compliant", severity="no_issues", device_type="laptop", os_type="windows",
           group_name="Default", last_seen="2025-06-29T12:00:00Z"):
    found = dict(device_id=device_id, status=status, severity=severity, device_type=device_type,
                 os_info={"type": os_type}, group_name=group_name)
    if last_seen is not None:
        found["last_seen"] = last_seen
    return found


def rule(name="r", match=None, action="unexempt", **options):
    found = dict(name=name, match=match if match is not None else {"status": ["exempted"]}, action=action)
    found.update(options)
    return found


def problems_of(rules, groups=None):
    with pytest.raises(AnsibleFilterError) as error:
        remediation.check_rules(rules, groups=groups)
    return str(error.value)


# ------------------------------------------------------------------------------------------- check_rules

def test_valid_rules_are_normalised():
    checked = remediation.check_rules([
        rule("quarantine", {"status": "non_compliant", "severity": ["critical", "critical"], "device_type": ["laptop"]},
             "assign_to_group", group_name="Quarantine"),
        rule("exempt", {"device_type": ["server"], "not_seen_days": "30"}, "exempt", exempt_hours="72"),
        rule("scan", {"group_name": ["Finance"]}, "scan_threats", scan_types=["memory", "specific_path"], scan_path="C:\\x"),
        rule("full", {"os_type": ["mac"]}, "scan_threats", full_scan=True),
        rule("release", {"status": ["exempted"]}, "unexempt"),
    ])
    assert [entry["name"] for entry in checked] == ["quarantine", "exempt", "scan", "full", "release"]
    assert checked[0]["match"] == {"status": ["non_compliant"], "severity": ["critical"], "device_type": ["laptop"]}
    assert checked[0]["params"] == {"group_name": "Quarantine"} and checked[0]["controls"] == "group"
    assert checked[1]["match"] == {"device_type": ["server"], "not_seen_days": 30}
    assert checked[1]["params"] == {"exempt_hours": 72} and checked[1]["controls"] == "exemption"
    assert checked[2]["params"] == {"scan_types": ["memory", "specific_path"], "scan_path": "C:\\x"}
    assert checked[3]["params"] == {"full_scan": True} and checked[3]["controls"] == "scan"
    assert checked[4]["params"] == {} and checked[4]["controls"] == "exemption"


def test_no_rules_is_an_empty_plan():
    assert remediation.check_rules([]) == []
    assert remediation.check_rules(None) == []
    assert remediation.plan([device("a")], []) == []


@pytest.mark.parametrize("bad_rule, expected", [
    (rule(action="quarantine"), "action: 'quarantine' is not one of exempt, unexempt, assign_to_group, scan_threats"),
    (rule(action="delete"), "action: 'delete' is not one of"),
    (rule(match={"status": ["non-compliant"]}), "match.status: unknown value(s) non-compliant; choose from"),
    (rule(match={"severity": ["high"]}), "match.severity: unknown value(s) high"),
    (rule(match={"device_type": ["toaster"]}), "match.device_type: unknown value(s) toaster"),
    (rule(match={"os_type": ["windows", "beos"]}), "match.os_type: unknown value(s) beos"),
    (rule(match={"hostname": ["x"]}), "match: unknown criteria hostname"),
    (rule(match={}), "match: needs at least one criterion"),
    (dict(name="r", action="unexempt"), "match: is required"),
    (rule(match=["status"]), "match: must be a dictionary"),
    (rule(match={"status": []}), "match.status: must be a non-empty list of strings"),
    (rule(match={"not_seen_days": 0}), "match.not_seen_days: must be a whole number of days, at least 1"),
    (rule(match={"not_seen_days": "soon"}), "match.not_seen_days: must be a whole number of days"),
    (rule(match={"not_seen_days": True}), "match.not_seen_days: must be a whole number of days"),
    (rule(action="exempt"), "exempt_hours: is required with action=exempt"),
    (rule(action="exempt", exempt_hours=65000), "exempt_hours: must be between 0 (forever) and 64999, got 65000"),
    (rule(action="exempt", exempt_hours=-1), "exempt_hours: must be between 0 (forever) and 64999, got -1"),
    (rule(action="unexempt", exempt_hours=5), "exempt_hours: only applies to action=exempt, not action=unexempt"),
    (rule(action="exempt", exempt_hours=5, group_name="Quarantine"),
     "group_name: only applies to action=assign_to_group, not action=exempt"),
    (rule(action="assign_to_group"), "group_name, group_id: action assign_to_group needs exactly one of them"),
    (rule(action="assign_to_group", group_name="A", group_id="b"), "needs exactly one of them"),
    (rule(action="assign_to_group", group_name=" "), "group_name: must not be empty"),
    (rule(action="scan_threats"), "scan_types: action=scan_threats needs full_scan=true or a list of scan_types"),
    (rule(action="scan_threats", full_scan=True, scan_types=["memory"]), "scan_types: a full scan (full_scan=true) takes no"),
    (rule(action="scan_threats", full_scan=True, scan_path="/x"), "scan_path: a full scan (full_scan=true) takes no"),
    (rule(action="scan_threats", scan_types=["specific_path"]), "scan_path: is required when scan_types includes specific_path"),
    (rule(action="scan_threats", scan_types=["memory"], scan_path="/x"), "scan_path: only applies with specific_path"),
    (rule(action="scan_threats", scan_types=["registry"]), "scan_types: unknown value(s) registry"),
    (rule(action="scan_threats", full_scan="maybe"), "full_scan: must be true or false"),
    (rule(name=""), "name: is required"),
    (dict(match={"status": ["exempted"]}, action="unexempt"), "name: is required"),
    (rule(colour="red"), "unknown option(s) colour"),
])
def test_bad_rules_fail_naming_the_rule_and_the_option(bad_rule, expected):
    message = problems_of([rule("fine"), bad_rule] if bad_rule.get("name") != "fine" else [bad_rule])
    assert expected in message
    assert "remediation_rules[1]" in message
    assert "nothing was changed" in message


def test_every_problem_of_every_rule_is_reported_at_once():
    message = problems_of([
        rule("a", action="bogus"),
        rule("b", match={"status": ["non-compliant"]}, action="exempt"),
        "not a rule",
        rule("a"),
    ])
    assert message.startswith("5 problem(s) in remediation_rules")
    assert "remediation_rules[0] (a): action: 'bogus'" in message
    assert "remediation_rules[1] (b): match.status: unknown value(s) non-compliant" in message
    assert "remediation_rules[1] (b): exempt_hours: is required" in message
    assert "remediation_rules[2]: must be a dictionary" in message
    assert "remediation_rules[3] (a): name: 'a' is already the name of remediation_rules[0]" in message


def test_a_rule_with_several_problems_reports_each_of_them():
    """Every wrong criterion, every option of another action and every wrong scan option: not the first only."""
    message = problems_of([
        rule("fine"),
        rule("many", match={"status": ["non-compliant"], "device_type": ["robot"], "severity": ["high"]},
             action="scan_threats", full_scan="maybe", scan_types=[5], exempt_hours=3, group_name="Quarantine"),
    ])
    expected = ["match.status: unknown value(s) non-compliant", "match.device_type: unknown value(s) robot",
                "match.severity: unknown value(s) high",
                "exempt_hours: only applies to action=exempt, not action=scan_threats",
                "group_name: only applies to action=assign_to_group, not action=scan_threats",
                "full_scan: must be true or false, got 'maybe'", "scan_types: must be a list of strings"]
    assert message.startswith("%d problem(s) in remediation_rules" % len(expected))
    for problem in expected:
        assert "remediation_rules[1] (many): %s" % problem in message, problem


@pytest.mark.parametrize("rules", [{"name": "x"}, "rule", 5])
def test_rules_must_be_a_list(rules):
    with pytest.raises(AnsibleFilterError, match="remediation_rules: must be a list of rules"):
        remediation.check_rules(rules)


GROUPS = [{"group_id": "default", "group_name": "Default"}, {"group_id": "5b8a", "group_name": "Quarantine"}]


def test_groups_named_by_rules_must_exist():
    rules = [rule("by name", action="assign_to_group", group_name="Quarantine"),
             rule("by id", action="assign_to_group", group_id="default")]
    assert len(remediation.check_rules(rules, groups=GROUPS)) == 2
    assert len(remediation.check_rules(rules, groups={"groups": GROUPS, "changed": False})) == 2

    message = problems_of([rule("typo", action="assign_to_group", group_name="quarantine"),
                           rule("gone", action="assign_to_group", group_id="nope")], groups=GROUPS)
    assert "remediation_rules[0] (typo): group_name: no group is named 'quarantine' (names are case-sensitive);" \
           " known groups: Default, Quarantine" in message
    assert "remediation_rules[1] (gone): group_id: no group has the id 'nope'" in message


class GroupsClient(object):
    """The module's client, as far as the group look-up goes."""

    def __init__(self, groups):
        self.listed = groups
        self.groups = self  # the look-up calls client.groups.list()

    def list(self):
        return self.listed


@pytest.mark.parametrize("option, value", [("group_name", "quarantine"), ("group_id", "nope")])
def test_the_role_and_the_module_say_the_same_of_an_unknown_group(option, value):
    # One resolver: the role checks its rules' groups with the module's own check and words.
    groups = GROUPS + [{"group_id": "5b8b", "group_name": "Quarantine"}]  # a name twice is listed once
    request = actions.check_action({"action": "assign_to_group", "device_ids": ["a"], option: value})
    with pytest.raises(InputError) as raised:
        actions.resolve_groups(GroupsClient(groups), [request])
    message = problems_of([rule("typo", action="assign_to_group", **{option: value})], groups=groups)
    assert "remediation_rules[0] (typo): %s" % raised.value in message
    assert str(raised.value).count("Quarantine") == (1 if option == "group_name" else 0)


# -------------------------------------------------------------------------------------------------- plan

FLEET = [
    device("a", status="non_compliant", severity="critical", device_type="laptop"),
    device("b", status="non_compliant", severity="critical", device_type="server", os_type="linux"),
    device("c", status="compliant", severity="warning", device_type="server", os_type="linux", group_name="Servers"),
    device("d", status="exempted", severity="critical", device_type="desktop"),
    device("e", status="non_compliant", severity="warning", device_type="laptop", os_type="mac"),
]


def targets(entries):
    return dict((entry["name"], entry["targets"]) for entry in entries)


def test_values_are_ored_within_a_criterion_and_criteria_anded():
    entries = remediation.plan(FLEET, [
        rule("or", {"device_type": ["laptop", "desktop"]}, "scan_threats", full_scan=True),
        rule("and", {"severity": ["critical"], "status": ["non_compliant"]}, "assign_to_group", group_name="Q"),
        rule("os", {"os_type": ["linux"], "group_name": ["Servers"]}, "exempt", exempt_hours=1),
    ], now=NOW)
    assert targets(entries) == {"or": ["a", "d", "e"], "and": ["a", "b"], "os": ["c"]}
    assert [entry["matched"] for entry in entries] == [3, 2, 1]


def test_rules_that_control_different_things_compose():
    entries = remediation.plan(FLEET, [
        rule("quarantine", {"severity": ["critical"]}, "assign_to_group", group_name="Quarantine"),
        rule("scan", {"severity": ["critical"]}, "scan_threats", full_scan=True),
        rule("exempt", {"severity": ["critical"]}, "exempt", exempt_hours=4),
    ], now=NOW)
    assert targets(entries) == {"quarantine": ["a", "b", "d"], "scan": ["a", "b", "d"], "exempt": ["a", "b", "d"]}
    assert all(entry["overridden"] == 0 for entry in entries)


def test_first_rule_wins_a_device_when_two_rules_control_the_same_thing():
    entries = remediation.plan(FLEET, [
        rule("servers 72h", {"device_type": ["server"]}, "exempt", exempt_hours=72),
        rule("critical 24h", {"severity": ["critical"]}, "exempt", exempt_hours=24),
        rule("release exempted", {"status": ["exempted"]}, "unexempt"),
        rule("to Q", {"device_type": ["laptop"]}, "assign_to_group", group_name="Q"),
        rule("to Sales", {"os_type": ["mac"]}, "assign_to_group", group_name="Sales"),
    ], now=NOW)
    assert targets(entries) == {"servers 72h": ["b", "c"], "critical 24h": ["a", "d"], "release exempted": [],
                                "to Q": ["a", "e"], "to Sales": []}
    by_name = dict((entry["name"], entry) for entry in entries)
    assert by_name["critical 24h"]["matched"] == 3 and by_name["critical 24h"]["overridden"] == 1
    assert by_name["critical 24h"]["overridden_by"] == {"servers 72h": 1}
    assert by_name["release exempted"]["overridden_by"] == {"critical 24h": 1}
    assert by_name["to Sales"]["overridden_by"] == {"to Q": 1}


def test_not_seen_days_counts_back_from_the_reference_time_and_matches_never_seen_devices():
    fleet = [
        device("recent", last_seen="2025-06-25T12:00:00Z"),
        device("old", last_seen="2025-05-01T00:00:00Z"),
        device("boundary", last_seen="2025-05-31T12:00:00Z"),  # exactly 30 days: not older than 30 days
        device("offset", last_seen="2025-05-31T13:00:00+02:00"),  # 11:00Z, just older than 30 days
        device("fraction", last_seen="2025-05-01T00:00:00.250Z"),
        device("epoch", last_seen=NOW_EPOCH - 40 * 86400),
        device("epoch-ms", last_seen=(NOW_EPOCH - 40 * 86400) * 1000),
        device("missing", last_seen=None),
        device("null", last_seen=None),
        device("empty", last_seen=""),
        device("garbage", last_seen="last tuesday"),
    ]
    fleet[8]["last_seen"] = None
    entries = remediation.plan(fleet, [rule("stale", {"not_seen_days": 30}, "scan_threats", full_scan=True)], now=NOW)
    assert entries[0]["targets"] == ["old", "offset", "fraction", "epoch", "epoch-ms", "missing", "null", "empty"]
    # the same moment as epoch seconds
    again = remediation.plan(fleet, [rule("stale", {"not_seen_days": 30}, "scan_threats", full_scan=True)],
                             now=NOW_EPOCH)
    assert again == entries


def test_not_seen_days_combines_with_the_other_criteria():
    fleet = [device("old-laptop", device_type="laptop", last_seen="2020-01-01T00:00:00Z"),
             device("old-server", device_type="server", last_seen="2020-01-01T00:00:00Z"),
             device("new-laptop", device_type="laptop")]
    entries = remediation.plan(fleet, [rule("r", {"not_seen_days": 90, "device_type": ["laptop"]},
                                            "scan_threats", full_scan=True)], now=NOW)
    assert entries[0]["targets"] == ["old-laptop"]


def test_without_a_reference_time_not_seen_days_counts_from_now():
    fleet = [device("yesterday", last_seen=None), device("long ago", last_seen="2001-01-01T00:00:00Z")]
    fleet[0]["last_seen"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))
    for now in (None, ""):
        entries = remediation.plan(fleet, [rule("r", {"not_seen_days": 2}, "scan_threats", full_scan=True)], now=now)
        assert entries[0]["targets"] == ["long ago"]


def test_a_bad_reference_time_is_an_error():
    with pytest.raises(AnsibleFilterError, match="remediation_reference_time: 'yesterday' is not a time"):
        remediation.plan(FLEET, [rule("r", {"not_seen_days": 2}, "unexempt")], now="yesterday")


def test_the_rules_check_also_checks_the_reference_time_before_any_request():
    with pytest.raises(AnsibleFilterError, match="remediation_reference_time: 'yesterday' is not a time"):
        remediation.check_rules([rule("r", {"not_seen_days": 2}, "unexempt")], reference_time="yesterday")
    for good in (None, "", "2025-06-30T12:00:00Z", 1751284800):
        assert remediation.check_rules([rule("r", {"not_seen_days": 2}, "unexempt")], reference_time=good)


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("  ", None), (0, None), ("0", None),
    (1, 1), (600, 600), ("600", 600), (86400, 86400),
])
def test_changed_within_unset_empty_or_0_is_the_whole_fleet_else_its_seconds(value, expected):
    assert remediation.check_changed_within(value) == expected
    assert remediation.check_rules([rule()], changed_within=value)


@pytest.mark.parametrize("value", [86401, -5, True, False, "ten minutes", 1.5, [600], {"seconds": 600}])
def test_changed_within_out_of_range_a_boolean_or_not_a_number_fails_before_any_request(value):
    # The module's own check of changed_within, in its words, naming the role's variable.
    with pytest.raises(AnsibleFilterError, match=r"^remediation_changed_within: must be an integer number of seconds"
                                                 r" from 1 to 86400 \(the API keeps 24 hours of changes\), got"):
        remediation.check_rules([rule()], changed_within=value)
    with pytest.raises(AnsibleFilterError, match="remediation_changed_within"):
        remediation.summary([], None, changed_within=value)


def test_changed_within_refuses_rules_on_not_seen_days_naming_each_rule_and_both_options():
    rules = [rule("stale", {"not_seen_days": 30, "device_type": ["laptop"]}, "scan_threats", full_scan=True),
             rule("fine", {"severity": ["critical"]}, "unexempt"),
             rule("stale and broken", {"not_seen_days": 7}, "exempt")]
    text = problems_of_window(rules, 600)
    assert text.startswith("3 problem(s) in remediation_rules, nothing was changed")
    assert ("remediation_rules[0] (stale): match.not_seen_days cannot be combined with remediation_changed_within"
            " (600 s): a device that stops reporting does not change status") in text
    # A rule's other problems are reported with it.
    assert "remediation_rules[2] (stale and broken): exempt_hours: is required" in text
    assert "remediation_rules[2] (stale and broken): match.not_seen_days cannot be combined" in text
    assert "remediation_rules[1]" not in text
    # Over the whole fleet the same rules are fine.
    for whole_fleet in (None, "", 0):
        assert len(remediation.check_rules(rules[:2], changed_within=whole_fleet)) == 2


def problems_of_window(rules, changed_within):
    with pytest.raises(AnsibleFilterError) as error:
        remediation.check_rules(rules, changed_within=changed_within)
    return str(error.value)


def test_devices_without_an_id_and_non_dicts_are_skipped():
    entries = remediation.plan([{"status": "exempted"}, "junk", device("x", status="exempted")], [rule()], now=NOW)
    assert entries[0]["targets"] == ["x"] and entries[0]["matched"] == 1


def test_plan_checks_the_rules_too():
    with pytest.raises(AnsibleFilterError, match="action: 'nope'"):
        remediation.plan(FLEET, [rule(action="nope")])


def test_plan_takes_a_list_of_devices():
    with pytest.raises(AnsibleFilterError, match="expects the list of devices"):
        remediation.plan({"devices": []}, [rule()])


def test_matching_is_the_modules_matching():
    """For random devices and random criteria, a rule's targets are what opswat_device_info's filters keep."""
    generator = random.Random(5)
    fleet = []
    for index in range(400):
        fleet.append(dict(device_id="d%d" % index,
                          status=generator.choice(device_utils.DEVICE_STATUSES),
                          severity=generator.choice(device_utils.SEVERITIES),
                          device_type=generator.choice(device_utils.DEVICE_TYPES),
                          group_name=generator.choice(["Default", "Finance", "Quarantine"]),
                          os_info=generator.choice([{"type": generator.choice(device_utils.OS_TYPES)},
                                                    [{"type": generator.choice(device_utils.OS_TYPES)}], None])))
    choices = dict(device_utils.FILTER_CHOICES, group_name=["Default", "Finance", "Quarantine", "Nobody"])
    for trial in range(60):
        criteria = {}
        for name in generator.sample(sorted(choices), generator.randint(1, 3)):
            criteria[name] = generator.sample(choices[name], generator.randint(1, 2))
        entries = remediation.plan(fleet, [rule("t%d" % trial, criteria, "scan_threats", full_scan=True)], now=NOW)
        active = device_utils.validate_filters(criteria)
        assert entries[0]["targets"] == [d["device_id"] for d in fleet if device_utils.matches(d, active)], criteria


@pytest.mark.parametrize("text, expected", [
    ("2025-06-30T12:00:00Z", NOW_EPOCH),
    ("2025-06-30T12:00:00", NOW_EPOCH),
    ("2025-06-30 12:00:00Z", NOW_EPOCH),
    ("2025-06-30T12:00Z", NOW_EPOCH),
    ("2025-06-30T14:00:00+02:00", NOW_EPOCH),
    ("2025-06-30T07:00:00-0500", NOW_EPOCH),
    ("2025-06-30T12:00:00.999Z", NOW_EPOCH),
    (str(NOW_EPOCH), NOW_EPOCH),
    (NOW_EPOCH, NOW_EPOCH),
    (NOW_EPOCH * 1000, NOW_EPOCH),
    ("2025-13-01T00:00:00Z", None),
    ("30/06/2025", None),
    (True, None),
    ([], None),
])
def test_parse_timestamp(text, expected):
    assert remediation.parse_timestamp(text) == expected


# ----------------------------------------------------------------------------------------------- summary

def test_summary_counts_each_rule_and_the_requests():
    entries = remediation.plan(FLEET, [
        rule("quarantine", {"severity": ["critical"]}, "assign_to_group", group_name="Q"),
        rule("nothing", {"device_type": ["phone"]}, "unexempt"),
        rule("broken", {"device_type": ["server"]}, "exempt", exempt_hours=1),
        rule("later", {"device_type": ["server"]}, "exempt", exempt_hours=2),
    ], now=NOW)
    # One opswat_device_action result of a list of actions, one entry of "actions" per rule with targets (quarantine, broken).
    applied = {"changed": True, "failed": True, "msg": "actions[1] (exempt) stopped: timed out",
               "api_requests": {"requests": 6}, "actions": [
                   {"action": "assign_to_group", "error": None,
                    "devices": [{"id": "a", "result": "changed"}, {"id": "b", "result": "unchanged"},
                                {"id": "d", "result": "not_supported"}]},
                   {"action": "exempt", "error": "timed out",
                    "devices": [{"id": "b", "result": "failed"}, {"id": "c", "result": "changed"}]}]}
    summary = remediation.summary(entries, applied, listing={"api_requests": {"requests": 7}},
                                  groups={"skipped": True}, check_mode=False)
    quarantine, nothing, broken, later = summary["rules"]
    assert (quarantine["matched"], quarantine["targets"], quarantine["changed"], quarantine["unchanged"],
            quarantine["not_supported"], quarantine["failed_ids"], quarantine["error"], quarantine["ran"]) == (
        3, 3, 1, 1, 1, ["d"], None, True)
    assert nothing["ran"] is False and nothing["matched"] == 0 and nothing["error"] is None
    assert broken["error"] == "timed out" and broken["failed"] == 1 and broken["failed_ids"] == ["b"]
    assert later["overridden"] == 2 and later["targets"] == 0 and later["ran"] is False
    totals = summary["totals"]
    assert totals["requests"] == 6 + 7 and totals["errors"] == 1
    assert (totals["changed"], totals["unchanged"], totals["failed"], totals["not_supported"]) == (2, 1, 1, 1)
    assert summary["lines"][0] == "4 rule(s); fleet listed once with 7 request(s); rules applied with 6; 13 request(s) in all"
    assert summary["lines"][1] == ("quarantine [assign_to_group]: matched 3, changed 1, unchanged 1, failed 0,"
                                   " not_supported 1, not_found 0")
    assert summary["lines"][2] == "nothing [unexempt]: matched 0, nothing to do"
    assert summary["lines"][3].endswith("not_found 0. ERROR: timed out")
    assert summary["lines"][4] == "later [exempt]: matched 2 (2 left to earlier rules: broken 2), nothing to do"


def test_summary_counts_the_devices_a_stopped_write_never_sent():
    entries = remediation.plan(FLEET, [rule("broken", {"device_type": ["server"]}, "exempt", exempt_hours=1)], now=NOW)
    applied = {"changed": True, "failed": True, "msg": "actions[0] (exempt) stopped: HTTP 503", "actions": [
        {"action": "exempt", "error": "HTTP 503",
         "devices": [{"id": "b", "result": "failed"}, {"id": "c", "result": "not_sent"}]}]}
    summary = remediation.summary(entries, applied)
    broken = summary["rules"][0]
    assert (broken["failed"], broken["not_sent"], broken["failed_ids"]) == (1, 1, ["b", "c"])
    assert summary["totals"]["not_sent"] == 1
    assert summary["lines"][1] == ("broken [exempt]: matched 2, changed 0, unchanged 0, failed 1, not_supported 0,"
                                   " not_found 0, not_sent 1. ERROR: HTTP 503")


def test_summary_of_a_call_that_failed_before_writing_gives_its_error_to_every_rule_with_targets():
    entries = remediation.plan(FLEET, [rule("quarantine", {"severity": ["critical"]}, "assign_to_group", group_name="Q"),
                                       rule("nothing", {"device_type": ["phone"]}, "unexempt")], now=NOW)
    failed = {"failed": True, "msg": "Device Details: timed out", "api_requests": {"requests": 3}}
    summary = remediation.summary(entries, failed, listing={"api_requests": {"requests": 7}})
    quarantine, nothing = summary["rules"]
    assert quarantine["error"] == "Device Details: timed out" and quarantine["ran"] is False
    assert quarantine["changed"] == 0 and nothing["error"] is None
    assert summary["totals"]["errors"] == 1 and summary["totals"]["requests"] == 10


def test_summary_in_check_mode_says_so_and_counts_the_group_check():
    entries = remediation.plan(FLEET, [rule("q", {"severity": ["critical"]}, "assign_to_group", group_name="Q")])
    summary = remediation.summary(entries, {"actions": [{"action": "assign_to_group", "devices": []}],
                                            "api_requests": {"requests": 2}},
                                  listing={"api_requests": {"requests": 3}}, groups={"api_requests": {"requests": 2}},
                                  check_mode=True)
    assert summary["check_mode"] is True
    assert summary["lines"][0] == ("CHECK MODE (predicted, nothing written): 1 rule(s); fleet listed once with 3"
                                   " request(s), groups checked with 2; rules applied with 2; 7 request(s) in all")


def test_summary_says_which_devices_the_rules_were_matched_against():
    entries = remediation.plan(FLEET, [rule("q", {"severity": ["critical"]}, "assign_to_group", group_name="Q")], now=NOW)
    applied = {"actions": [{"action": "assign_to_group", "devices": []}], "api_requests": {"requests": 2}}
    changes = {"devices": FLEET[:3], "deleted_device_ids": ["x", "y"], "count": 3, "api_requests": {"requests": 4}}
    summary = remediation.summary(entries, applied, listing=changes, groups={"api_requests": {"requests": 1}},
                                  changed_within="600")
    assert (summary["mode"], summary["changed_within"], summary["deleted"]) == ("changed within 600 s", 600, 2)
    assert summary["lines"][0] == ("1 rule(s); changed within 600 s: 3 device(s) whose status changed read with 4"
                                   " request(s), 2 deleted (not targets), groups checked with 1; rules applied with 2;"
                                   " 7 request(s) in all")
    for whole_fleet in (None, "", 0):
        summary = remediation.summary(entries, applied, listing={"devices": FLEET, "api_requests": {"requests": 4}},
                                      changed_within=whole_fleet)
        assert (summary["mode"], summary["changed_within"], summary["deleted"]) == ("whole fleet", None, 0)
        assert summary["lines"][0].startswith("1 rule(s); fleet listed once with 4 request(s); rules applied with 2")
    # No rule: the mode is said all the same.
    assert remediation.summary([], None, changed_within=300)["mode"] == "changed within 300 s"


def test_plan_entries_carry_their_item_of_opswat_device_action_actions():
    entries = remediation.plan(FLEET, [rule("q", {"severity": ["critical"]}, "assign_to_group", group_name="Q"),
                                       rule("s", {"severity": ["critical"]}, "scan_threats", full_scan=True)], now=NOW)
    assert entries[0]["device_action"] == dict(action="assign_to_group", group_name="Q", device_ids=entries[0]["targets"])
    assert entries[1]["device_action"] == dict(action="scan_threats", full_scan=True, device_ids=entries[1]["targets"])
    assert entries[0]["targets"]


def test_summary_of_no_rule():
    summary = remediation.summary([], None)
    assert summary["rules"] == [] and summary["totals"]["requests"] == 0
    assert summary["lines"] == ["no rule: nothing to do, no request sent"]


def test_every_action_a_rule_takes_is_a_module_action():
    assert set(remediation.RULE_ACTIONS) <= set(catalogue.ACTIONS)
    assert all(catalogue.CATALOGUE[name].controls for name in remediation.RULE_ACTIONS)
    assert set(itertools.chain.from_iterable(remediation.RULE_ACTIONS.values())) == set(catalogue.ACTION_ONLY_OPTIONS)
