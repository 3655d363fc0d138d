# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""galaxy.yml keeps generated files out of the tarball and carries what Galaxy and ansible-lint require.

``ansible-galaxy collection build`` does not read .gitignore: every folder or file the
tools generate inside a collection tree must be in ``build_ignore``, or it ends up in the tarball.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import os
import re

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Paths (relative to the collection root) that tools generate: the Makefile's .build/, venvs, ansible-lint's
# .ansible/, pytest-ansible's collections/ symlink farm, ansible-test's tests/output/ and integration
# inventory, antsibull-changelog's plugin cache, pytest's cache, galaxy-importer's result, built tarballs.
GENERATED = [
    ".build",
    ".build/venv-primary/bin/python",
    ".venv",
    ".venv-3.12",
    ".ansible",
    ".cache",
    ".pytest_cache",
    "collections",
    "collections/ansible_collections/opswat/it_access/galaxy.yml",
    "tests/output",
    "tests/output/.tmp/sanity",
    "tests/integration/inventory",
    "changelogs/.plugin-cache.yaml",
    "importer_result.json",
    "opswat-it_access-0.1.0.tar.gz",
]

# Tags the ansible-lint production profile accepts as the required category tag (galaxy[tags]).
CATEGORY_TAGS = {"application", "cloud", "database", "eda", "infrastructure", "linux", "monitoring",
                 "networking", "security", "storage", "tools", "windows"}


@pytest.fixture(scope="module")
def galaxy():
    with open(os.path.join(ROOT, "galaxy.yml")) as f:
        return yaml.safe_load(f)


def _ignored(path, patterns):
    """True when path, or one of its parent folders, matches a build_ignore pattern (fnmatch, as ansible-galaxy)."""
    parts = path.split("/")
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if any(fnmatch.fnmatch(prefix, p) for p in patterns):
            return True
    return False


# Shipped or not, on purpose: the benchmarks are a contributor's tool (they drive the repository's Makefile);
# the simulator is for users too, who run it from the installed collection to try playbooks.
NOT_SHIPPED = ["tests/benchmarks", "tests/benchmarks/benchlib.py", "tests/benchmarks/playbooks/list.yml"]
SHIPPED = ["tests/simulator/itaccess_sim/__main__.py", "tests/simulator/itaccess_sim/schemas/devices.request.json",
           "tests/simulator/tests/test_actions.py", "plugins/modules/opswat_device_info.py", "docs/simulator.md"]


@pytest.mark.parametrize("path", NOT_SHIPPED)
def test_build_ignore_leaves_out(galaxy, path):
    patterns = [str(p).rstrip("/") for p in galaxy.get("build_ignore") or []]
    assert _ignored(path, patterns), "galaxy.yml build_ignore does not leave out %r" % path


@pytest.mark.parametrize("path", SHIPPED)
def test_build_ignore_keeps(galaxy, path):
    patterns = [str(p).rstrip("/") for p in galaxy.get("build_ignore") or []]
    assert not _ignored(path, patterns), "galaxy.yml build_ignore leaves out %r, which must ship" % path


@pytest.mark.parametrize("path", GENERATED)
def test_build_ignore_covers_generated_path(galaxy, path):
    patterns = [str(p).rstrip("/") for p in galaxy.get("build_ignore") or []]
    assert _ignored(path, patterns), "galaxy.yml build_ignore does not cover the generated path %r" % path


def test_identity(galaxy):
    assert galaxy["namespace"] == "opswat"
    assert galaxy["name"] == "it_access"
    assert re.match(r"^\d+\.\d+\.\d+(?:[-+].+)?$", str(galaxy["version"])), "version is not semantic"


def test_the_user_agent_carries_the_version_of_galaxy_yml(galaxy):
    # The modules cannot read galaxy.yml where they run (a remote host gets module_utils only): session.py
    # states the version itself, and this test keeps the two equal.
    from ansible_collections.opswat.it_access.plugins.module_utils import session

    assert session.VERSION == str(galaxy["version"]), "session.py VERSION differs from galaxy.yml version"
    assert session.USER_AGENT == "opswat.it_access/%s" % galaxy["version"]


def test_tags(galaxy):
    tags = galaxy.get("tags") or []
    assert "security" in tags
    assert set(tags) & CATEGORY_TAGS, "tags need one of %s (ansible-lint galaxy[tags])" % sorted(CATEGORY_TAGS)
    for tag in tags:
        assert re.match(r"^[a-z][a-z0-9_]{0,63}$", tag), "tag %r is not valid for Galaxy" % tag
    assert len(tags) <= 20, "Galaxy accepts at most 20 tags"
