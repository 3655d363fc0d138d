# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP exchange, and a classification of every way it can fail.

The client decides whether to retry from the class of the failure: a request that was never sent can
always be sent again, one that timed out or was dropped after sending may have been processed, and a
TLS failure is a configuration problem. ``TransportFailure`` never carries the exception of ``requests``
(its text holds the full URL, with the access token): only its class and a short reason.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import ssl
import traceback

try:
    import requests
    import requests.exceptions
    from urllib3 import exceptions as urllib3_exceptions
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    requests = None
    urllib3_exceptions = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Kinds of failure.
NOT_SENT = "not_sent"  # refused, name resolution, connect timeout: nothing reached the server
TIMEOUT = "timeout"  # sent, no answer in time: it may have been processed
DROPPED = "dropped"  # sent, connection lost before the whole answer: it may have been processed
TLS = "tls"  # certificate or handshake failure: retrying cannot help
INVALID = "invalid"  # the request could not be built (bad URL...): retrying cannot help

KINDS = (NOT_SENT, TIMEOUT, DROPPED, TLS, INVALID)


class TransportFailure(Exception):
    """No usable HTTP answer. ``kind`` is one of ``KINDS``; ``reason`` is short and holds no URL."""

    def __init__(self, kind, reason):
        super(TransportFailure, self).__init__("%s: %s" % (kind, reason))
        self.kind = kind
        self.reason = reason

    @property
    def sent(self):
        """Whether the request may have reached the server."""
        return self.kind in (TIMEOUT, DROPPED)


class Response(object):
    """An HTTP answer: ``status`` (int), ``reason`` (phrase), headers (looked up case-insensitively), ``text``."""

    def __init__(self, status, headers=None, text="", reason=""):
        self.status = status
        self.reason = reason or ""
        self.text = text or ""
        self._headers = dict((str(name).lower(), value) for name, value in (headers or {}).items())

    def header(self, name, default=None):
        return self._headers.get(name.lower(), default)


class RequestsTransport(object):
    """Sends requests through one ``requests.Session`` (connection reuse), with TLS and timeout settings."""

    def __init__(self, verify=True, timeout=30.0, user_agent=None):
        if not HAS_REQUESTS:
            raise RuntimeError("the Python library requests is required")
        self.verify = verify
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["Accept"] = "application/json"
        if user_agent:
            self._session.headers["User-Agent"] = user_agent

    def request(self, method, url, params=None, json_body=None, form_body=None):
        """Send one request and return a ``Response``; raise ``TransportFailure`` when there is no answer."""
        failure = None
        try:
            answer = self._session.request(
                method, url, params=params, json=json_body, data=form_body, verify=self.verify,
                timeout=self.timeout,
                # A redirect would re-send the request elsewhere (POST turned into GET): the client reports it.
                allow_redirects=False)
        except requests.exceptions.RequestException as error:
            failure = classify(error)
        except (OSError, IOError) as error:
            # requests raises a bare OSError when the CA bundle (ca_path, REQUESTS_CA_BUNDLE) cannot be read.
            failure = TransportFailure(TLS, "the CA certificates could not be loaded: %s" % (
                getattr(error, "strerror", None) or error))
        if failure is not None:
            # Raised outside the except block, so neither the context nor a traceback carries the URL.
            raise failure
        return Response(answer.status_code, dict(answer.headers), answer.content.decode("utf-8", "replace"),
                        answer.reason)

    def close(self):
        self._session.close()


def _causes(error):
    """``error`` and every exception it wraps (args, ``reason``, cause and context), each once."""
    pending = [error]
    seen = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = list(getattr(current, "args", ()))
        linked += [getattr(current, "reason", None), current.__cause__, current.__context__]
        pending.extend(item for item in linked if isinstance(item, BaseException))


def _first(error, classes):
    for cause in _causes(error):
        if isinstance(cause, classes):
            return cause
    return None


def _os_reason(error, fallback):
    """The strerror of the first wrapped OS error that has one (it holds no URL), else ``fallback``."""
    for cause in _causes(error):
        if isinstance(cause, OSError) and getattr(cause, "strerror", None):
            return "%s (%s)" % (cause.strerror, cause.__class__.__name__)
    return fallback


def _tls_reason(error):
    ssl_error = _first(error, (ssl.SSLError,))
    if ssl_error is not None:
        detail = getattr(ssl_error, "verify_message", None) or getattr(ssl_error, "reason", None)
        if detail:
            return "%s (%s)" % (detail, ssl_error.__class__.__name__)
    return "TLS handshake failed (%s)" % error.__class__.__name__


def classify(error):
    """The ``TransportFailure`` for an exception of ``requests``; never quotes its text."""
    exceptions = requests.exceptions
    if isinstance(error, exceptions.SSLError) or _first(error, (ssl.SSLError, urllib3_exceptions.SSLError)):
        return TransportFailure(TLS, _tls_reason(error))
    # Before the timeouts: urllib3's NewConnectionError (refused, name resolution) is a ConnectTimeoutError.
    # NameResolutionError is urllib3 2 only; urllib3 1.26 leaves the socket.gaierror in the chain.
    if _first(error, (socket.gaierror, getattr(urllib3_exceptions, "NameResolutionError", socket.gaierror))):
        return TransportFailure(NOT_SENT, _os_reason(error, "the host name could not be resolved"))
    if _first(error, (urllib3_exceptions.NewConnectionError, ConnectionRefusedError)):
        return TransportFailure(NOT_SENT, _os_reason(error, "connection refused"))
    if isinstance(error, exceptions.ProxyError):
        return TransportFailure(NOT_SENT, _os_reason(error, "the proxy could not be reached"))
    if isinstance(error, exceptions.ConnectTimeout) or _first(error, (urllib3_exceptions.ConnectTimeoutError,)):
        return TransportFailure(NOT_SENT, "connection timed out")
    if isinstance(error, exceptions.ReadTimeout) or _first(error, (urllib3_exceptions.ReadTimeoutError,)):
        return TransportFailure(TIMEOUT, "no answer in time")
    if isinstance(error, (exceptions.ConnectionError, exceptions.ChunkedEncodingError,
                          exceptions.ContentDecodingError)):
        return TransportFailure(DROPPED, _os_reason(error, "the connection was closed before the whole answer"
                                                           " arrived (%s)" % error.__class__.__name__))
    if isinstance(error, exceptions.Timeout):
        return TransportFailure(TIMEOUT, "no answer in time")
    return TransportFailure(INVALID, "the request could not be sent (%s)" % error.__class__.__name__)
