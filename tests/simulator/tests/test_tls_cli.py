# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS with a throw-away CA (both certificate backends), and the command line."""

import json
import os
import signal
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
import requests

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _account_status(url, context):
    try:
        with urllib.request.urlopen(url + "/o/api/v3/account", context=context, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _check_tls(sim):
    assert sim.url.startswith("https://") and os.path.exists(sim.ca_path)
    # The system store does not know the simulator's CA...
    with pytest.raises(urllib.error.URLError) as caught:
        _account_status(sim.url, ssl.create_default_context())
    assert isinstance(caught.value.reason, ssl.SSLCertVerificationError)
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(sim.url + "/o/api/v3/account", timeout=5)
    # ...and the CA file validates it, by address and by name.
    assert _account_status(sim.url, ssl.create_default_context(cafile=sim.ca_path)) == 401
    assert requests.get(sim.url.replace("127.0.0.1", "localhost") + "/o/api/v3/account", verify=sim.ca_path, timeout=5).status_code == 401
    token = requests.post(sim.url + "/o/oauth/token", verify=sim.ca_path, timeout=5,
                          data={"grant_type": "client_credentials", "client_id": "sim-client", "client_secret": "sim-secret"})
    assert token.status_code == 200


def test_tls_with_cryptography(make_sim):
    pytest.importorskip("cryptography")
    sim = make_sim(tls=True, devices=5)
    _check_tls(sim)
    ca_path = sim.ca_path
    sim.stop()
    assert not os.path.exists(ca_path)


def test_tls_with_openssl_cli(make_sim, monkeypatch):
    # Hide the package: the certificates must then come from the openssl command.
    monkeypatch.setitem(sys.modules, "cryptography", None)
    _check_tls(make_sim(tls=True, devices=5))


def _start_cli(*args):
    env = dict(os.environ, PYTHONPATH=SIM_ROOT)
    process = subprocess.Popen([sys.executable, "-m", "itaccess_sim", "--port", "0", "--devices", "20"] + list(args),  # pylint: disable=consider-using-with
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = process.stdout.readline()
    assert line.startswith("itaccess-sim listening on "), line + process.stderr.read()
    return process, line.split()[-1]


def _stop_cli(process):
    process.send_signal(signal.SIGTERM)
    try:
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stdout.close()
        process.stderr.close()


def test_cli_serves_and_stops_on_sigterm(tmp_path):
    log = tmp_path / "log.jsonl"
    process, url = _start_cli("--rate-limit", "5", "--window", "30", "--retry-after", "--log", str(log), "--access-token", "cli-token",
                              "--end-signal", "null")
    try:
        response = requests.post(url + "/o/api/v3.7/devices", params={"access_token": "cli-token"}, json={"limit": 50}, timeout=5)
        assert response.status_code == 200 and response.json()["next_token"] is None
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert requests.post(url + "/_sim/faults", json={"kind": "status", "code": 503}, timeout=5).status_code == 200
        assert requests.post(url + "/o/api/v3/groups", params={"access_token": "cli-token"}, json={}, timeout=5).status_code == 503
        assert requests.post(url + "/_sim/expire_tokens", timeout=5).status_code == 200
        assert requests.get(url + "/o/api/v3/account", params={"access_token": "cli-token"}, timeout=5).status_code == 401
        assert len(requests.get(url + "/_sim/log", timeout=5).json()) == 3
        assert requests.post(url + "/_sim/advance_clock", json={"seconds": 3600}, timeout=5).status_code == 200
    finally:
        _stop_cli(process)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [entry["status"] for entry in entries] == [200, 503, 401]
    assert "cli-token" not in log.read_text(encoding="utf-8")


def test_cli_tls_prints_the_ca():
    process, url = _start_cli("--tls")
    try:
        line = process.stdout.readline()
        assert line.startswith("itaccess-sim CA certificate: ")
        ca_path = line.split(": ", 1)[1].strip()
        assert url.startswith("https://")
        assert requests.get(url + "/o/api/v3/account", verify=ca_path, timeout=5).status_code == 401
    finally:
        _stop_cli(process)


def test_cli_rejects_bad_options():
    env = dict(os.environ, PYTHONPATH=SIM_ROOT)
    result = subprocess.run([sys.executable, "-m", "itaccess_sim", "--end-signal", "eof"], capture_output=True, text=True, env=env,
                            timeout=30, check=False)
    assert result.returncode == 2 and "end-signal" in result.stderr
    result = subprocess.run([sys.executable, "-m", "itaccess_sim", "--help"], capture_output=True, text=True, env=env, timeout=30,
                            check=False)
    assert result.returncode == 0 and "--rate-limit-scope" in result.stdout
