# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module documents ``api_requests`` (the client's counters) in the same words.

The counters come from one place (``Client.metrics()``), so one module's RETURN must not say what another's
contradicts. Only the samples may differ.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

import pytest
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")

API_REQUESTS = {
    "description": "The HTTP requests this task sent.",
    "returned": "always",
    "type": "dict",
    "contains": {
        "requests": dict(type="int", description="Every HTTP request sent, token requests, retries and throttled ones included."),
        "throttled": dict(type="int", description="Answers with HTTP 429."),
        "retries": dict(type="int", description=(
            "Requests sent again: after a 429 answer or a rejected access token (HTTP 401), and, for reads only,"
            " after a 5xx answer, a transport error or an answer that is not valid JSON. A device action is never"
            " sent again once it may have reached the service.")),
        "waited_seconds": dict(type="float", description=(
            "Seconds spent waiting on 429 answers and retry back-off (not the pacing between requests).")),
    },
}


def _modules():
    return sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py") and name != "__init__.py")


def _return_doc(module):
    with open(os.path.join(MODULES_DIR, module + ".py")) as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "RETURN" for t in node.targets):
            return yaml.safe_load(node.value.value)
    raise AssertionError("%s has no RETURN" % module)


def _without_samples(doc):
    doc = dict(doc)
    doc.pop("sample", None)
    if "contains" in doc:
        doc["contains"] = dict((key, _without_samples(value)) for key, value in doc["contains"].items())
    return doc


@pytest.mark.parametrize("module", _modules())
def test_api_requests_is_documented_the_same_way_in_every_module(module):
    assert _without_samples(_return_doc(module)["api_requests"]) == API_REQUESTS
