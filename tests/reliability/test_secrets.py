# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Secrets: the client secret, the access tokens (given and fetched) and the license key appear nowhere.

Searched: every byte of ansible-playbook and ansible-inventory output at -vvvv, every returned value, every error
message and result key, the simulator's request log (memory and file) and the pacing state files. The error paths
are the point: a 401 whose body echoes the token, a 5xx whose body quotes every secret, malformed and truncated
JSON, timeouts, TLS failures. tests/functional runs its whole suite at -vvvv with the same leak check.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import json
import os
import subprocess
import sys

import pytest

import reliability_harness as harness
from ansible_collections.opswat.it_access.plugins.module_utils.state import state_directory
from reliability_harness import CLIENT_ID, CLIENT_SECRET, STATIC_TOKEN, WRONG_SECRET, WRONG_TOKEN

MASK = "********"
CLEAR_TEXT = "api_url uses plain http:// to opswat.example.com: the access token would travel in clear text"


def _loud_body(sim, known=(STATIC_TOKEN,)):
    """An error body that quotes secrets, as a misbehaving proxy or API might.

    ``known`` are the secrets the task is configured with: those are masked wherever they appear. Any other
    credential is quoted only where it travels in a recognisable place (a query parameter, a JSON member, a Bearer
    header), the only places a client can recognise a secret it was never told about.
    """
    return {"error": "internal error", "echo": "you sent %s" % " and ".join(known),
            "request": "/o/api/v3/groups?access_token=%s&client_secret=%s" % (STATIC_TOKEN, CLIENT_SECRET),
            "authorization": "Bearer %s" % STATIC_TOKEN, "client_secret": CLIENT_SECRET,
            "account": {"name": "Account", "license_key": sim.license_key}}


def _fragments(secret, size=8):
    """Every ``size``-character piece of ``secret``: a truncated secret must not show even in part."""
    return set(secret[start:start + size] for start in range(0, len(secret) - size + 1))


# ---------------------------------------------------------------------------------------------- in process


STATIC = dict(access_token=STATIC_TOKEN, client_id=None, client_secret=None)


def _fault_500(sim):
    sim.add_fault("status", count=4, endpoint="groups", code=500, body=_loud_body(sim))


def _fault_500_credentials(sim):
    sim.add_fault("status", count=4, endpoint="groups", code=500, body=_loud_body(sim, known=(CLIENT_SECRET,)))


def _fault_html(sim):
    sim.add_fault("status", count=4, endpoint="groups", code=502,
                  body="<html><body>Bad gateway for %s (access_token=%s&client_secret=%s)</body></html>"
                  % (STATIC_TOKEN, STATIC_TOKEN, CLIENT_SECRET))


def _fault_expired_issued(sim):
    # Both the token in use and the one fetched to replace it are rejected: both 401 bodies echo an issued token.
    sim.add_fault("expire_token", count=2, endpoint="groups")


def _fault_malformed(sim):
    sim.add_fault("malformed", count=2, endpoint="account")


def _fault_slow(sim):
    sim.add_fault("slow", count=4, endpoint="groups", seconds=1.0)


def _fault_misshapen_cves(sim):
    # A 200 whose CVE record is unusable, quoting secrets: the unexpected-answer error shows a redacted excerpt.
    sim.add_fault("status", count=1, endpoint="cves", code=200,
                  body=dict(_loud_body(sim), cves=[{"cve_id": {"token": STATIC_TOKEN}}]))


IN_PROCESS_CASES = [
    # name, module, connection overrides, fault, texts the message must hold
    ("401_echoes_a_wrong_token", "group_info", dict(access_token=WRONG_TOKEN, client_id=None, client_secret=None), None,
     ["HTTP 401"]),
    ("401_echoes_the_expired_token", "group_info", STATIC, lambda sim: sim.expire_tokens(), ["HTTP 401"]),
    ("401_echoes_fetched_tokens", "group_info", {}, _fault_expired_issued, ["a freshly fetched token was rejected too"]),
    ("token_401_wrong_secret", "account_info", dict(client_secret=WRONG_SECRET), None, ["client credentials were rejected"]),
    ("500_quotes_every_secret", "group_info", STATIC, _fault_500, ["HTTP 500", MASK]),
    ("500_quotes_every_secret_credentials", "group_info", {}, _fault_500_credentials, ["HTTP 500", MASK]),
    ("502_html_quotes_secrets", "group_info", STATIC, _fault_html, ["HTTP 502", MASK]),
    ("malformed_account_answer", "account_info", {}, _fault_malformed, ["not valid JSON"]),
    ("timeouts", "group_info", dict(timeout=0.3), _fault_slow, ["(timeout)"]),
    ("misshapen_cves_quote_secrets", "vulnerability_info", STATIC, _fault_misshapen_cves,
     ["cves[0].cve_id is a JSON object", MASK]),
]


@pytest.mark.parametrize("name, module, overrides, fault, texts", IN_PROCESS_CASES, ids=[case[0] for case in IN_PROCESS_CASES])
def test_no_secret_in_any_error_of_a_module(make_sim, fast, name, module, overrides, fault, texts):  # pylint: disable=unused-argument
    sim = make_sim()
    if fault is not None:
        fault(sim)
    run = harness.run_module(module, harness.connection(sim, **overrides))
    assert run.traceback is None, run.traceback
    assert run.failed, run
    for text in texts:
        assert text in json.dumps(run.result), (text, run.result)
    assert not harness.leaks(run.stdout, sim), "a secret leaked into the failed result"
    if name == "malformed_account_answer":
        # The cut answer held the license key: it is masked, and the body excerpt is still there to debug with.
        assert '"license_key": "%s"' % MASK in run.result["body"]


# Event logs: an entry (a webhook's delivery, say) that quotes a URL with a key, the token or the client secret.


@pytest.mark.parametrize("overrides, known", [(STATIC, STATIC_TOKEN), ({}, CLIENT_SECRET)],
                         ids=["access_token", "client_credentials"])
def test_a_log_entry_quoting_secrets_is_returned_masked(make_sim, fast, overrides, known):  # pylint: disable=unused-argument
    sim = make_sim()
    quoted = "POST https://hooks.example.test/in?access_token=%s&client_secret=%s failed; Bearer %s" % (
        STATIC_TOKEN, CLIENT_SECRET, STATIC_TOKEN)
    entry = {"timestamp": int(sim.fleet.now() * 1000), "event": "failed", "details": quoted,
             "request": {"headers": ["Authorization: Bearer %s" % STATIC_TOKEN], "body": _loud_body(sim, known=(known,))}}
    sim.add_fault("status", count=1, endpoint="logs", code=200, body={"logs": [entry]})
    run = harness.run_module("log_info", dict(harness.connection(sim, **overrides), category="webhook"))
    assert run.traceback is None and not run.failed, run
    found, = run.result["entries"]
    assert found["event"] == "failed" and MASK in found["details"]
    assert not harness.leaks(run.stdout, sim), "a secret quoted by a log entry reached the result"


def test_a_truncated_license_key_is_not_shown_even_in_part(make_sim, fast):  # pylint: disable=unused-argument
    """A proxy that cuts the answer inside the license key: the body excerpt must not show its first characters."""
    sim = make_sim()
    body = '{"name": "Account", "license_key": "%s' % sim.license_key[:24]
    sim.add_fault("malformed", count=2, endpoint="account", body=body)
    run = harness.run_module("account_info", harness.connection(sim))
    assert run.failed and "not valid JSON" in run.msg, run
    shown = [piece for piece in _fragments(sim.license_key[:24]) if piece in run.stdout]
    assert not shown, "part of the license key is shown: %s" % run.result.get("body")


def test_a_truncated_token_answer_is_not_shown_even_in_part(make_sim, fast):  # pylint: disable=unused-argument
    """A token answer cut inside the token: the part that arrived is a credential and must be masked."""
    sim = make_sim()
    partial = "eyJhbGciOiJSUzI1NiJ9.truncated-9c1d7e"
    sim.add_fault("malformed", count=2, endpoint="token", body='{"access_token": "%s' % partial)
    run = harness.run_module("group_info", harness.connection(sim))
    assert run.failed and "not valid JSON" in run.msg, run
    assert partial not in run.stdout and not [piece for piece in _fragments(partial) if piece in run.stdout], run.result


def test_the_license_key_is_returned_only_when_asked(make_sim, fast):  # pylint: disable=unused-argument
    sim = make_sim()
    plain = harness.run_module("account_info", harness.connection(sim))
    assert not plain.failed and sim.license_key not in plain.stdout
    asked = harness.run_module("account_info", dict(harness.connection(sim), include_license_key=True))
    assert asked.result["account"]["license_key"] == sim.license_key
    others = dict((key, value) for key, value in asked.result.items() if key != "account")
    others["account"] = dict((key, value) for key, value in asked.result["account"].items() if key != "license_key")
    assert sim.license_key not in json.dumps(others), "the license key appears outside account.license_key"


def test_tls_failures_and_refused_connections_carry_no_secret(make_sim, fast):  # pylint: disable=unused-argument
    sim = make_sim(tls=True)
    untrusted = harness.run_module("device_info", harness.connection(sim, **STATIC))
    assert untrusted.failed and "TLS failure" in untrusted.msg
    url = sim.url
    sim.stop()
    refused = harness.run_module("device_info", harness.connection(sim, url=url))
    assert refused.failed and "could not connect" in refused.msg
    for run in (untrusted, refused):
        assert not harness.leaks(run.stdout, sim)


# ---------------------------------------------------------------------------------------------- playbooks at -vvvv


def _task(task_id, module, ignore_errors=True, **options):
    task = {"id": task_id, "opswat.it_access.opswat_" + module: options}
    if ignore_errors:
        task["ignore_errors"] = True  # the test reads each failure from the registered result
    return task


def _queue_playbook_faults(sim):
    """Each failing task's fault, on an endpoint only that task reaches."""
    sim.add_fault("expire_token", count=1, endpoint="devices", after=1)      # mid-listing, then refreshed
    # A 400 is final at once (no retry), so the loud body reaches the user without the back-off of a 5xx.
    sim.add_fault("status", count=1, endpoint="groups", code=400, body=_loud_body(sim, known=(CLIENT_SECRET,)))
    sim.add_fault("status", count=1, endpoint="action", code=500,
                  body="<html>upstream said access_token=%s client_secret=%s</html>" % (STATIC_TOKEN, CLIENT_SECRET))


def _playbook_tasks(sim):
    ids = harness.exemptable(sim, 3)
    return [
        {"name": "The license key, asked for and never shown", "register": "with_key", "no_log": True,
         "opswat.it_access.opswat_account_info": {"include_license_key": True}},
        {"id": "key_matches", "ansible.builtin.set_fact": {
            "key_matches": "{{ with_key.account.license_key | hash('sha256') == lookup('env', 'EXPECTED_KEY_HASH') }}"}},
        _task("listing", "device_info", ignore_errors=False),
        _task("groups_400", "group_info"),
        _task("exempt_500", "device_action", action="exempt", device_ids=ids, exempt_hours=2),
        _task("wrong_token", "device_info", device_ids=ids, access_token=WRONG_TOKEN, client_id="", client_secret=""),
        _task("plain_http", "device_info", api_url="http://opswat.example.com", page_size=0),
    ]


def test_a_suite_of_playbook_error_paths_at_vvvv_leaks_nothing(make_sim, tmp_path):
    log_path = tmp_path / "simulator.log"
    sim = make_sim(log_path=str(log_path))
    _queue_playbook_faults(sim)
    env = dict(EXPECTED_KEY_HASH=_sha256(sim.license_key))
    run, results = harness.run_playbook(sim, tmp_path, _playbook_tasks(sim), module_defaults=harness.connection(sim),
                                        env=env)
    assert run.returncode == 0, run.output[-6000:]
    assert sim.pending_faults() == [], "a fault was never reached: %s" % sim.pending_faults()

    # Every error path was taken, and says why.
    assert results["key_matches"]["ansible_facts"]["key_matches"] is True
    assert results["listing"]["count"] == harness.FLEET_SIZE
    expected = dict(groups_400="HTTP 400", exempt_500="HTTP 500", wrong_token="HTTP 401", plain_http="page_size")
    for task_id, text in expected.items():
        assert results[task_id]["failed"] and text in results[task_id]["msg"], (task_id, results[task_id])
    assert MASK in results["groups_400"]["body"] and MASK in results["exempt_500"]["msg"]
    assert CLEAR_TEXT in " ".join(run.output.split())

    # The simulator's log, in memory and on disk, and the pacing files hold no secret either.
    assert not harness.leaks(json.dumps(sim.request_log()), sim)
    assert not harness.leaks(log_path.read_text(), sim)
    _assert_pace_files_clean(sim)


def _sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _assert_pace_files_clean(sim):
    directory = state_directory()
    for name in os.listdir(directory):
        assert not harness.leaks(name, sim)
        with open(os.path.join(directory, name), "rb") as handle:
            assert not harness.leaks(handle.read().decode("utf-8", "replace"), sim)


def test_ansible_debug_shows_configured_secrets_only_in_ansible_cores_own_argument_dump(make_sim, tmp_path):
    """ANSIBLE_DEBUG=1 is documented by ansible-core as unsafe: it dumps module arguments as given. What this
    collection writes must still be clean: fetched tokens and the license key nowhere, configured secrets only on
    ansible-core's own argument-dump lines."""
    sim = make_sim()
    sim.add_fault("status", count=1, endpoint="groups", code=400, body=_loud_body(sim, known=(CLIENT_SECRET,)))
    tasks = [_task("listing", "device_info", ignore_errors=False, max_devices=5),
             _task("groups_400", "group_info", access_token=WRONG_TOKEN)]
    play = [dict(name="debug", hosts="localhost", gather_facts=False, tasks=[dict(task) for task in tasks],
                 module_defaults={"group/opswat.it_access.it_access": harness.connection(sim)})]
    for task in play[0]["tasks"]:
        task["register"] = task.pop("id")
    playbook = tmp_path / "debug.yml"
    playbook.write_text(json.dumps(play))
    command = [os.path.join(harness.BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook), "-vvvv"]
    completed = subprocess.run(command, env=harness.cli_environment(tmp_path, dict(ANSIBLE_DEBUG="1")), cwd=str(tmp_path),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, timeout=300,
                               check=False)
    output = completed.stdout
    assert completed.returncode == 0, output[-4000:]
    assert "HTTP 400" in output
    fetched = list(sim.issued_tokens())
    fetched.remove(STATIC_TOKEN)
    assert fetched and not [token for token in fetched + [sim.license_key] if token in output]
    for line in output.splitlines():
        for secret in (CLIENT_SECRET, STATIC_TOKEN, WRONG_TOKEN):
            if secret in line:
                assert "_execute_module (" in line, "a secret outside ansible-core's argument dump: %s" % line[:300]


# ---------------------------------------------------------------------------------------------- inventory at -vvvv


def test_inventory_error_paths_at_vvvv_leak_nothing(make_sim, tmp_path):
    sim = make_sim()
    base = dict(plugin="opswat.it_access.devices", api_url=sim.url, requests_per_minute=harness.REQUESTS_PER_MINUTE,
                rate_limit_window=harness.WINDOW, timeout=harness.TIMEOUT)
    credentials = dict(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    # Sources are parsed in order; each failing one meets the next fault queued on the listing.
    sim.add_fault("expire_token", count=1, endpoint="devices")
    sim.add_fault("status", count=1, endpoint="devices", code=400, body=_loud_body(sim, known=(CLIENT_SECRET,)))
    sim.add_fault("malformed", count=2, endpoint="devices")
    sources = {
        "a-expired.opswat.yml": dict(base, access_token=STATIC_TOKEN),
        "b-400.opswat.yml": dict(base, **credentials),
        "c-malformed.opswat.yml": dict(base, **credentials),
        "d-wrong-token.opswat.yml": dict(base, access_token=WRONG_TOKEN),
        "e-wrong-secret.opswat.yml": dict(base, client_id=CLIENT_ID, client_secret=WRONG_SECRET),
        "f-template.opswat.yml": dict(base, access_token="{{ vault_token_that_is_undefined }}"),
        "g-good.opswat.yml": dict(base, max_devices=7, **credentials),
    }
    run, data = harness.run_inventory(sim, tmp_path, sources, env=dict(ANSIBLE_INVENTORY_UNPARSED_FAILED="0"))
    assert sim.pending_faults() == []
    text = " ".join(run.output.split())
    for expected in ("the access token was rejected", "HTTP 400", "not valid JSON", "client credentials were rejected",
                     "access_token: the template could not be rendered", "details hidden"):
        assert expected in text, expected
    assert len(data["_meta"]["hostvars"]) == 7
    assert "Traceback" not in run.output
    assert not harness.leaks(json.dumps(sim.request_log()), sim)


# ---------------------------------------------------------------------------------------------- reports

@pytest.mark.parametrize("connection", [STATIC, {}], ids=["access_token", "client_credentials"])
def test_reports_that_echo_the_url_leak_no_token_in_results_files_or_errors(make_sim, fast, tmp_path, connection):  # pylint: disable=unused-argument
    """Scan results that echo the request's URL (access token included), waited on and fetched with opswat_report
    into a file, and a Get Reports error whose body quotes every secret."""
    sim = make_sim(report_echo_url=True)
    ids = [device["device_id"] for device in sim.fleet.devices if sim.fleet.applies("scan_threats", device, (3, 3))][:2]
    scan = harness.run_module("device_action", dict(harness.connection(sim, **connection), action="scan_threats",
                                                    full_scan=True, device_ids=ids, wait=True))
    assert scan.traceback is None and not scan.failed, scan
    assert all(MASK in entry["report"]["report_url"] for entry in scan.result["devices"])
    dest = str(tmp_path / "scan.json")
    saved = harness.run_module("report", dict(harness.connection(sim, **connection), type="scan_threats_log",
                                              command_id=scan.result["devices"][0]["command_id"], dest=dest))
    assert saved.traceback is None and not saved.failed, saved
    with open(dest) as handle:
        written = handle.read()
    assert "access_token=" in written and not harness.leaks(written, sim), "a token was written to the report file"
    # The body quotes bare only what the task was configured with (see _loud_body).
    known = (STATIC_TOKEN,) if connection else (CLIENT_SECRET,)
    sim.add_fault("status", count=4, endpoint="reports", code=500, body=_loud_body(sim, known=known))
    failed = harness.run_module("report", dict(harness.connection(sim, **connection), type="os_patch_summary"))
    assert failed.failed and "HTTP 500" in failed.msg
    for run in (scan, saved, failed):
        assert not harness.leaks(run.stdout, sim), "a secret leaked into a result"
