# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action catalogue: every Device Action (v3.3) with its options and their checks, what it controls, whether
it is idempotent and which devices it applies to (docs/dev/api-notes.md, Device Action).

opswat_device_action's engine (``actions.py``), the remediation role's planner and the documentation read this
one table; a unit test compares the documentation's tables with it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.opswat.it_access.plugins.module_utils.devices import (
    UNMONITORED_STATUSES, device_os_types, unique)
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.options import check_integer

# scan_threats custom scan types, in the API's documented order (params.scan_types takes their index).
SCAN_TYPES = ["memory", "system_volume", "portable_volumes", "additional_volumes", "specific_path", "boot_records"]
MAX_EXEMPT_HOURS = 64999  # the API takes exempt_time below 65000


# ------------------------------------------------------------------------------------- option checks

def exempt_params(options):
    """The API's ``params`` of ``exempt``: ``exempt_time`` in hours, 0 for forever.

    Required: the API's default when it is left out is forever, and a permanent exemption must be asked for.
    """
    exempt_hours = options.get("exempt_hours")
    if exempt_hours is None:
        raise InputError("exempt_hours", "is required with action=exempt (0 exempts forever; say so explicitly)")
    check_integer("exempt_hours", exempt_hours)
    if not 0 <= exempt_hours <= MAX_EXEMPT_HOURS:
        raise InputError("exempt_hours", "must be between 0 (forever) and %d, got %d" % (MAX_EXEMPT_HOURS, exempt_hours))
    return {"exempt_time": exempt_hours}


def group_params(options):
    """None: the group is resolved to its id later (``actions.resolve_groups``); its name or id must not be blank."""
    for name in ("group_name", "group_id"):
        if options.get(name) is not None and not options[name].strip():
            raise InputError(name, "must not be empty")
    return None


def scan_params(options):
    """The API's ``params`` of ``scan_threats``: ``full_scan`` as 1 or 0, ``scan_types`` as the documented integers."""
    full_scan, scan_types, scan_path = options.get("full_scan"), options.get("scan_types"), options.get("scan_path")
    if full_scan:
        if scan_types:
            raise InputError("scan_types", "a full scan (full_scan=true) takes no scan_types")
        if scan_path is not None:
            raise InputError("scan_path", "a full scan (full_scan=true) takes no scan_path")
        return {"full_scan": 1}
    if not scan_types:
        raise InputError("scan_types", "action=scan_threats needs full_scan=true or a list of scan_types")
    wrong = [value for value in scan_types if value not in SCAN_TYPES]
    if wrong:
        raise InputError("scan_types", "unknown value(s) %s; choose from %s" % (", ".join(map(str, wrong)), ", ".join(SCAN_TYPES)))
    if "specific_path" in scan_types and not scan_path:
        raise InputError("scan_path", "is required when scan_types includes specific_path")
    if scan_path is not None and "specific_path" not in scan_types:
        raise InputError("scan_path", "only applies with specific_path in scan_types")
    params = {"full_scan": 0, "scan_types": [SCAN_TYPES.index(name) for name in unique(scan_types)]}
    if scan_path:
        params["path"] = scan_path
    return params


def no_params(options):
    return None


# ------------------------------------------------------------------------------------- applicability

_AGENT_KINDS = dict(persistent="a persistent agent", on_demand="an on-demand agent", mobile="a mobile agent",
                    domain_controller="a domain controller agent", none="no agent")


def agent_kind(device):
    """``persistent``, ``on_demand``, ``mobile``, ``domain_controller``, ``none`` or None when the device does not say.

    The API does not document the values of ``agent_type``; any spelling that names the kind is understood.
    """
    text = str(device.get("agent_type") or "").lower().replace("-", "_").replace(" ", "_")
    if not text:
        return None
    for kind, marks in (("domain_controller", ("domain",)), ("persistent", ("persistent",)),
                        ("on_demand", ("demand",)), ("mobile", ("mobile",)), ("none", ("none", "no_agent"))):
        if any(mark in text for mark in marks):
            return kind
    return None


def _version_tuple(text):
    parts = []
    for part in str(text or "").split("."):
        if not part.isdigit():
            return None
        parts.append(int(part))
    return tuple(parts) if parts else None


def _agent_at_least(device, minimum_by_os):
    """(True/False when known, None when the device lacks the data to tell; why not, when False)."""
    os_types = device_os_types(device) - set([None])
    if not os_types:
        return None, None
    supported = sorted(os_type for os_type in os_types if os_type in minimum_by_os)
    if not supported:
        return False, "the agent does not support it on %s (only on %s)" % (
            ", ".join(sorted(str(os_type) for os_type in os_types)), ", ".join(sorted(minimum_by_os)))
    minimum = minimum_by_os[supported[0]]
    version = _version_tuple(device.get("agent_version"))
    if version is None:
        return None, None
    if version < _version_tuple(minimum):
        return False, "agent %s is older than %s" % (device.get("agent_version"), minimum)
    return True, None


def any_device(action):
    return lambda device: (True, None)


def exemptable(action):
    """exempt and unexempt: not on unknown, ignored or out-of-license devices, nor on domain controllers."""
    def applies(device):
        status = device.get("status")
        if status in UNMONITORED_STATUSES:  # no agent or no license: nothing to exempt
            return False, "%s does not apply to devices whose status is %s" % (action, status)
        if agent_kind(device) == "domain_controller":
            return False, "%s does not apply to domain controllers" % action
        return True, None
    return applies


def with_status(status):
    """ignore and unignore: only on devices of one status."""
    def applies_to(action):
        def applies(device):
            if device.get("status") == status:
                return True, None
            return False, "%s applies to %s devices only" % (action, status)
        return applies
    return applies_to


def not_on_domain_controllers(action):
    def applies(device):
        if agent_kind(device) == "domain_controller":
            return False, "%s does not apply to domain controllers" % action
        return True, None
    return applies


def agent_command(kinds, minimum_versions=None):
    """Commands: on a persistent agent (``kinds`` may add others), at least ``minimum_versions`` by OS type.

    None when the device does not say its agent, or the OS type and version the table needs.
    """
    def applies_to(action):
        def applies(device):
            kind = agent_kind(device)
            if kind is None:
                return None, None
            if kind not in kinds:
                return False, "%s needs a persistent agent%s; this device has %s" % (
                    action, " or a mobile one" if "mobile" in kinds else "", _AGENT_KINDS[kind])
            if kind != "persistent" or not minimum_versions:
                return True, None
            found, reason = _agent_at_least(device, minimum_versions)
            if found is False:
                return False, "%s: %s" % (action, reason)
            return True, None
        return applies
    return applies_to


# ------------------------------------------------------------------------------------------ the table

class Action(object):
    """One action of the catalogue.

    ``options``: the options that belong to this action only; ``params``: their check, giving the API's
    ``params`` (an InputError names the option at fault). ``writes``: the device field the action writes
    (``status``, ``group``, ``existence``; None for a command), so that one read can plan every action of a
    task. ``controls``: the state a remediation rule of this action claims on a device (its exemption, its
    group, a scan). ``state``: for an action that sets a status, (diff key, that status, whether the action
    makes the device have it). ``applies``: ``(applies, reason)`` for a device, ``applies`` None when the
    device lacks the data; built by ``applicability`` from the action's name, which its reasons say.
    ``applies_to``: the documented table's words. ``result``: for a command whose result Get Reports holds, that
    report's type (what ``wait`` polls); else None.
    """

    def __init__(self, name, applicability, applies_to, options=(), params=no_params, idempotent=True, writes=None,
                 controls=None, state=None, result=None):
        self.name = name
        self.applies = applicability(name)
        self.applies_to = applies_to
        self.options = options
        self.params = params
        self.idempotent = idempotent
        self.writes = writes
        self.controls = controls
        self.state = state
        self.result = result


_SCAN_MINIMUM = {"windows": "7.6.206.0", "mac": "10.4.205.0"}
_LOG_MINIMUM = {"windows": "7.6.231.0", "mac": "10.4.225.0"}
_REIDENTIFY_MINIMUM = {"windows": "7.6.71.0", "mac": "10.4.123.0"}

CATALOGUE = dict((action.name, action) for action in (
    Action("exempt", exemptable, "all devices except unknown, ignored, out-of-license-usage ones and domain"
           " controllers", options=("exempt_hours",), params=exempt_params, writes="status", controls="exemption",
           state=("exempted", "exempted", True)),
    Action("unexempt", exemptable, "all devices except unknown, ignored, out-of-license-usage ones and domain"
           " controllers", writes="status", controls="exemption", state=("exempted", "exempted", False)),
    Action("assign_to_group", not_on_domain_controllers, "all devices except domain controllers",
           options=("group_name", "group_id"), params=group_params, writes="group", controls="group"),
    Action("ignore", with_status("unknown"), "unknown devices only", writes="status", controls="ignoring",
           state=("ignored", "ignored", True)),
    Action("unignore", with_status("ignored"), "ignored devices only", writes="status", controls="ignoring",
           state=("ignored", "ignored", False)),
    Action("delete", any_device, "all devices", writes="existence", controls="existence"),
    Action("dhcprenew", agent_command(("persistent",)), "devices with a persistent agent", idempotent=False,
           controls="dhcp_lease"),
    Action("re-identify", agent_command(("persistent", "mobile"), _REIDENTIFY_MINIMUM),
           "Windows persistent agent 7.6.71.0 or later, macOS persistent 10.4.123.0 or later, mobile agent",
           idempotent=False, controls="identity"),
    Action("fetch_agent_log", agent_command(("persistent",), _LOG_MINIMUM),
           "persistent agent 7.6.231.0 (Windows) or 10.4.225.0 (macOS) or later", idempotent=False,
           controls="agent_log", result="agent_log"),
    Action("scan_threats", agent_command(("persistent",), _SCAN_MINIMUM),
           "Windows persistent agent 7.6.206.0 or later, macOS persistent 10.4.205.0 or later",
           options=("full_scan", "scan_types", "scan_path"), params=scan_params, idempotent=False, controls="scan",
           result="scan_threats_log"),
))

# The Device Action types, in the catalogue's order (the module's choices).
ACTIONS = list(CATALOGUE)
# Options that belong to one action only: option -> its action.
ACTION_ONLY_OPTIONS = dict((option, action.name) for action in CATALOGUE.values() for option in action.options)

# The options of one action: each item of opswat_device_action's ``actions``, and (with ``action`` not required)
# the module's own options for a single action. ACTION_RULES are AnsibleModule's rules on an item.
ACTION_OPTIONS = dict(
    action=dict(type="str", required=True, choices=ACTIONS),
    device_ids=dict(type="list", elements="str"),
    macs=dict(type="list", elements="str"),
    exempt_hours=dict(type="int"),
    group_name=dict(type="str"),
    group_id=dict(type="str"),
    full_scan=dict(type="bool"),
    scan_types=dict(type="list", elements="str", choices=SCAN_TYPES),
    scan_path=dict(type="str"),
    force=dict(type="bool", default=False),
)
ACTION_RULES = dict(
    mutually_exclusive=[("device_ids", "macs"), ("group_name", "group_id")],
    required_one_of=[("device_ids", "macs")],
    required_if=[("action", "assign_to_group", ("group_name", "group_id"), True)],
)


def check_action_options(action, options):
    """Raise ``InputError`` for an option given with an action it does not belong to."""
    for option, owner in ACTION_ONLY_OPTIONS.items():
        if options.get(option) is not None and action != owner:
            raise InputError(option, "only applies to action=%s, not action=%s" % (owner, action))


def action_params(action, options):
    """The API's ``params`` of ``action`` from its options, after the check that no other action's option is given."""
    check_action_options(action, options)
    return CATALOGUE[action].params(options)


def action_applicability(action, device):
    """``(applies, reason)``: whether ``action`` applies to ``device`` per the documented table, and why not.

    ``applies`` is None when the device lacks the data; ``reason`` is set when it is False (such as "ignore
    applies to unknown devices only"). The module predicts ``not_supported`` only on False, so check mode and
    the real run agree wherever the device carries the fields the table needs, and the API decides otherwise.
    """
    return CATALOGUE[action].applies(device)
