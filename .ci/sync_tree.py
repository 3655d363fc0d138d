# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Mirror the working tree into <dest> (usually .build/collections/ansible_collections/opswat/it_access).

Usage: python .ci/sync_tree.py SRC DEST

Only the files git lists with ``git ls-files -co --exclude-standard`` are copied (tracked files plus untracked
files that are not ignored), so generated files never travel. Everything else in DEST is deleted (files the
tools wrote there on the previous run, files deleted from the working tree), except DEST/.git: DEST gets a
repository of its own (``git init``, no commits) so that ansible-test and ansible-lint find their files with
git there and honour .gitignore, instead of walking up to the real repository, where .build/ is ignored and
they would see no file at all. Unchanged files (same size and mtime) are not copied again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import shutil
import stat
import subprocess
import sys


def listed_files(src):
    out = subprocess.check_output(["git", "-C", src, "ls-files", "-z", "-co", "--exclude-standard"])
    names = set()
    for raw in out.split(b"\0"):
        if not raw:
            continue
        name = raw.decode("utf-8", "surrogateescape")
        if os.path.lexists(os.path.join(src, name)):  # tracked but deleted files are listed too
            names.add(name)
    return names


def same(src, dst):
    try:
        a, b = os.lstat(src), os.lstat(dst)
    except OSError:
        return False
    if stat.S_ISLNK(a.st_mode) or stat.S_ISLNK(b.st_mode):
        return stat.S_ISLNK(a.st_mode) and stat.S_ISLNK(b.st_mode) and os.readlink(src) == os.readlink(dst)
    return (stat.S_ISREG(b.st_mode) and a.st_size == b.st_size and int(a.st_mtime) == int(b.st_mtime)
            and stat.S_IMODE(a.st_mode) == stat.S_IMODE(b.st_mode))


def copy_one(src, dst):
    if os.path.isdir(dst) and not os.path.islink(dst):
        shutil.rmtree(dst)
    elif os.path.lexists(dst):
        os.unlink(dst)
    parent = os.path.dirname(dst)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    if os.path.islink(src):
        os.symlink(os.readlink(src), dst)
    else:
        shutil.copy2(src, dst)


def prune(dest, keep):
    """Delete from dest every file and directory that is not in keep (relative paths); keep dest/.git."""
    removed = 0
    for root, dirs, files in os.walk(dest, topdown=True):
        rel_root = os.path.relpath(root, dest)
        rel_root = "" if rel_root == "." else rel_root
        if rel_root == "":
            dirs[:] = [d for d in dirs if d != ".git"]
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            rel = os.path.join(rel_root, name)
            if rel not in keep:
                os.unlink(os.path.join(root, name))
                removed += 1
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(root, d))]
    for root, dirs, files in os.walk(dest, topdown=False):
        if root == dest or os.path.relpath(root, dest).split(os.sep)[0] == ".git":
            continue
        if not os.listdir(root):
            os.rmdir(root)
    return removed


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sync_tree.py SRC DEST")
    src, dest = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    names = listed_files(src)
    if not os.path.isdir(dest):
        os.makedirs(dest)
    removed = prune(dest, names)
    copied = 0
    for name in sorted(names):
        s, d = os.path.join(src, name), os.path.join(dest, name)
        if not same(s, d):
            copy_one(s, d)
            copied += 1
    if not os.path.isdir(os.path.join(dest, ".git")):
        subprocess.check_call(["git", "init", "-q", dest])
    print("synced %d files into %s (%d copied, %d removed)" % (len(names), os.path.relpath(dest), copied, removed))


if __name__ == "__main__":
    main()
