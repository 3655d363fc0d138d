# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""awx/credential_type.yml injects exactly the environment variables of the connection options it has inputs for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import yaml

from ansible_collections.opswat.it_access.plugins.module_utils.connection import CONNECTION_OPTIONS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The inputs a credential of an account needs (the rest are per-job tuning, set in the playbook or job template).
CREDENTIAL_OPTIONS = ("api_url", "client_id", "client_secret", "access_token", "rate_limit_store",
                      "rate_limit_store_password", "rate_limit_key")


def credential_type():
    with open(os.path.join(ROOT, "awx", "credential_type.yml")) as handle:
        return yaml.safe_load(handle)


def test_every_injector_sets_the_variable_of_the_option_of_its_input():
    data = credential_type()
    fields = dict((field["id"], field) for field in data["inputs"]["fields"])
    injected = {}
    for variable, template in data["injectors"]["env"].items():
        match = re.match(r"^\{\{ *(\w+) *\}\}$", template)
        assert match, "%s: %r is not a plain {{ field }}" % (variable, template)
        injected[match.group(1)] = variable
    assert set(fields) == set(injected) == set(CREDENTIAL_OPTIONS)
    for name, variable in injected.items():
        assert CONNECTION_OPTIONS[name]["env"] == variable, name


def test_secrets_are_secret_fields():
    fields = dict((field["id"], field) for field in credential_type()["inputs"]["fields"])
    secret = set(name for name, field in fields.items() if field.get("secret"))
    no_log = set(name for name in fields if CONNECTION_OPTIONS[name].get("no_log"))
    assert secret == no_log | {"rate_limit_store"}  # the store's URL may hold a password
    assert fields["api_url"]["default"] == CONNECTION_OPTIONS["api_url"]["default"]
