# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a module of the collection in the test process, the way Ansible runs it on a target, minus the process.

Used by the functional and reliability suites. A module run this way still talks real HTTP to the simulator;
what it skips is ansible-playbook's start-up and the AnsiballZ process (about 1 s of CPU a task on these machines),
so a behaviour test costs milliseconds. The suites keep real ``ansible-playbook`` runs for what only Ansible
proves: module_defaults and the action group, ``--check``/``--diff`` flags, -vvvv output, the role, the
playbooks and the inventory plugin.

Check and diff mode are passed as Ansible passes them to a module: ``_ansible_check_mode`` and
``_ansible_diff`` in the arguments (``run_module(..., check=True, diff=True)``).
"""

from __future__ import absolute_import, division, print_function

import contextlib
import importlib
import io
import json
import os
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = "ansible_collections.opswat.it_access.plugins.modules."


def make_collection_importable():
    """Put the ``ansible_collections`` root that holds this tree on sys.path (the gate's copy, or a dev symlink)."""
    parts = os.path.realpath(ROOT).split(os.sep)
    candidates = []
    if parts[-3:] == ["ansible_collections", "opswat", "it_access"]:
        candidates.append(os.sep.join(parts[:-3]))
    for entry in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) + sys.path:
        if entry and os.path.realpath(os.path.join(entry, "ansible_collections", "opswat", "it_access")) == os.path.realpath(ROOT):
            candidates.append(entry)
    if not candidates:
        raise RuntimeError("no ansible_collections/opswat/it_access points at %s: set ANSIBLE_COLLECTIONS_PATH" % ROOT)
    if candidates[0] not in sys.path:
        sys.path.insert(0, candidates[0])


make_collection_importable()

# pylint: disable=wrong-import-position
from ansible.module_utils.common import warnings as ansible_warnings  # noqa: E402
from ansible.module_utils.testing import patch_module_args  # noqa: E402

from ansible_collections.opswat.it_access.plugins.module_utils import client as client_module  # noqa: E402
# pylint: enable=wrong-import-position

if not os.path.realpath(client_module.__file__).startswith(os.path.realpath(ROOT)):
    raise RuntimeError("the collection imported from %s is not the tree under test (%s)" % (client_module.__file__, ROOT))


class ModuleRun(object):
    """The outcome of one in-process module run."""

    def __init__(self, name, exit_code, result, stdout, error):
        self.name = name
        self.exit_code = exit_code
        self.result = result if result is not None else {}
        self.stdout = stdout
        self.traceback = error

    @property
    def failed(self):
        return bool(self.result.get("failed"))

    @property
    def msg(self):
        return self.result.get("msg") or ""

    @property
    def warnings(self):
        """The warning texts, whatever their shape (plain strings before 2.19's event objects)."""
        return [_message_of(item) for item in self.result.get("warnings") or []]

    def __getitem__(self, key):
        return self.result[key]

    def get(self, key, default=None):
        return self.result.get(key, default)

    def __repr__(self):
        return "<%s exit=%r %s>" % (self.name, self.exit_code, json.dumps(self.result, default=str)[:3000])


def _message_of(item):
    if isinstance(item, dict):
        for key in ("msg", "event"):
            if key in item:
                return _message_of(item[key])
        return json.dumps(item, default=str)
    return str(item)


def run_module(name, args, check=False, diff=False):
    """Run ``opswat_<name>``'s ``main()`` in this process with ``args``; never raises."""
    module = importlib.import_module(MODULES + "opswat_" + name)
    args = dict(args)
    if check:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    stdout = io.StringIO()
    exit_code = None
    error = None
    # AnsibleModule keeps warnings in a process-wide dict that a real module process starts empty.
    global_warnings = getattr(ansible_warnings, "_global_warnings", {})
    global_warnings.clear()
    with patch_module_args(args), contextlib.redirect_stdout(stdout):
        try:
            module.main()
        except SystemExit as exit_:
            exit_code = exit_.code
        except Exception:  # pylint: disable=broad-exception-caught  # a traceback is what the suites look for
            error = traceback.format_exc()
    global_warnings.clear()
    text = stdout.getvalue()
    result = None
    if error is None:
        try:
            result = json.loads(text)
        except ValueError:
            error = "the module printed no JSON:\n%s" % text
    return ModuleRun(name, exit_code, result, text, error)
