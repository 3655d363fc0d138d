# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Typed errors raised by the client and the modules' input checks.

Every message is redacted before the exception is built (the client owns the redactor),
so a caller may print ``str(error)`` or return ``error.to_fail_json()`` as it is.
Modules map these to ``fail_json`` in exactly one place: ``module.run_module``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class OpswatError(Exception):
    """Base of every error of this collection.

    ``details`` are extra keys for the module result (for example ``status`` and ``body``);
    they must already be redacted.
    """

    # True when a device action failed in a way that leaves its outcome unknown (a 5xx, a timeout, a dropped or
    # unreadable answer): the message then says the action may have been applied. Set where the error is built.
    may_have_been_applied = False

    def __init__(self, message, **details):
        super(OpswatError, self).__init__(message)
        self.message = message
        self.details = details

    def to_fail_json(self):
        result = dict(self.details)
        result["msg"] = self.message
        return result


class InputError(OpswatError):
    """A bad option value, found before any request that writes. ``option`` names it, ``reason`` says what is wrong."""

    def __init__(self, option, message, **details):
        super(InputError, self).__init__("%s: %s" % (option, message), option=option, **details)
        self.option = option
        self.reason = message


class AuthenticationError(OpswatError):
    """The credentials or the access token were rejected (401), after one refresh where possible."""


class RateLimitError(OpswatError):
    """429 answers lasted longer than ``rate_limit_timeout``."""

    def __init__(self, message, waited_seconds, **details):
        super(RateLimitError, self).__init__(message, waited_seconds=waited_seconds, **details)
        self.waited_seconds = waited_seconds


class NotFoundError(OpswatError):
    """The API answered 404 where the caller did not expect it."""


class ApiError(OpswatError):
    """An HTTP status the caller did not expect; carries ``status`` and a redacted, shortened ``body``."""

    def __init__(self, message, status, body=None, **details):
        super(ApiError, self).__init__(message, status=status, body=body, **details)
        self.status = status
        self.body = body


class TransportError(OpswatError):
    """No usable HTTP answer: connection refused or dropped, timeout, TLS failure."""


class UnexpectedResponseError(OpswatError):
    """The API answered 2xx with a body this collection cannot understand (invalid JSON, wrong shape)."""
