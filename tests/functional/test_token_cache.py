# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""token_cache: the tasks of a play spend one request on their token, and the file that carries it between them
holds no secret."""

from __future__ import absolute_import, division, print_function

import os
import stat

from conftest import connection_vars, leaked_secrets, requests_by_endpoint

from ansible_collections.opswat.it_access.plugins.module_utils.state import state_directory

TASKS = [
    dict(id="first", module="opswat.it_access.opswat_account_info"),
    dict(id="second", module="opswat.it_access.opswat_group_info"),
    dict(id="third", module="opswat.it_access.opswat_device_info", args=dict(max_devices=5)),
]


def token_files():
    directory = state_directory()
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory)) if name.startswith("token-")]


def test_the_tasks_of_a_play_share_one_token_and_its_file_holds_no_secret(simulator, run_play):
    result = run_play(_tasks(TASKS))
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["token", "account", "groups", "devices"]
    # Each task counts what it sent: only the first fetched a token.
    assert [result[task["id"]]["api_requests"]["requests"] for task in TASKS] == [2, 1, 1]

    files = token_files()
    assert len(files) == 1
    assert stat.S_IMODE(os.stat(files[0]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_directory()).st_mode) == 0o700
    with open(files[0], "rb") as handle:
        content = handle.read().decode("latin-1")  # binary (AES-GCM): every byte read as one character
    assert simulator.issued_tokens() and not leaked_secrets(content + files[0], simulator)


def test_token_cache_false_fetches_a_token_in_every_task_and_writes_none(simulator, run_play):
    run_play(_tasks(TASKS), connection=connection_vars(simulator, token_cache=False))
    assert [entry["endpoint"] for entry in simulator.request_log()] == [
        "token", "account", "token", "groups", "token", "devices"]
    assert token_files() == []


def test_a_cached_token_the_service_rejects_costs_one_request_then_is_replaced(simulator, run_module):
    run_module("account_info")  # fetches a token and caches it
    simulator.clear_log()
    simulator.add_fault("expire_token", count=1, endpoint="account")  # revoked while it sits in the cache

    second = run_module("account_info")
    assert [(entry["endpoint"], entry["status"]) for entry in simulator.request_log()] == [
        ("account", 401), ("token", 200), ("account", 200)]
    assert second["api_requests"] == dict(requests=3, throttled=0, retries=1, waited_seconds=0.0)

    simulator.clear_log()
    run_module("account_info")  # the replacement was cached in its turn
    assert [entry["endpoint"] for entry in simulator.request_log()] == ["account"]


def test_tasks_with_another_secret_never_get_this_token(simulator, run_module):
    run_module("account_info")
    simulator.clear_log()
    other = run_module("account_info", connection=connection_vars(simulator, client_secret="not-the-secret"))
    assert other.failed and "client credentials were rejected" in other.msg
    assert [(entry["endpoint"], entry["status"]) for entry in requests_by_endpoint(simulator)] == [("token", 401)]


def _tasks(tasks):
    return [dict(id=task["id"], **{task["module"]: dict(task.get("args") or {})}) for task in tasks]
