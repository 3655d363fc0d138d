# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugins/doc_fragments/connection.py: generated from the connection options, and still in step with them."""

from __future__ import absolute_import, division, print_function

import json

import yaml

from ansible_collections.opswat.it_access.plugins.doc_fragments.connection import ModuleDocFragment
from ansible_collections.opswat.it_access.plugins.module_utils import connection


def test_doc_fragments_are_generated_from_the_options():
    """plugins/doc_fragments/connection.py is written by tools/generate_doc_fragment.py (make fragments)."""
    assert yaml.safe_load(ModuleDocFragment.DOCUMENTATION) == json.loads(connection.doc_fragment(with_env=False))
    assert yaml.safe_load(ModuleDocFragment.PLUGIN) == json.loads(connection.doc_fragment(with_env=True))


def test_doc_fragments_document_the_same_options_types_and_defaults():
    module_doc = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    plugin_doc = yaml.safe_load(ModuleDocFragment.PLUGIN)["options"]
    spec = connection.argument_spec()
    assert set(module_doc) == set(plugin_doc) == set(spec)
    for name, entry in spec.items():
        assert module_doc[name]["type"] == entry["type"]
        assert module_doc[name].get("default") == entry.get("default")
        assert "env" not in module_doc[name]
        env = entry["fallback"][1][1]
        assert plugin_doc[name]["env"] == [{"name": env}]
        assert "E(%s)" % env in " ".join(module_doc[name]["description"])
