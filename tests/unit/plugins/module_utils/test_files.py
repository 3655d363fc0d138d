# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reports on disk: destination checks, file names of command results, the atomic write that changes a file only
when its content (or mode) differs, and check mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os

import pytest

from ansible_collections.opswat.it_access.plugins.module_utils.errors import InputError
from ansible_collections.opswat.it_access.plugins.module_utils.files import (
    StreamTarget, check_directory, check_file_destination, command_file_name, write_file)


def mode_of(path):
    return os.stat(str(path)).st_mode & 0o7777


def test_a_new_file_is_written_owner_only_with_its_size_and_sha256(tmp_path):
    path = str(tmp_path / "report.json")
    written = write_file(path, b"{}")
    assert written == dict(path=path, size=2, sha256=hashlib.sha256(b"{}").hexdigest(), changed=True)
    assert open(path, "rb").read() == b"{}" and mode_of(path) == 0o600
    assert os.listdir(str(tmp_path)) == ["report.json"], "a temporary file was left behind"


def test_the_same_content_is_unchanged_and_other_content_replaces_it(tmp_path):
    path = str(tmp_path / "r.csv")
    write_file(path, b"a")
    assert write_file(path, b"a")["changed"] is False
    assert write_file(path, b"b")["changed"] is True and open(path, "rb").read() == b"b"
    assert mode_of(path) == 0o600, "a replaced file keeps its mode"


def test_a_mode_is_given_to_new_and_existing_files(tmp_path):
    path = str(tmp_path / "r.csv")
    assert write_file(path, b"a", mode=0o640)["changed"] and mode_of(path) == 0o640
    assert write_file(path, b"a", mode=0o644)["changed"] and mode_of(path) == 0o644
    assert not write_file(path, b"a", mode=0o644)["changed"]


def test_check_mode_writes_nothing_and_says_whether_it_would(tmp_path):
    path = str(tmp_path / "r.csv")
    assert write_file(path, b"a", check_mode=True)["changed"] and not os.path.exists(path)
    write_file(path, b"a")
    assert not write_file(path, b"a", check_mode=True)["changed"]
    assert write_file(path, b"b", check_mode=True)["changed"] and open(path, "rb").read() == b"a"


def test_destination_checks(tmp_path):
    assert check_directory(str(tmp_path)) == str(tmp_path)
    with pytest.raises(InputError, match="must be an existing directory"):
        check_directory(str(tmp_path / "missing"))
    with pytest.raises(InputError, match="is a directory"):
        check_file_destination(str(tmp_path))
    with pytest.raises(InputError, match="must be an existing directory"):
        check_file_destination(str(tmp_path / "missing" / "r.csv"))
    assert check_file_destination(str(tmp_path / "r.csv")) == str(tmp_path / "r.csv")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into any directory")
def test_a_directory_that_is_not_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(InputError, match="not writable"):
        check_directory(str(locked))


def test_command_file_names_are_safe():
    assert command_file_name("aa:bb/../cc", "c1", "zip") == "aa-bb-..-cc_c1.zip"
    assert command_file_name("..", "../x", "log") == "device_-x.log"


def test_a_streamed_answer_is_committed_once_and_nothing_is_left_behind(tmp_path):
    path = str(tmp_path / "agent.zip")
    for expected in (True, False):
        with StreamTarget(str(tmp_path)) as target:
            target.file.write(b"PK zip")
            assert target.commit(path)["changed"] is expected
    assert open(path, "rb").read() == b"PK zip" and mode_of(path) == 0o600
    with StreamTarget(str(tmp_path)) as target:
        target.file.write(b"other")
        assert target.commit(path, check_mode=True)["changed"] is True
    with StreamTarget(str(tmp_path)) as target:
        target.file.write(b"never committed")
    assert os.listdir(str(tmp_path)) == ["agent.zip"] and open(path, "rb").read() == b"PK zip"
