# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/doc_fragments/attributes.py: every module states its check mode, diff and idempotence support."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib
import os

import pytest
import yaml

from ansible_collections.opswat.it_access.plugins.doc_fragments.attributes import ModuleDocFragment

MODULES_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
MODULES = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py") and name != "__init__.py")
PROMISES = ("check_mode", "diff_mode", "idempotent")


def documentation(name):
    module = importlib.import_module("ansible_collections.opswat.it_access.plugins.modules.%s" % name)
    return yaml.safe_load(module.DOCUMENTATION)


def test_the_modules_are_found():
    assert "opswat_device_action" in MODULES and "opswat_account_info" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_every_module_states_its_support_of_each_attribute(name):
    doc = documentation(name)
    fragments = doc["extends_documentation_fragment"]
    assert "opswat.it_access.attributes" in fragments and "opswat.it_access.attributes.ACTION_GROUP" in fragments
    if name.endswith("_info"):
        # An info module never writes: the fragment says so, and the module does not contradict it.
        assert "opswat.it_access.attributes.INFO_MODULE" in fragments
        assert not set(doc.get("attributes", {})) & set(PROMISES)
    else:
        assert "opswat.it_access.attributes.INFO_MODULE" not in fragments
        for promise in PROMISES:
            assert doc["attributes"][promise]["support"] in ("full", "partial", "none"), promise


def test_the_info_fragment_promises_full_check_mode_and_idempotence():
    info = yaml.safe_load(ModuleDocFragment.INFO_MODULE)["attributes"]
    assert info["check_mode"]["support"] == "full" and info["idempotent"]["support"] == "full"
    assert set(yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["attributes"]) >= set(PROMISES)
