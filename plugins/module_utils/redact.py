# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Removal of secrets from every text the collection shows: error messages, details and log lines.

The client owns one ``Redactor``. It knows the configured secrets, every access token fetched at run time
and every license key seen in an account answer; it also scrubs the usual carriers of a credential
(``access_token=``, ``client_secret=``, ``Bearer ...``, JSON keys) whatever their value, so a secret the
redactor was never told about is still hidden when it travels in one of those places.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
from urllib.parse import quote, quote_plus

MASK = "********"

# Query or form parameters that carry a credential: the value runs up to the next separator.
_PARAMETER_PATTERN = re.compile(
    r"((?:access_token|client_secret|refresh_token|license_key)=)[^&\s'\"<>]*", re.IGNORECASE)
# An Authorization header value, as requests or a proxy might echo it.
_BEARER_PATTERN = re.compile(r"(\bBearer\s+)[^\s'\",;]+", re.IGNORECASE)
# JSON members that carry a credential (a token answer or an account answer quoted in an error body).
# The closing quote may be missing: a proxy or a dropped connection can cut an answer inside the value, and
# then everything up to the end of the text is the secret.
_JSON_MEMBER_PATTERN = re.compile(
    r"(\"(?:access_token|client_secret|refresh_token|license_key)\"\s*:\s*\")(?:[^\"\\]|\\.)*\\?(\"|\Z)", re.IGNORECASE)


class Redactor(object):
    """Holds secrets and replaces them, and credential-shaped text, with ``MASK``."""

    def __init__(self, secrets=()):
        self._secrets = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret):
        """Remember ``secret`` (and its URL-encoded forms, as it appears in a URL). Empty values are ignored."""
        if not isinstance(secret, str) or not secret.strip():
            return
        self._secrets.add(secret)
        self._secrets.add(quote(secret, safe=""))
        self._secrets.add(quote_plus(secret, safe=""))

    def redact(self, text):
        """``text`` as a string with every known secret and every credential-shaped value masked."""
        if text is None:
            return None
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        elif not isinstance(text, str):
            text = str(text)
        # Longest first, so a secret that contains another one is masked whole.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        text = _PARAMETER_PATTERN.sub(r"\1" + MASK, text)
        text = _BEARER_PATTERN.sub(r"\1" + MASK, text)
        text = _JSON_MEMBER_PATTERN.sub(r"\1" + MASK + r"\2", text)
        return text
