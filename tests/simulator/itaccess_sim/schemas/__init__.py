# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""JSON Schemas of every request body and answer shape, loaded once for the server and the tests.

Each ``*.json`` file beside this one is a Draft 2020-12 schema whose ``$id`` is its file name, so schemas
refer to each other by file name (``"$ref": "device.json"``). The server validates request bodies with
``request_error``; the tests validate answers with ``validate``.
"""

import functools
import json
import os

import jsonschema
from referencing import Registry, Resource

_HERE = os.path.dirname(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def _registry():
    resources = []
    for name in sorted(os.listdir(_HERE)):
        if name.endswith(".json"):
            with open(os.path.join(_HERE, name), encoding="utf-8") as handle:
                resources.append((name, Resource.from_contents(json.load(handle))))
    return Registry().with_resources(resources)


def names():
    """File names of all schemas."""
    return sorted(uri for uri in _registry())


def load(name):
    """The schema document stored as ``name`` (for example ``"devices.response.json"``)."""
    return _registry()[name].contents


@functools.lru_cache(maxsize=None)
def validator(name):
    """A compiled validator for the schema ``name``; ``$ref`` to the other files resolve."""
    schema = load(name)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, registry=_registry())


def validate(name, instance):
    """Raise ``jsonschema.ValidationError`` unless ``instance`` matches the schema ``name``."""
    validator(name).validate(instance)


def _field(path):
    """Dotted name of the field an error is about (``params.exempt_time``, ``ids[3]``)."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + str(part)
    return text


def describe(error):
    """A one-line message that names the field at fault, without echoing large values."""
    field = _field(error.absolute_path)
    where = f"'{field}'" if field else "the request body"
    value = error.validator_value
    if error.validator == "required":
        missing = [key for key in value if key not in error.instance] or ["?"]
        prefix = field + "." if field else ""
        return f"missing required field '{prefix}{missing[0]}'"
    if error.validator == "additionalProperties":
        extra = sorted(key for key in error.instance if key not in error.schema.get("properties", {})) or ["?"]
        prefix = field + "." if field else ""
        return f"unexpected field '{prefix}{extra[0]}'"
    if error.validator == "oneOf" and "x-message" in error.schema:
        return error.schema["x-message"]
    messages = {
        "type": lambda: f'must be of type {" or ".join(value) if isinstance(value, list) else value}',
        "enum": lambda: f'must be one of {", ".join(json.dumps(item) for item in value)}',
        "const": lambda: f"must be {json.dumps(value)}",
        "minimum": lambda: f"must be >= {value}",
        "maximum": lambda: f"must be <= {value}",
        "minItems": lambda: f"must hold at least {value} item(s)",
        "maxItems": lambda: f"must hold at most {value} items",
        "minLength": lambda: "must not be empty" if value == 1 else f"must be at least {value} characters long",
        "pattern": lambda: f"does not match {value}",
    }
    detail = messages.get(error.validator, lambda: error.message)()
    return f"invalid value for {where}: {detail}"


def request_error(name, body):
    """None when ``body`` matches the request schema ``name``, else a message naming the field at fault."""
    error = jsonschema.exceptions.best_match(validator(name).iter_errors(body))
    return None if error is None else describe(error)
