# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import tempfile

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import pacing
from ansible_collections.opswat.it_access.plugins.module_utils.connection import ConnectionConfig
from ansible_collections.opswat.it_access.plugins.module_utils.pacing import Pacer, SharedPacer, default_pacer, pace_key
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import FakeClock


@pytest.fixture(autouse=True)
def private_tempdir(monkeypatch, tmp_path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_in_process_pacer_spaces_requests_from_their_start():
    clock = FakeClock()
    pacer = Pacer(6.0, clock=clock, sleep=clock.sleep)
    assert pacer.wait_turn() == 0.0  # the first request is not delayed
    clock.now += 2.5  # the request itself took 2.5 s: the gap counts from its start
    assert pacer.wait_turn() == pytest.approx(3.5)
    clock.now += 10
    assert pacer.wait_turn() == 0.0
    assert clock.sleeps == [pytest.approx(3.5)]


def test_shared_pacer_spaces_two_instances(tmp_path):
    clock = FakeClock()
    first = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    second = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert first.wait_turn() == 0.0
    assert second.wait_turn() == 5.0
    assert first.wait_turn() == 5.0
    other_account = SharedPacer(5.0, "other", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert other_account.wait_turn() == 0.0
    assert first.shared and second.shared


def test_reservations_queue_up_without_holding_the_lock():
    """Three processes asking at the same instant get three slots, one interval apart."""
    clock = FakeClock()
    slots = []
    for _attempt in range(3):
        pacer = SharedPacer(4.0, "k", clock=clock, sleep=slots.append)
        pacer.wait_turn()
    assert slots == [4.0, 8.0]


@pytest.mark.parametrize("content", [b"garbage", b"nan", b"", b"\xff\xfe"])
def test_unreadable_state_is_ignored(tmp_path, content):
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    with open(pacer.path, "wb") as handle:
        handle.write(content)
    assert pacer.wait_turn() == 0.0
    with open(pacer.path, encoding="ascii") as handle:
        assert float(handle.read()) == clock.now


def test_a_reservation_far_in_the_future_is_not_believed(tmp_path):
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    with open(pacer.path, "w", encoding="ascii") as handle:
        handle.write(repr(clock.now + 10 * 3600))  # the wall clock was set back
    assert pacer.wait_turn() == 0.0


def test_falls_back_to_in_process_pacing_when_the_file_is_unusable(tmp_path):
    clock = FakeClock()
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    messages = []
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(blocker), on_fallback=messages.append)
    assert pacer.wait_turn() == 0.0
    assert not pacer.shared
    assert len(messages) == 1 and "this process" in messages[0]
    assert pacer.wait_turn() == 5.0  # still paced, within the process


def test_falls_back_when_the_directory_belongs_to_another_user(monkeypatch, tmp_path):
    clock = FakeClock()
    messages = []
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path), on_fallback=messages.append)
    monkeypatch.setattr(os, "getuid", lambda: os.lstat(str(tmp_path)).st_uid + 1)
    assert pacer.wait_turn() == 0.0
    assert not pacer.shared and messages
    assert not os.path.exists(pacer.path)


def test_falls_back_without_fcntl(monkeypatch, tmp_path):
    monkeypatch.setattr(pacing, "fcntl", None)
    clock = FakeClock()
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, directory=str(tmp_path))
    assert not pacer.shared
    assert pacer.wait_turn() == 0.0
    assert pacer.wait_turn() == 5.0
    assert not os.path.exists(pacer.path)


def test_pace_key_never_holds_the_secret():
    token_key = pace_key("https://a.test", access_token="the-token")
    assert "the-token" not in token_key
    assert token_key == pace_key("https://a.test", access_token="the-token")
    assert token_key != pace_key("https://b.test", access_token="the-token")
    assert token_key != pace_key("https://a.test", access_token="another-token")
    assert pace_key("https://a.test", client_id="id", access_token="x") == pace_key("https://a.test", client_id="id")


def test_default_pacer_lives_under_the_temp_directory(tmp_path):
    config = ConnectionConfig(api_url="https://a.test", access_token="the-token", requests_per_minute=12)
    pacer = default_pacer(config)
    assert pacer.min_interval == pytest.approx(5.05)  # 60 / 12, plus the 1% margin
    assert os.path.dirname(pacer.path) == os.path.join(str(tmp_path), "opswat_it_access")
    assert "the-token" not in pacer.path


# Run in a fresh interpreter that loads pacing.py by its path: no fork of the test process (which may have
# threads), and no need for the collection loader in the child.
CHILD_SCRIPT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("pacing_under_test", sys.argv[1])
pacing = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pacing)
pacer = pacing.SharedPacer(float(sys.argv[3]), "cross-process", directory=sys.argv[2])
for _attempt in range(3):
    pacer.wait_turn()
    # The reserved start, not time.time() after the sleep: a busy machine must not make the test flaky.
    print(repr(pacer._last_start), flush=True)
"""


@pytest.mark.skipif(pacing.fcntl is None, reason="needs fcntl")
def test_two_real_processes_share_the_pace(tmp_path):
    interval = 0.15
    command = [sys.executable, "-c", CHILD_SCRIPT, pacing.__file__, str(tmp_path), str(interval)]
    # Both must run at once, so no `with` around each; communicate() below reaps them.
    children = [subprocess.Popen(command, stdout=subprocess.PIPE, universal_newlines=True)  # pylint: disable=consider-using-with
                for _attempt in range(2)]
    starts = []
    for child in children:
        output, _errors = child.communicate(timeout=60)
        assert child.returncode == 0
        starts.extend(float(line) for line in output.split())
    starts.sort()
    assert len(starts) == 6
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert min(gaps) >= interval - 1e-6, gaps
