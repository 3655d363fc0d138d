# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad input: every malformed value fails with a message that names the option, and the simulator sees no write
(for almost every case: no request at all).

tests/functional already covers opswat_device_action's own options (test_device_action.py BAD_INPUTS), the role's
rule checks and a few inventory options; this file covers the rest: the read modules, the connection options, the
environment variables, more of the inventory plugin and of the role, and the plain-http warning.
"""

from __future__ import absolute_import, division, print_function

import pytest

import reliability_harness as harness
from ansible_collections.opswat.it_access.plugins.module_utils.connection import config_from_params
from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError

NOT_LOOPBACK = "http://opswat.example.com"  # never contacted: every case with it fails before any request
CLEAR_TEXT = "the access token would travel in clear text"


def _ids(sim, count=2):
    return harness.exemptable(sim, count)


_EXEMPT = dict(action="exempt", exempt_hours=24, device_ids=["x"])  # a valid first action

# (module, options, option the message must name, text the message must also hold or None)
MODULE_CASES = [
    ("account_info", dict(score_type="cvss4_score"), "score_type", "cvss3_score"),
    ("account_info", dict(include_license_key="perhaps"), "include_license_key", None),
    ("account_info", dict(colour="blue"), "colour", "Unsupported parameters"),
    ("account_info", dict(api_url="ftp://gears.opswat.com"), "api_url", "https://"),
    ("account_info", dict(api_url="https://gears.opswat.com/o/api?access_token=x"), "api_url", "query string"),
    ("account_info", dict(api_url="   "), "api_url", "must not be empty"),
    ("account_info", dict(client_id=None, client_secret=None), "access_token", "no credentials"),
    ("account_info", dict(client_secret=None), "client_secret", "required with client_id"),
    ("account_info", dict(client_id=None), "client_id", "required with client_secret"),
    ("group_info", dict(requests_per_minute=0), "requests_per_minute", "at least 1"),
    ("group_info", dict(requests_per_minute=-10), "requests_per_minute", "at least 1"),
    ("group_info", dict(timeout=0), "timeout", "greater than 0"),
    ("group_info", dict(timeout="soon"), "timeout", None),
    ("group_info", dict(rate_limit_timeout=-2), "rate_limit_timeout", "-1 (no bound)"),
    ("group_info", dict(rate_limit_window=0), "rate_limit_window", "positive number of seconds"),
    ("group_info", dict(rate_limit_window="soon"), "rate_limit_window", None),
    ("group_info", dict(validate_certs="maybe"), "validate_certs", None),
    ("group_info", dict(name=["Finance", "Servers"], requests_per_minute="ten"), "requests_per_minute", None),
    ("device_info", dict(max_devices=0), "max_devices", "at least 1"),
    ("device_info", dict(max_devices="many"), "max_devices", None),
    ("device_info", dict(page_size=51), "page_size", "between 1 and 50"),
    ("device_info", dict(page_size=0), "page_size", "between 1 and 50"),
    ("device_info", dict(severity=["high"]), "severity", "no_issues"),
    ("device_info", dict(device_type=["workstation"]), "device_type", "laptop"),
    ("device_info", dict(os_type=["win"]), "os_type", "windows"),
    ("device_info", dict(device_ids=[]), "device_ids", "empty"),
    ("device_info", dict(macs=[]), "macs", "empty"),
    ("device_info", dict(macs=["zz:zz:zz:zz:zz:zz"]), "macs", "not a MAC address"),
    ("device_info", dict(macs=["aa:bb:cc:dd:ee"]), "macs", "not a MAC address"),
    ("device_info", dict(device_ids=["x"], macs=["aa:bb:cc:dd:ee:ff"]), "device_ids", "mutually exclusive"),
    ("device_info", dict(changed_within=0), "changed_within", "from 1 to 86400"),
    ("device_info", dict(changed_within=86401), "changed_within", "from 1 to 86400"),
    ("device_info", dict(changed_within="an hour"), "changed_within", None),
    ("device_info", dict(changed_within=True), "changed_within", "not a boolean"),
    ("device_info", dict(changed_within=600, device_ids=["x"]), "changed_within", "cannot be combined with device_ids"),
    ("device_info", dict(changed_within=600, macs=["aa:bb:cc:dd:ee:ff"]), "changed_within", "cannot be combined with macs"),
    ("device_info", dict(changed_within=600, max_devices=10), "changed_within", "cannot be combined with max_devices"),
    ("device_action", dict(action="exempt", exempt_hours=24, device_ids=["", "x"]), "device_ids", "empty"),
    ("device_action", dict(action="exempt", device_ids=["x"], exempt_hours=1.5), "exempt_hours", None),
    ("device_action", dict(action="exempt", exempt_hours=24, device_ids=["x"], force="sometimes"), "force", None),
    ("device_action", dict(action="exempt", exempt_hours=24, device_ids={"x": 1}), "device_ids", None),
    ("device_action", dict(action="assign_to_group", device_ids=["x"], group_name="  "), "group_name", "empty"),
    ("device_action", dict(action="exempt", exempt_hours=24, macs=["aa:bb:cc:dd:ee:gg"]), "macs", "not a MAC address"),
    ("device_action", dict(action="scan_threats", device_ids=["x"], scan_types=["registry"]), "scan_types", "memory"),
    ("device_action", dict(action="exempt", exempt_hours=24, device_ids=["x"], allow_partial="partly"), "allow_partial", None),
    ("device_action", dict(action="dhcprenew", device_ids=["x"], scan_path="/tmp"), "scan_path", "scan_threats"),
    # A list of actions: the error names the option of the action it is in (a later one too).
    ("device_action", dict(actions=[_EXEMPT, dict(action="scan_threats", device_ids=["y"], scan_types=["specific_path"])]),
     "actions[1].scan_path", "specific_path"),
    ("device_action", dict(actions=[_EXEMPT, dict(action="exempt", exempt_hours=24, macs=["aa:bb:cc:dd:ee:gg"])]), "actions[1].macs",
     "not a MAC address"),
    ("device_action", dict(actions=[dict(action="exempt", exempt_hours=24, device_ids=["", "x"])]), "actions[0].device_ids", "empty"),
    ("device_action", dict(actions=[_EXEMPT, dict(action="assign_to_group", device_ids=["x"], group_name="  ")]),
     "actions[1].group_name", "empty"),
    ("device_action", dict(actions=[_EXEMPT, dict(action="dhcprenew", device_ids=["x"], full_scan=True)]),
     "actions[1].full_scan", "scan_threats"),
    ("device_action", dict(actions=[_EXEMPT, dict(action="exempt", exempt_hours=24, device_ids=["x"], colour="blue")]), "actions.colour",
     "Unsupported parameters"),
    ("device_action", dict(actions=[dict(action="assign_to_group", device_ids=["x"], group_name="Finance", group_id="default")]),
     "group_name|group_id", "mutually exclusive"),
    ("device_action", dict(actions=[_EXEMPT], known_groups=[dict(group_id="g1", group_name="A"), dict(group_id="g2")]),
     "known_groups[1]", "group_name"),
    ("device_action", dict(actions=[_EXEMPT], known_groups=["Finance"]), "known_groups", None),
    # One action or a list of them, not both, and not a list with the options of one action.
    ("device_action", dict(action="exempt", exempt_hours=24, device_ids=["x"], actions=[_EXEMPT]), "action|actions",
     "mutually exclusive"),
    ("device_action", dict(actions=[_EXEMPT], device_ids=["x"]), "actions|device_ids", "mutually exclusive"),
    ("device_action", dict(actions=[_EXEMPT], force=True), "actions|force", "mutually exclusive"),
    ("device_action", dict(device_ids=["x"]), "action, actions", "one of the following is required"),
    # opswat_vulnerability_info and opswat_threat_info: what the API forbids, and options of the other form.
    ("vulnerability_info", dict(score_type="cvss3_score", severity=["important"]), "severity", "score_type cvss3_score"),
    ("vulnerability_info", dict(severity=["high"]), "severity", "score_type opswat_score"),
    ("vulnerability_info", dict(device_id="x", search="chrome"), "search", "account-wide"),
    ("vulnerability_info", dict(mac="aa:bb:cc:dd:ee:ff", sort_by="cve_id"), "sort_by", "account-wide"),
    ("vulnerability_info", dict(kev_only=True), "kev_only", "give device_id or mac"),
    ("vulnerability_info", dict(verbose=True), "verbose", "give device_id or mac"),
    ("vulnerability_info", dict(sort_order="desc"), "sort_order", "needs sort_by"),
    ("vulnerability_info", dict(max_entries=0), "max_entries", "1 or more"),
    ("vulnerability_info", dict(device_id="x", mac="aa:bb:cc:dd:ee:ff"), "device_id", "mutually exclusive"),
    ("vulnerability_info", dict(mac="aa:bb:cc"), "mac", "not a MAC address"),
    ("threat_info", dict(), "device_id", "one of the following is required"),
    ("threat_info", dict(device_id="x", max_entries=-1), "max_entries", "1 or more"),
    ("threat_info", dict(mac="zz:zz:zz:zz:zz:zz"), "mac", "not a MAC address"),
]

# opswat_log_info: the API's bounds of a log query, checked before any request.
_LOGS = dict(category="admin")
MODULE_CASES += [
    ("log_info", dict(_LOGS, age=86401), "age", "from 1 to 86400"),
    ("log_info", dict(_LOGS, age=0), "age", "from 1 to 86400"),
    ("log_info", dict(_LOGS, age=True), "age", "not a boolean"),
    ("log_info", dict(_LOGS, since="2026-12-01T10:00:00Z", until="2026-12-01T09:00:00Z"), "since", "must not be after until"),
    ("log_info", dict(_LOGS, age=60, since="2026-12-01T10:00:00Z"), "age|since", "mutually exclusive"),
    ("log_info", dict(_LOGS, since="yesterday"), "since", "ISO 8601 time with a zone"),
    ("log_info", dict(_LOGS, until="2026-12-01 09:00"), "until", "ISO 8601 time with a zone"),
    ("log_info", dict(category="device_report", events=["deleted"]), "events", "does not apply to the device_report"),
    ("log_info", dict(category="audit"), "category", "device_report"),
    ("log_info", dict(), "category", "missing required"),
    ("log_info", dict(_LOGS, max_entries=0), "max_entries", "at least 1"),
    # rate_limit_store: local or a Redis URL with a valid port and a database number (the password never shown).
    ("account_info", dict(rate_limit_store="memcached://cache:11211"), "rate_limit_store", "redis://"),
    ("group_info", dict(rate_limit_store="redis://:bad-input-store-pw@cache:70000"), "rate_limit_store", "port"),
    ("device_info", dict(rate_limit_store="redis://cache:6379/zero"), "rate_limit_store", "database number"),
]

# Waiting for command results (opswat_device_action wait) and opswat_report.
_SCAN = dict(action="scan_threats", full_scan=True, device_ids=["x"])
REPORT_CASES = [
    ("device_action", dict(_EXEMPT, wait=True), "wait", "only applies to actions with a result"),
    ("device_action", dict(actions=[_EXEMPT], wait=True), "wait", "only applies to actions with a result"),
    ("device_action", dict(_SCAN, wait=True, wait_timeout=0), "wait_timeout", "at least 1 second"),
    ("device_action", dict(_SCAN, wait=True, wait_timeout=True), "wait_timeout", None),
    ("device_action", dict(_SCAN, dest="/tmp"), "dest", "only applies with wait=true"),
    ("device_action", dict(_SCAN, wait=True, dest="/tmp"), "dest", "only applies to fetch_agent_log"),
    ("device_action", dict(action="fetch_agent_log", device_ids=["x"], wait=True), "dest", "is required"),
    ("device_action", dict(action="fetch_agent_log", device_ids=["x"], wait=True, dest="/nonexistent/logs"), "dest",
     "existing directory"),
    ("device_action", dict(action="fetch_agent_log", device_ids=["x"], wait=True, dest="/etc/hostname"), "dest",
     "existing directory"),
    ("report", dict(type="os_patch_summary", kb="KB5034441"), "kb", "only applies to type=device_missing_os_patch"),
    ("report", dict(type="device_missing_os_patch"), "kb", "is required"),
    ("report", dict(type="missing_os_patch"), "device_id or mac", "is required"),
    ("report", dict(type="missing_os_patch", device_id="x", mac="aa:bb:cc:dd:ee:ff"), "device_id|mac", "mutually exclusive"),
    ("report", dict(type="missing_os_patch", mac="aa:bb:cc:dd:ee"), "mac", "not a MAC address"),
    ("report", dict(type="scan_threats_log"), "command_id", "is required"),
    ("report", dict(type="os_patch_summary", command_id="c1"), "command_id", "only applies to type=agent_log"),
    ("report", dict(type="agent_log", command_id="c1"), "dest", "is required with type=agent_log"),
    ("report", dict(type="scan_threat_log"), "type", None),
    ("report", dict(type="os_patch_summary", mode="0640"), "mode", "only applies with dest"),
    ("report", dict(type="os_patch_summary", dest="/tmp/opswat-report.csv", mode="u=rw"), "mode", "symbolic"),
    ("report", dict(type="os_patch_summary", dest="/tmp"), "dest", "is a directory"),
]
MODULE_CASES += REPORT_CASES


@pytest.mark.parametrize("module, options, option, text", MODULE_CASES,
                         ids=["%s-%s" % (case[0], "-".join(sorted(case[1]))) for case in MODULE_CASES])
def test_a_bad_module_option_fails_before_any_request(make_sim, module, options, option, text):
    sim = make_sim()
    args = harness.connection(sim)
    args.update(options)
    args = dict((key, value) for key, value in args.items() if value is not None)
    run = harness.run_module(module, args)
    assert run.traceback is None, run.traceback
    assert run.exit_code == 1 and run.failed, run
    assert option in run.msg, run.msg
    if text is not None:
        assert text in run.msg, run.msg
    assert sim.request_log() == [], "a bad input let a request through"
    assert not harness.leaks(run.stdout, sim)


# (environment, option, module) -- the module's own arguments do not set that option
ENVIRONMENT_CASES = [
    (dict(OPSWAT_TIMEOUT="abc"), "timeout", "group_info"),
    (dict(OPSWAT_TIMEOUT="-1"), "timeout", "account_info"),
    (dict(OPSWAT_REQUESTS_PER_MINUTE="0"), "requests_per_minute", "group_info"),
    (dict(OPSWAT_REQUESTS_PER_MINUTE="ten"), "requests_per_minute", "device_info"),
    (dict(OPSWAT_VALIDATE_CERTS="maybe"), "validate_certs", "device_info"),
    (dict(OPSWAT_RATE_LIMIT_TIMEOUT="-5"), "rate_limit_timeout", "account_info"),
    (dict(OPSWAT_RATE_LIMIT_WINDOW="-1"), "rate_limit_window", "device_info"),
    (dict(OPSWAT_API_URL="gears.opswat.com"), "api_url", "device_action"),
    (dict(OPSWAT_CLIENT_ID="someone"), "client_secret", "device_action"),
    # rate_limit_store
    (dict(OPSWAT_RATE_LIMIT_STORE="Local"), "rate_limit_store", "group_info"),
]


@pytest.mark.parametrize("env, option, module", ENVIRONMENT_CASES,
                         ids=[case[1] + "-" + list(case[0].values())[0] for case in ENVIRONMENT_CASES])
def test_garbage_in_an_environment_variable_names_the_option(make_sim, monkeypatch, env, option, module):
    sim = make_sim()
    args = dict(api_url=sim.url)
    if "OPSWAT_CLIENT_ID" not in env:
        args.update(client_id=harness.CLIENT_ID, client_secret=harness.CLIENT_SECRET)
    if "OPSWAT_API_URL" in env:
        del args["api_url"]
    if module == "device_action":
        args.update(action="exempt", exempt_hours=24, device_ids=_ids(sim))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    run = harness.run_module(module, args)
    assert run.traceback is None, run.traceback
    assert run.exit_code == 1 and option in run.msg, run
    assert sim.request_log() == []


def test_an_unreadable_ca_path_fails_clearly_and_sends_nothing(make_sim, monkeypatch, tmp_path):
    sim = make_sim(tls=True)
    monkeypatch.setenv("OPSWAT_CA_PATH", str(tmp_path / "no-such-ca.pem"))
    run = harness.run_module("group_info", harness.connection(sim))
    assert run.exit_code == 1 and "TLS failure" in run.msg and "ca_path" in run.msg, run
    assert "the CA certificates could not be loaded" in run.msg
    assert sim.request_log() == []


# ---------------------------------------------------------------------------------------------- plain http


@pytest.mark.parametrize("module, options, option", [
    ("device_info", dict(page_size=0), "page_size"),
    ("device_action", dict(action="exempt", device_ids=["x"], exempt_hours=-1), "exempt_hours"),
])
def test_plain_http_to_another_host_is_a_warning_not_an_error(module, options, option):
    # The run stops on another bad option before any request, so nothing is ever sent to that host.
    args = dict(options, api_url=NOT_LOOPBACK, access_token=harness.STATIC_TOKEN)
    run = harness.run_module(module, args)
    assert run.exit_code == 1 and run.msg.startswith(option), "api_url was treated as an error: %s" % run.msg
    assert [text for text in run.warnings if CLEAR_TEXT in text and "opswat.example.com" in text], run.warnings


def test_plain_http_from_the_environment_warns_too(monkeypatch):
    monkeypatch.setenv("OPSWAT_API_URL", NOT_LOOPBACK + ":8080")
    monkeypatch.setenv("OPSWAT_ACCESS_TOKEN", harness.STATIC_TOKEN)
    run = harness.run_module("device_info", dict(max_devices=0))
    assert run.msg.startswith("max_devices") and [text for text in run.warnings if CLEAR_TEXT in text], run


@pytest.mark.parametrize("url, warns", [
    (NOT_LOOPBACK, True),
    ("http://10.1.2.3:8080", True),
    ("http://127.0.0.1:8080", False),
    ("http://localhost:8080", False),
    ("http://[::1]:8080", False),
    ("https://opswat.example.com", False),
])
def test_which_urls_warn_about_clear_text(url, warns):
    config = config_from_params(dict(api_url=url, access_token=harness.STATIC_TOKEN))
    assert any(CLEAR_TEXT in text for text in config.warnings) == warns, config.warnings
    assert not any(harness.STATIC_TOKEN in text for text in config.warnings)


def test_a_url_without_http_is_an_error_not_a_warning():
    with pytest.raises(InputError) as raised:
        config_from_params(dict(api_url="opswat.example.com", access_token=harness.STATIC_TOKEN))
    assert raised.value.option == "api_url"


# ---------------------------------------------------------------------------------------------- inventory plugin


def _source(sim, **options):
    config = dict(plugin="opswat.it_access.devices", **harness.connection(sim))
    config.update(options)
    return dict((key, value) for key, value in config.items() if value is not None)


# file name -> (options, texts the source's failure must hold)
INVENTORY_CASES = {
    "host-sources.opswat.yml": (dict(ansible_host_sources=["mac"]), ["ansible_host_sources", "mac"]),
    "rpm.opswat.yml": (dict(requests_per_minute=0), ["requests_per_minute", "at least 1"]),
    "timeout.opswat.yml": (dict(timeout="abc"), ["timeout", "abc"]),
    "ratelimit.opswat.yml": (dict(rate_limit_timeout=-3), ["rate_limit_timeout"]),
    "url.opswat.yml": (dict(api_url="ftp://gears.opswat.com"), ["api_url", "https://"]),
    "severity.opswat.yml": (dict(severity=["high"]), ["severity", "high"]),
    "device-type.opswat.yml": (dict(device_type=["workstation"]), ["device_type", "workstation"]),
    "max.opswat.yml": (dict(max_devices="lots"), ["max_devices", "lots"]),
    "page.opswat.yml": (dict(page_size=0), ["page_size", "between 1 and 50"]),
    "hostnames.opswat.yml": (dict(hostnames=[]), ["hostnames", "at least one"]),
    "groups.opswat.yml": (dict(group_name=["{{ no_such_variable }}"]), ["group_name", "could not be rendered"]),
    "token.opswat.yml": (dict(access_token="{{ no_such_secret }}", client_id=None, client_secret=None),
                         ["access_token", "details hidden"]),
    "refresh-zero.opswat.yml": (dict(full_refresh_interval=0), ["full_refresh_interval", "from 1 to 86400"]),
    "refresh-day.opswat.yml": (dict(full_refresh_interval=86401), ["full_refresh_interval", "from 1 to 86400"]),
    "refresh-bool.opswat.yml": (dict(full_refresh_interval=True), ["full_refresh_interval", "got True"]),
    "refresh-text.opswat.yml": (dict(full_refresh_interval="a day"), ["full_refresh_interval"]),
    "incremental.opswat.yml": (dict(incremental_refresh="maybe"), ["incremental_refresh", "maybe"]),
}


def test_bad_inventory_options_each_fail_their_source_before_any_request(make_sim, tmp_path):
    sim = make_sim()
    sources = dict((name, _source(sim, **options)) for name, (options, _texts) in INVENTORY_CASES.items())
    # Plain http to another host warns, and is not an error: this source fails only when the name does not resolve
    # (".invalid" never does, RFC 6761), so no request reaches any host.
    sources["zz-plain-http.opswat.yml"] = _source(sim, api_url="http://opswat.invalid", client_id=None,
                                                  client_secret=None, access_token=harness.STATIC_TOKEN)
    # Every source fails: the run goes on to the next one (each failure is a warning) and ends with no host.
    run, data = harness.run_inventory(sim, tmp_path, sources, env=dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="0"))
    assert "Traceback" not in run.output
    for name, (_options, texts) in INVENTORY_CASES.items():
        failure = harness.inventory_failure(run.output, name)
        for text in texts:
            assert text in failure, (name, text, failure or run.output[-3000:])
    assert "could not connect to opswat.invalid" in harness.inventory_failure(run.output, "zz-plain-http.opswat.yml")
    assert "plain http:// to opswat.invalid: %s" % CLEAR_TEXT in " ".join(run.output.split())
    assert data is not None and data["_meta"]["hostvars"] == {}
    assert sim.request_log() == [], "a bad inventory option let a request through"


@pytest.mark.parametrize("env, option", [
    (dict(OPSWAT_TIMEOUT="abc"), "timeout"),
    (dict(OPSWAT_REQUESTS_PER_MINUTE="0"), "requests_per_minute"),
    (dict(OPSWAT_RATE_LIMIT_TIMEOUT="-3"), "rate_limit_timeout"),
    (dict(OPSWAT_RATE_LIMIT_WINDOW="0"), "rate_limit_window"),
])
def test_garbage_in_the_inventory_environment_names_the_option(make_sim, tmp_path, env, option):
    sim = make_sim()
    source = dict(plugin="opswat.it_access.devices", api_url=sim.url, client_id=harness.CLIENT_ID,
                  client_secret=harness.CLIENT_SECRET)
    if option != "requests_per_minute":
        source["requests_per_minute"] = harness.REQUESTS_PER_MINUTE
    run, data = harness.run_inventory(sim, tmp_path, {"env.opswat.yml": source}, env=env, verbosity=1)
    assert run.returncode != 0 and data is None
    assert option in run.output and "Traceback" not in run.output
    assert sim.request_log() == []


@pytest.mark.parametrize("where", ["file", "environment"])
def test_garbage_validate_certs_in_the_inventory_is_an_error_not_false(make_sim, tmp_path, where):
    sim = make_sim(tls=True)  # a certificate no system store trusts: only an unverified run can list
    source = _source(sim, requests_per_minute=harness.REQUESTS_PER_MINUTE, max_devices=3)
    env = {}
    if where == "file":
        source["validate_certs"] = "maybe"
    else:
        env["OPSWAT_VALIDATE_CERTS"] = "maybe"
    run, data = harness.run_inventory(sim, tmp_path, {"validate.opswat.yml": source}, env=env, verbosity=1)
    assert data is None, "validate_certs: maybe was read as false: the untrusted certificate was accepted"
    assert run.returncode != 0 and "validate_certs" in run.output
    assert sim.request_log() == []


# ---------------------------------------------------------------------------------------------- role


def _role(sim, tmp_path, role_vars, env=None):
    tasks = [{"name": "Include the role", "ansible.builtin.include_role": {"name": "opswat.it_access.remediation"},
              "vars": role_vars}]
    connection_env = dict(OPSWAT_API_URL=sim.url, OPSWAT_CLIENT_ID=harness.CLIENT_ID,
                          OPSWAT_CLIENT_SECRET=harness.CLIENT_SECRET,
                          OPSWAT_REQUESTS_PER_MINUTE=str(harness.REQUESTS_PER_MINUTE),
                          OPSWAT_RATE_LIMIT_WINDOW=str(harness.WINDOW))
    connection_env.update(env or {})
    run, _results = harness.run_playbook(sim, tmp_path, tasks, env=connection_env, verbosity=1)
    return run


EXEMPT = dict(name="Exempt servers", match=dict(device_type=["server"]), action="exempt", exempt_hours=8)


def test_role_arguments_that_break_the_argument_spec_fail_before_any_request(make_sim, tmp_path):
    sim = make_sim()
    rules = [dict(EXEMPT, exempt_hours="many"),
             dict(name="Scan", match=dict(os_type=["windows"]), action="scan_threats", scan_types=["registry"]),
             dict(EXEMPT, name="With a priority", priority=1),
             dict((key, value) for key, value in EXEMPT.items() if key != "name")]
    # The role's own options are the argument spec's; the rules are the role's own check, each with its rule.
    run = _role(sim, tmp_path, dict(remediation_rules=[EXEMPT], remediation_allow_partial="maybe"))
    assert run.returncode == 2 and "remediation_allow_partial" in run.output
    run = _role(sim, tmp_path, dict(remediation_rules=rules))
    assert run.returncode == 2
    text = " ".join(run.output.split())
    for expected in ("remediation_rules[0] (Exempt servers): exempt_hours: must be a whole number",
                     "remediation_rules[1] (Scan): scan_types: unknown value(s) registry",
                     "remediation_rules[2] (With a priority): unknown option(s) priority",
                     "remediation_rules[3]: name: is required"):
        assert expected in text, expected
    assert sim.request_log() == []


def test_every_problem_of_the_rules_is_named_before_any_request(make_sim, tmp_path):
    sim = make_sim()
    rules = [
        dict(EXEMPT, match=dict(not_seen_days=0)),
        dict(EXEMPT, name="Empty group list", match=dict(group_name=[])),
        dict(name="Blank group", match=dict(device_type=["laptop"]), action="assign_to_group", group_name="  "),
        dict(name="Path without specific_path", match=dict(os_type=["windows"]), action="scan_threats",
             scan_types=["memory"], scan_path="/tmp"),
        dict(name="Hours on a scan", match=dict(os_type=["windows"]), action="scan_threats", full_scan=True, exempt_hours=3),
    ]
    run = _role(sim, tmp_path, dict(remediation_rules=rules))
    assert run.returncode == 2
    text = " ".join(run.output.split())
    for expected in ("remediation_rules[0] (Exempt servers): match.not_seen_days",
                     "remediation_rules[1] (Empty group list): match.group_name",
                     "remediation_rules[2] (Blank group): group_name",
                     "remediation_rules[3] (Path without specific_path): scan_path",
                     "remediation_rules[4] (Hours on a scan): exempt_hours"):
        assert expected in text, expected
    assert sim.request_log() == []


def test_a_bad_reference_time_fails_before_any_write(make_sim, tmp_path):
    sim = make_sim()
    run = _role(sim, tmp_path, dict(remediation_rules=[EXEMPT], remediation_reference_time="yesterday"))
    assert run.returncode == 2 and "remediation_reference_time" in run.output and "yesterday" in run.output
    assert sim.request_log() == [], "the reference time is checked with the rules, before any request"


@pytest.mark.parametrize("value", [86401, True, "an hour"])
def test_a_bad_changed_within_fails_before_any_request(make_sim, tmp_path, value):
    sim = make_sim()
    run = _role(sim, tmp_path, dict(remediation_rules=[EXEMPT], remediation_changed_within=value))
    assert run.returncode == 2
    assert "remediation_changed_within: must be an integer number of seconds from 1 to 86400" in " ".join(run.output.split())
    assert sim.request_log() == []


def test_changed_within_with_a_not_seen_days_rule_fails_before_any_request(make_sim, tmp_path):
    sim = make_sim()
    stale = dict(EXEMPT, name="Stale servers", match=dict(device_type=["server"], not_seen_days=30))
    run = _role(sim, tmp_path, dict(remediation_rules=[EXEMPT, stale], remediation_changed_within=600))
    assert run.returncode == 2
    text = " ".join(run.output.split())
    assert ("remediation_rules[1] (Stale servers): match.not_seen_days cannot be combined with"
            " remediation_changed_within (600 s)") in text
    assert sim.request_log() == []
