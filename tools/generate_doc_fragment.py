#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write plugins/doc_fragments/connection.py from the connection options in plugins/module_utils/connection.py.

The options are defined once, there; `make fragments` runs this, and a unit test fails when the file is stale.
The fragment is a plain literal (not computed at import time) so every documentation tool can read it.
"""

import json
import os
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "plugins", "doc_fragments", "connection.py")

HEADER = '''# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options of every module (DOCUMENTATION) and plugin (PLUGIN, with env: entries).

GENERATED from plugins/module_utils/connection.py by tools/generate_doc_fragment.py (make fragments): do not edit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
'''


def load_connection_module():
    """connection.py imports errors.py through the collection path; load both by file instead."""
    import importlib.util
    import types

    package = "ansible_collections.opswat.it_access.plugins.module_utils"
    for name in ("ansible_collections", "ansible_collections.opswat", "ansible_collections.opswat.it_access",
                 "ansible_collections.opswat.it_access.plugins", package):
        sys.modules.setdefault(name, types.ModuleType(name))
    loaded = None
    for name in ("errors", "options", "connection"):
        spec = importlib.util.spec_from_file_location(package + "." + name,
                                                      os.path.join(ROOT, "plugins", "module_utils", name + ".py"))
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded
        spec.loader.exec_module(loaded)
    return loaded


class IndentedDumper(yaml.SafeDumper):
    """Indents list items under their key, as the collection's YAML does everywhere (yamllint's default)."""

    def increase_indent(self, flow=False, indentless=False):
        return super(IndentedDumper, self).increase_indent(flow, False)


def render():
    connection = load_connection_module()
    parts = [HEADER]
    for attribute, with_env in (("DOCUMENTATION", False), ("PLUGIN", True)):
        data = json.loads(connection.doc_fragment(with_env))
        text = yaml.dump(data, Dumper=IndentedDumper, default_flow_style=False, sort_keys=True, width=110,
                         allow_unicode=True)
        parts.append('    %s = r"""\n%s"""\n' % (attribute, text))
    return "\n".join(parts)


def main():
    text = render()
    if "--check" in sys.argv:
        with open(TARGET) as handle:
            if handle.read() != text:
                sys.exit("%s is stale: run make fragments" % TARGET)
        return
    with open(TARGET, "w") as handle:
        handle.write(text)


if __name__ == "__main__":
    main()
