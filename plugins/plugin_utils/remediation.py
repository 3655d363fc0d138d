# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The remediation role's planner, behind its filters (plugins/filter/remediation.py): check the rules, plan each
rule's targets from one listing, summarise.

The matching itself is ``module_utils.devices`` (``validate_filters`` and ``matches``), the code behind
``opswat_device_info``'s filters, and a rule's action options are checked by the action catalogue and converted
by the module's own option spec, so a rule and opswat_device_action can never mean different things. Only
``not_seen_days`` is added here. ``remediation_changed_within`` is checked by opswat_device_info's own check of
``changed_within``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import re
import time

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.collections import is_sequence
from ansible.module_utils.common.validation import check_type_bool, check_type_int, check_type_list, check_type_str

from ansible_collections.opswat.it_access.plugins.module_utils.actions import FAILED_RESULTS, find_group
from ansible_collections.opswat.it_access.plugins.module_utils.catalogue import (
    ACTION_ONLY_OPTIONS, ACTION_OPTIONS, ACTION_RULES, CATALOGUE, check_action_options)
from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    FILTER_CHOICES, matches, unique, validate_filters)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer
from ansible_collections.opswat.it_access.plugins.module_utils.status_changes import check_change_age

# The actions a rule may take, and the options each one takes (the catalogue's options of that action).
RULE_ACTIONS = dict((name, CATALOGUE[name].options) for name in ("exempt", "unexempt", "assign_to_group", "scan_threats"))
RULE_KEYS = ("name", "match", "action") + tuple(ACTION_ONLY_OPTIONS)
MATCH_KEYS = tuple(FILTER_CHOICES) + ("not_seen_days",)

RESULT_NAMES = ("changed", "unchanged") + FAILED_RESULTS

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------- helpers

def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


# opswat_device_action's option types, converted the way its argument spec converts them (extra vars arrive as
# strings: "72", "yes", "memory,boot_records"), except that list elements must already be strings.
_CONVERTERS = {
    "bool": check_type_bool,
    "int": check_type_int,
    "list": check_type_list,
    "str": lambda value: check_type_str(value, allow_conversion=False),
}
_TYPE_WORDS = {"bool": "true or false", "int": "a whole number", "list": "a list of strings", "str": "a string"}


def convert_option(option, value):
    """``value`` of an opswat_device_action ``option`` as the module would receive it; InputError naming it otherwise."""
    spec = ACTION_OPTIONS[option]
    try:
        converted = _CONVERTERS[spec["type"]](value)
        if spec.get("elements"):
            converted = [_CONVERTERS[spec["elements"]](item) for item in converted]
    except TypeError:
        raise InputError(option, "must be %s, got %r" % (_TYPE_WORDS[spec["type"]], value))
    if spec["type"] == "int":
        check_integer(option, converted)
    return converted


def parse_timestamp(value):
    """Epoch seconds of an API timestamp (``2022-07-05T10:24:10Z``, with or without fraction or offset) or of an
    epoch number (seconds, or milliseconds when larger than 10^11). None for a value that is not a time."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) / 1000.0 if value > 1e11 else float(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.match(r"^\d+(\.\d+)?$", text):
        return parse_timestamp(float(text))
    found = _TIMESTAMP.match(text)
    if not found:
        return None
    year, month, day, hour, minute, second, zone = found.groups()
    try:
        epoch = calendar.timegm((int(year), int(month), int(day), int(hour), int(minute), int(second or 0), 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31 and int(hour) < 24 and int(minute) < 60):
        return None
    if zone and zone.upper() != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        epoch -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    return float(epoch)


def _reference_epoch(now):
    if now is None or (isinstance(now, str) and not now.strip()):
        return time.time()
    epoch = parse_timestamp(now)
    if epoch is None:
        raise AnsibleFilterError("remediation_reference_time: %r is not a time; give an ISO 8601 UTC time such as"
                                 " 2025-06-30T12:00:00Z or epoch seconds" % (now,))
    return epoch


def check_changed_within(value):
    """The role's ``remediation_changed_within``: None (match the whole fleet) when unset, empty or 0, else its
    seconds, checked as opswat_device_info checks ``changed_within`` (1..86400, no boolean). A string of digits
    (an extra var) counts as its number, as the module's ``type: int`` takes it. AnsibleFilterError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = _whole_number(value)
    if number == 0:
        return None
    try:
        return check_change_age("remediation_changed_within", value if number is None else number)
    except InputError as error:
        raise AnsibleFilterError(error.message)


def not_seen_since(device, cutoff):
    """True when the device was last seen before ``cutoff`` (epoch seconds) or never seen.

    A device without ``last_seen`` (missing, null or empty) was never seen. A ``last_seen`` that is not a time
    is not evidence of anything, so such a device does not match.
    """
    value = device.get("last_seen")
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    seen = parse_timestamp(value)
    return seen is not None and seen < cutoff


# ------------------------------------------------------------------------------------------------ rules

def _rule_label(index, rule):
    name = rule.get("name") if isinstance(rule, dict) else None
    if isinstance(name, str) and name.strip():
        return "remediation_rules[%d] (%s)" % (index, name)
    return "remediation_rules[%d]" % index


def _check_match(match, problems):
    """The normalised match of a rule: {filter: [values]} plus not_seen_days. Appends to ``problems``."""
    if match is None:
        problems.append("match: is required; say which devices the rule is for (a rule never targets the whole"
                        " fleet by accident)")
        return None
    if not isinstance(match, dict):
        problems.append("match: must be a dictionary of criteria, got %s" % type(match).__name__)
        return None
    before = len(problems)
    unknown = sorted(str(key) for key in match if key not in MATCH_KEYS)
    if unknown:
        problems.append("match: unknown criteria %s; use %s" % (", ".join(unknown), ", ".join(MATCH_KEYS)))
    normalised = {}
    for name in FILTER_CHOICES:
        if match.get(name) is not None:
            values = _check_criterion(name, match[name], problems)
            if values is not None:
                normalised[name] = values
    days = match.get("not_seen_days")
    if days is not None:
        number = _whole_number(days)
        if number is None or number < 1:
            problems.append("match.not_seen_days: must be a whole number of days, at least 1, got %r" % (days,))
        else:
            normalised["not_seen_days"] = number
    if not normalised and len(problems) == before:
        problems.append("match: needs at least one criterion (%s); a rule never targets the whole fleet by"
                        " accident" % ", ".join(MATCH_KEYS))
    return normalised


def _check_criterion(name, value, problems):
    """The values of one filter criterion, converted as the module's ``type: list`` converts them; None after a
    problem. One criterion at a time, so that every criterion with a wrong value is reported, not the first."""
    try:
        values = check_type_list(value)
    except TypeError:
        values = None
    if not values or not all(isinstance(item, str) and item for item in values):
        problems.append("match.%s: must be a non-empty list of strings" % name)
        return None
    try:
        validate_filters({name: values})
    except InputError as error:
        problems.append("match.%s" % error.message)
        return None
    return unique(values)


def _whole_number(value):
    if isinstance(value, bool):
        return None
    try:
        return check_type_int(value)
    except TypeError:
        return None


def _check_params(action, rule, problems):
    """The opswat_device_action options of the rule's action, checked by the module's own checks: its option
    types (``convert_option``), its rules between options (``ACTION_RULES``) and the catalogue's checks.

    Each option of another action, and each option of a wrong type, is a problem of its own; how the options go
    together is checked once they all have their type. {} after a problem.
    """
    for option in ACTION_ONLY_OPTIONS:
        try:
            check_action_options(action, {option: rule.get(option)})
        except InputError as error:
            problems.append(error.message)
    before = len(problems)
    options = {}
    for option in CATALOGUE[action].options:
        if rule.get(option) is not None:
            try:
                options[option] = convert_option(option, rule[option])
            except InputError as error:
                problems.append(error.message)
    if len(problems) > before:
        return {}
    try:
        _check_required_one(action, options)
        CATALOGUE[action].params(options)
    except InputError as error:
        problems.append(error.message)
        return {}
    if options.get("scan_types"):
        options["scan_types"] = unique(options["scan_types"])
    return dict((option, value) for option, value in options.items() if value not in (None, "", []))


def _check_required_one(action, options):
    """The module's ``required_if`` with one of several options (assign_to_group's group_name or group_id), and
    the mutual exclusion between them: exactly one of them."""
    for _key, value, names, _any in ACTION_RULES["required_if"]:
        if value == action and len([name for name in names if options.get(name) is not None]) != 1:
            raise InputError(", ".join(names), "action %s needs exactly one of them" % action)


def _group_problems(rules, groups):
    """Problems of assign_to_group rules whose group is not in ``groups`` (the opswat_group_info list), in the
    module's own words (``find_group``)."""
    problems = []
    for index, rule in enumerate(rules):
        if rule["action"] != "assign_to_group":
            continue
        try:
            find_group(groups, rule["params"].get("group_name"), rule["params"].get("group_id"))
        except InputError as error:
            problems.append("%s: %s" % (_rule_label(index, rule), error))
    return problems


def check_rules(rules, groups=None, reference_time=None, changed_within=None):
    """Normalised rules, or AnsibleFilterError listing every problem of every rule (nothing is sent before).

    With ``groups`` (the groups of opswat_group_info), the groups that assign_to_group rules name must exist.
    ``reference_time`` and ``changed_within`` (the role's remediation_reference_time and
    remediation_changed_within) are checked here too, so that a bad one fails the role before its first request
    rather than after the listing. With ``changed_within``, a rule on ``not_seen_days`` is a problem: a device
    that stops reporting does not change status, so the changes would never hold the devices it is for.
    """
    _reference_epoch(reference_time)
    window = check_changed_within(changed_within)
    if rules is None:
        return []
    if isinstance(rules, dict) or isinstance(rules, str) or not is_sequence(rules):
        raise AnsibleFilterError("remediation_rules: must be a list of rules, got %s" % type(rules).__name__)
    errors = []
    normalised = []
    seen_names = {}
    for index, rule in enumerate(rules):
        checked, problems = _check_rule(index, rule, seen_names)
        if window is not None and _has_not_seen_days(rule):
            checked = None
            problems.append(_NOT_SEEN_INCREMENTAL % window)
        errors.extend("%s: %s" % (_rule_label(index, rule), problem) for problem in problems)
        if checked is not None:
            normalised.append(checked)
    if not errors and groups is not None:
        if isinstance(groups, dict):
            groups = groups.get("groups") or []
        errors = _group_problems(normalised, groups)
    if errors:
        raise AnsibleFilterError("%d problem(s) in remediation_rules, nothing was changed:\n  - %s"
                                 % (len(errors), "\n  - ".join(errors)))
    return normalised


_NOT_SEEN_INCREMENTAL = (
    "match.not_seen_days cannot be combined with remediation_changed_within (%d s): a device that stops reporting"
    " does not change status, so the devices this rule is for are never among those changed; apply it in a run"
    " over the whole fleet (remediation_changed_within unset)")


def _has_not_seen_days(rule):
    match = rule.get("match") if isinstance(rule, dict) else None
    return isinstance(match, dict) and match.get("not_seen_days") is not None


def _check_rule(index, rule, seen_names):
    """(the normalised rule or None, its problems); a rule's name goes into ``seen_names``."""
    if not isinstance(rule, dict):
        return None, ["must be a dictionary with name, match and action, got %s" % type(rule).__name__]
    problems = []
    unknown = sorted(str(key) for key in rule if key not in RULE_KEYS)
    if unknown:
        problems.append("unknown option(s) %s; a rule takes %s" % (", ".join(unknown), ", ".join(RULE_KEYS)))
    name = rule.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append("name: is required, a non-empty string (the summary reports each rule by its name)")
    elif name in seen_names:
        problems.append("name: %r is already the name of remediation_rules[%d]; names must be unique"
                        % (name, seen_names[name]))
    else:
        seen_names[name] = index
    match = _check_match(rule.get("match"), problems)
    action = rule.get("action")
    params = {}
    if action not in RULE_ACTIONS:
        problems.append("action: %r is not one of %s" % (action, ", ".join(RULE_ACTIONS)))
    else:
        params = _check_params(action, rule, problems)
    if problems:
        return None, problems
    return dict(name=name, action=action, match=match, params=params, controls=CATALOGUE[action].controls), []


# ------------------------------------------------------------------------------------------------ plan

def _rule_matches(rule, device, cutoff):
    match = rule["match"]
    filters = dict((name, set(values)) for name, values in match.items() if name != "not_seen_days")
    if not matches(device, filters):
        return False
    if "not_seen_days" in match and not not_seen_since(device, cutoff[match["not_seen_days"]]):
        return False
    return True


def plan(devices, rules, now=None):
    """One entry per rule: its action and options, the devices it matches, and the ids it acts on.

    A device is acted on by every rule that matches it, except that a device gets at most one action on each
    thing an action controls (its exemption, its group, a scan): the first matching rule in the list keeps the
    device and a later rule that controls the same thing leaves it out (``overridden``).
    """
    rules = check_rules(rules)
    if devices is None:
        devices = []
    if isinstance(devices, dict) or not is_sequence(devices):
        raise AnsibleFilterError("remediation_plan: expects the list of devices of opswat_device_info, got %s"
                                 % type(devices).__name__)
    reference = _reference_epoch(now)
    cutoff = dict((rule["match"]["not_seen_days"], reference - rule["match"]["not_seen_days"] * 86400.0)
                  for rule in rules if "not_seen_days" in rule["match"])
    entries = []
    for rule in rules:
        entries.append(dict(name=rule["name"], action=rule["action"], params=rule["params"], match=rule["match"],
                            matched=0, targets=[], overridden=0, overridden_by={}))
    claimed = {}  # (device_id, controls) -> index of the rule that keeps it
    for device in devices:
        if not isinstance(device, dict):
            continue
        device_id = device.get("device_id")
        if not device_id:
            continue
        for index, rule in enumerate(rules):
            if not _rule_matches(rule, device, cutoff):
                continue
            entry = entries[index]
            entry["matched"] += 1
            key = (device_id, rule["controls"])
            if key in claimed:
                entry["overridden"] += 1
                winner = entries[claimed[key]]["name"]
                entry["overridden_by"][winner] = entry["overridden_by"].get(winner, 0) + 1
                continue
            claimed[key] = index
            entry["targets"].append(device_id)
    for entry in entries:
        entry["device_action"] = dict(entry["params"], action=entry["action"], device_ids=list(entry["targets"]))
    return entries


# --------------------------------------------------------------------------------------------- summary

def _action_results(plan_entries, applied):
    """{rule name: its entry of the opswat_device_action ``actions`` result}, and the error of a call that failed.

    ``applied`` holds one entry in ``actions`` for each rule with targets, in the order of the plan.
    """
    if not isinstance(applied, dict) or applied.get("skipped"):
        return {}, None
    acting = [entry["name"] for entry in plan_entries or [] if entry["targets"]]
    entries = [entry for entry in applied.get("actions") or [] if isinstance(entry, dict)]
    if len(entries) != len(acting):
        # No per-action results: the call failed before its first write (or is not this plan's).
        return {}, applied.get("msg") or "the call returned no per-action results"
    return dict(zip(acting, entries)), None


def _requests(result):
    api = result.get("api_requests") if isinstance(result, dict) else None
    if isinstance(api, dict) and _is_int(api.get("requests")):
        return api["requests"]
    return 0


def _scope(listing, changed_within):
    """``(the summary's mode fields, how its first line names the devices read)`` for the role's listing: the
    whole fleet, or the devices whose status changed within ``changed_within`` seconds and those deleted."""
    window = check_changed_within(changed_within)
    requests = _requests(listing)
    if window is None:
        return dict(mode="whole fleet", changed_within=None, deleted=0), "fleet listed once with %d request(s)" % requests
    listing = listing if isinstance(listing, dict) else {}
    changed = len(listing.get("devices") or [])
    deleted = len(listing.get("deleted_device_ids") or [])
    return (dict(mode="changed within %d s" % window, changed_within=window, deleted=deleted),
            "changed within %d s: %d device(s) whose status changed read with %d request(s), %d deleted (not"
            " targets)" % (window, changed, requests, deleted))


def summary(plan_entries, results=None, listing=None, groups=None, check_mode=False, changed_within=None):
    """Per-rule outcome of the role, totals and readable lines.

    ``plan_entries`` is the plan, ``results`` the registered opswat_device_action result of the plan, ``listing``
    and ``groups`` the registered opswat_device_info and opswat_group_info results (for the requests they spent),
    ``changed_within`` the role's remediation_changed_within (which devices the listing holds: the mode).
    """
    scope, read = _scope(listing, changed_within)
    by_name, call_error = _action_results(plan_entries, results)
    rules = []
    totals = dict(matched=0, targets=0, overridden=0, errors=0)
    totals.update(dict.fromkeys(RESULT_NAMES, 0))
    for entry in plan_entries or []:
        result = by_name.get(entry["name"], {})
        counts = dict.fromkeys(RESULT_NAMES, 0)
        failed_ids = []
        for device in result.get("devices") or []:
            if isinstance(device, dict) and device.get("result") in counts:
                counts[device["result"]] += 1
                if device["result"] in FAILED_RESULTS:
                    failed_ids.append(device.get("id"))
        error = result.get("error") or (call_error if entry["targets"] else None)
        rule = dict(name=entry["name"], action=entry["action"], matched=entry["matched"],
                    targets=len(entry["targets"]), overridden=entry["overridden"],
                    overridden_by=dict(entry.get("overridden_by") or {}), ran=bool(result),
                    failed_ids=failed_ids, error=error)
        rule.update(counts)
        rules.append(rule)
        for key in ("matched", "targets", "overridden") + RESULT_NAMES:
            totals[key] += rule[key]
        totals["errors"] += 1 if error else 0
    listing_requests = _requests(listing)
    group_requests = _requests(groups)
    action_requests = _requests(results)
    totals["requests"] = listing_requests + group_requests + action_requests
    prefix = "CHECK MODE (predicted, nothing written): " if check_mode else ""
    if not rules:
        lines = ["%sno rule: nothing to do, no request sent" % prefix]
        return dict(scope, rules=rules, totals=totals, check_mode=bool(check_mode), lines=lines)
    lines = ["%s%d rule(s); %s%s; rules applied with %d; %d request(s) in all"
             % (prefix, len(rules), read, ", groups checked with %d" % group_requests if group_requests else "",
                action_requests, totals["requests"])]
    for rule in rules:
        line = "%s [%s]: matched %d" % (rule["name"], rule["action"], rule["matched"])
        if rule["overridden"]:
            line += " (%d left to earlier rules: %s)" % (rule["overridden"], ", ".join(
                "%s %d" % (name, count) for name, count in sorted(rule["overridden_by"].items())))
        if not rule["targets"]:
            line += ", nothing to do"
        else:
            line += ", changed %d, unchanged %d, failed %d, not_supported %d, not_found %d" % tuple(
                rule[name] for name in ("changed", "unchanged", "failed", "not_supported", "not_found"))
            if rule["not_sent"]:
                # Only after a write that stopped: the devices of the rule's requests that were never sent.
                line += ", not_sent %d" % rule["not_sent"]
        if rule["error"]:
            line += ". ERROR: %s" % rule["error"]
        lines.append(line)
    return dict(scope, rules=rules, totals=totals, check_mode=bool(check_mode), lines=lines)
