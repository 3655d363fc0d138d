# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fixture of the module tests: a module's ``main()`` runs as Ansible runs it, its client on the fake transport."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import io
import json
import os
import tempfile

import pytest

from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args

from ansible_collections.opswat.it_access.plugins.module_utils import module as module_runner
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, API_URL, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY, Harness)

# Every secret a test hands the module or scripts the fake API to send: none may reach the module's output.
SECRETS = (ACCESS_TOKEN, CLIENT_SECRET, FETCHED_TOKEN, LICENSE_KEY)


class ModuleResult(dict):
    """What the module printed, parsed, with its exit code and the raw text (searched for secrets)."""

    def __init__(self, exit_code, text):
        super(ModuleResult, self).__init__(json.loads(text))
        self.exit_code = exit_code
        self.text = text

    def leaked(self, secrets=SECRETS):
        return [secret for secret in secrets if secret in self.text]


class ModuleHarness(Harness):
    """A fake API for modules: ``run(main, **params)`` runs ``main()`` with the connection to the fake API."""

    def __init__(self):
        super(ModuleHarness, self).__init__()
        self.clients = []

    def build_client(self, client_class, config, **kwargs):
        """Stands in for the ``Client(config, ...)`` call of run_module: the same client, on the fake transport."""
        client = client_class(config, transport=self.transport, clock=self.clock, sleep=self.clock.sleep, **kwargs)
        client.session.backoff_jitter = lambda: 1.0  # back-off delays become exactly 1, 2, 4...
        self.clients.append(client)
        return client

    def run(self, main, check_mode=False, **params):
        args = dict(api_url=API_URL, access_token=ACCESS_TOKEN, token_cache=False)
        args.update(params)
        args = dict((name, value) for name, value in args.items() if value is not None)
        if check_mode:
            args["_ansible_check_mode"] = True
        stdout = io.StringIO()
        exit_code = None
        # AnsibleModule keeps warnings in a process-wide dict that a real module process starts empty.
        global_warnings = getattr(ansible_warnings, "_global_warnings", {})
        global_warnings.clear()
        with patch_module_args(args), contextlib.redirect_stdout(stdout):
            try:
                main()
            except SystemExit as exit_:
                exit_code = exit_.code
        global_warnings.clear()
        return ModuleResult(exit_code, stdout.getvalue())


@pytest.fixture
def module_harness(monkeypatch, tmp_path):
    """A module run on the fake API; the test fails if a scripted exchange was not used.

    The one place that knows how run_module builds its client: it replaces ``Client`` in module.py.
    """
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the pace file goes to a directory of this test
    for name in list(os.environ):
        if name.startswith("OPSWAT_"):
            monkeypatch.delenv(name)
    harness = ModuleHarness()
    client_class = module_runner.Client
    monkeypatch.setattr(module_runner, "Client",
                        lambda config, **kwargs: harness.build_client(client_class, config, **kwargs))
    yield harness
    harness.transport.assert_done()
