# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The user's private state directory and its files."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils import state
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import SharedPacer
from ansible_collections.opswat.it_access.plugins.module_utils.state import (
    describe_os_error, private_directory, read_private_file, replace_private_file, state_directory,
    update_locked_file)
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import FakeClock


def test_the_state_directory_is_the_users_own_so_another_users_directory_does_not_switch_it_off(tmp_path):
    # A directory of the name earlier versions shared by every user, made by another user first.
    squatted = tmp_path / "opswat_it_access"
    squatted.mkdir(mode=0o755)
    if os.getuid() == 0:
        os.chown(str(squatted), 4242, 4242)
    assert state_directory() == os.path.join(str(tmp_path), "opswat_it_access-%d" % os.getuid())
    clock = FakeClock()
    messages = []
    pacer = SharedPacer(5.0, "k", clock=clock, sleep=clock.sleep, on_fallback=messages.append)
    pacer.wait_turn()
    assert pacer.shared and messages == []
    assert os.path.dirname(pacer.path) == state_directory()


def test_a_private_directory_is_made_0700_and_another_users_is_refused(tmp_path, monkeypatch):
    directory = str(tmp_path / "state")
    private_directory(directory)
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    monkeypatch.setattr(os, "getuid", lambda: os.lstat(directory).st_uid + 1)
    with pytest.raises(OSError, match="belongs to another user"):
        private_directory(directory)


def test_a_locked_file_is_read_and_rewritten_whole_mode_0600(tmp_path):
    path = str(tmp_path / "state" / "file")
    assert update_locked_file(path, 100, lambda old: (old, b"first, and longer")) == b""
    assert update_locked_file(path, 100, lambda old: (old, b"second")) == b"first, and longer"
    assert read_private_file(path, 100) == b"second"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.skipif(not state.file_locks_available(), reason="needs fcntl")
def test_a_locked_file_is_not_followed_through_a_symlink(tmp_path):
    target = tmp_path / "elsewhere"
    target.write_bytes(b"not ours")
    private_directory(str(tmp_path / "state"))
    os.symlink(str(target), str(tmp_path / "state" / "file"))
    with pytest.raises(OSError):
        update_locked_file(str(tmp_path / "state" / "file"), 100, lambda old: (old, b"x"))
    assert target.read_bytes() == b"not ours"


def test_content_past_the_limit_reads_as_nothing(tmp_path):
    path = str(tmp_path / "state" / "file")
    replace_private_file(path, b"x" * 101)
    assert read_private_file(path, 100) == b""
    assert read_private_file(path, 101) == b"x" * 101
    assert read_private_file(str(tmp_path / "missing"), 100) is None


def test_a_replaced_file_is_private_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "state" / "file")
    replace_private_file(path, b"one")
    replace_private_file(path, b"two")
    assert read_private_file(path, 10) == b"two"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert os.listdir(str(tmp_path / "state")) == ["file"]


def test_a_failed_replace_raises_and_leaves_no_temporary_file(tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the directory should be")
    with pytest.raises(OSError):
        replace_private_file(str(blocked / "file"), b"x")
    assert os.listdir(str(tmp_path)) == ["blocked"]


def test_an_os_error_is_described_by_its_class_and_message():
    assert describe_os_error(PermissionError(13, "Permission denied")) == "PermissionError: Permission denied"
    assert describe_os_error(OSError()) == "OSError"
