# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/runtime.yml stays true to the code and to the test setup.

1. ``requires_ansible``'s minimum is the ansible-core that requirements-oldest.txt pins: the oldest core the
   test suite actually runs on (units-oldest and functional-oldest gates).
2. The ``it_access`` action group lists exactly the modules in plugins/modules, so that
   ``module_defaults: {group/opswat.it_access.it_access: ...}`` reaches every module.
3. Every module's documentation (with its doc fragments) declares the ``action_group`` attribute with
   membership ``opswat.it_access.it_access``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

COLLECTION = "opswat.it_access"
GROUP = "it_access"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")


def _runtime():
    with open(os.path.join(ROOT, "meta", "runtime.yml")) as f:
        return yaml.safe_load(f) or {}


def _module_names():
    """Module names under plugins/modules (a module in a subdirectory is named sub.module)."""
    names = []
    if os.path.isdir(MODULES_DIR):
        for dirpath, dummy, files in os.walk(MODULES_DIR):
            for f in files:
                if f.endswith(".py") and f != "__init__.py":
                    rel = os.path.relpath(os.path.join(dirpath, f[:-3]), MODULES_DIR)
                    names.append(rel.replace(os.sep, "."))
    return sorted(names)


def _version(text):
    return tuple(int(p) for p in text.split("."))


def test_requires_ansible_is_the_oldest_tested_core():
    spec = str(_runtime().get("requires_ansible", ""))
    match = re.search(r">=\s*([0-9]+(?:\.[0-9]+)*)", spec)
    assert match, "meta/runtime.yml requires_ansible %r has no '>=' minimum" % spec
    with open(os.path.join(ROOT, "requirements-oldest.txt")) as f:
        pins = re.findall(r"^\s*ansible-core\s*==\s*([0-9.]+)\s*(?:#.*)?$", f.read(), re.M)
    assert len(pins) == 1, "requirements-oldest.txt must pin ansible-core exactly once (ansible-core==X.Y.Z)"
    assert _version(match.group(1)) == _version(pins[0]), (
        "meta/runtime.yml requires_ansible says >=%s but the oldest core the tests run on "
        "(requirements-oldest.txt) is %s: make them equal" % (match.group(1), pins[0]))


def test_action_group_lists_exactly_every_module():
    groups = _runtime().get("action_groups") or {}
    assert GROUP in groups, "meta/runtime.yml has no action group %r" % GROUP
    entries = []
    for entry in groups[GROUP] or []:
        assert isinstance(entry, str), "action group %r entry %r is not a module name" % (GROUP, entry)
        entries.append(entry[len(COLLECTION) + 1:] if entry.startswith(COLLECTION + ".") else entry)
    assert len(entries) == len(set(entries)), "duplicate entries in action group %r: %r" % (GROUP, entries)
    modules = _module_names()
    missing = sorted(set(modules) - set(entries))
    extra = sorted(set(entries) - set(modules))
    assert not missing, "modules missing from action group %r in meta/runtime.yml: %s" % (GROUP, ", ".join(missing))
    assert not extra, "action group %r lists modules that do not exist in plugins/modules: %s" % (
        GROUP, ", ".join(extra))


def _fragment_loader():
    """ansible's doc fragment loader, with the collection importable (ansible-test units installs the collection
    finder itself; under plain pytest install one for the ansible_collections tree that holds this collection)."""
    from ansible.utils.collection_loader import AnsibleCollectionConfig
    if AnsibleCollectionConfig.collection_finder is None:
        from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder
        parts = ROOT.split(os.sep)
        if parts[-3:-2] != ["ansible_collections"]:
            pytest.skip("the collection is not in an ansible_collections/opswat/it_access tree")
        _AnsibleCollectionFinder(paths=[os.sep.join(parts[:-3])])._install()
    from ansible.plugins.loader import fragment_loader
    return fragment_loader


@pytest.mark.parametrize("module", _module_names() or [pytest.param(None, marks=pytest.mark.skip("no module yet"))])
def test_module_declares_action_group_membership(module):
    from ansible.utils.plugin_docs import get_docstring
    path = os.path.join(MODULES_DIR, *module.split(".")) + ".py"
    doc = get_docstring(path, _fragment_loader(), collection_name=COLLECTION, is_module=True)[0]
    assert doc, "%s has no DOCUMENTATION" % module
    attr = (doc.get("attributes") or {}).get("action_group")
    assert attr, "%s: DOCUMENTATION (with its fragments) declares no attributes.action_group" % module
    membership = attr.get("membership") or []
    if isinstance(membership, str):
        membership = [membership]
    assert "%s.%s" % (COLLECTION, GROUP) in membership, (
        "%s: attributes.action_group.membership is %r, expected it to include %s.%s" % (
            module, membership, COLLECTION, GROUP))
