# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One HTTP exchange, and a classification of every way it can fail.

The client decides whether to retry from the class of the failure: a request that was never sent can
always be sent again, one that timed out or was dropped after sending may have been processed, and a
TLS failure is a configuration problem. ``TransportFailure`` never carries the exception of ``requests``
(its text holds the full URL, with the access token): only its class and a short reason.

Every request is bounded: ``timeout`` covers it from the connection to the answer's last byte (a watchdog
shuts the socket down at the deadline, so a server that trickles its answer cannot hold a task), and the
answer is read in chunks, decompressed here, up to ``max_answer_bytes`` of decoded content (a small
compressed answer that unpacks to gigabytes stops at the cap). Credentials go only where the collection
puts them: ``~/.netrc`` is never read, while the proxy and CA settings of the environment still apply.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import socket
import ssl
import threading
import traceback
import weakref
import zlib
from urllib.parse import urlsplit

try:
    import requests
    import requests.adapters
    import requests.auth
    import requests.exceptions
    import requests.utils
    from urllib3 import connection as urllib3_connection
    from urllib3 import connectionpool as urllib3_connectionpool
    from urllib3 import exceptions as urllib3_exceptions
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:
    requests = None
    urllib3_connection = urllib3_connectionpool = urllib3_exceptions = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

# Kinds of failure (TransportFailure.kind).
NOT_SENT = "not_sent"  # refused, name resolution, connect timeout: nothing reached the server
TIMEOUT = "timeout"  # sent, no answer in time: it may have been processed
DROPPED = "dropped"  # sent, connection lost before the whole answer: it may have been processed
TLS = "tls"  # certificate or handshake failure: retrying cannot help
INVALID = "invalid"  # the request could not be built (bad URL...): retrying cannot help
TOO_LARGE = "too_large"  # sent, the answer passed max_answer_bytes: asking again would only cost as much again
UNREADABLE = "unreadable"  # sent, the answer came in a content encoding this transport does not decode

# The cap on a JSON answer, decoded: a page of 50 devices is about 100 KB, so this leaves room for
# any real answer and still bounds the memory a hostile or broken server can make a task use.
JSON_ANSWER_LIMIT_BYTES = 32 * 1024 * 1024
# A file answer (an agent log) given a sink is written there as it arrives, up to this many bytes decoded.
FILE_ANSWER_LIMIT_BYTES = 512 * 1024 * 1024
# An error answer (not 2xx) is only ever shown as an excerpt: its first bytes are enough.
ERROR_ANSWER_LIMIT_BYTES = 64 * 1024
READ_CHUNK_BYTES = 64 * 1024
# Decoded here, chunk by chunk, so that the cap holds on the decoded size.
ACCEPT_ENCODING = "gzip, deflate"


class TransportFailure(Exception):
    """No usable HTTP answer. ``kind`` is one of the kinds above; ``reason`` is short and holds no URL."""

    def __init__(self, kind, reason):
        super(TransportFailure, self).__init__("%s: %s" % (kind, reason))
        self.kind = kind
        self.reason = reason

    @property
    def sent(self):
        """Whether the request may have reached the server."""
        return self.kind in (TIMEOUT, DROPPED, TOO_LARGE, UNREADABLE)


class Response(object):
    """An HTTP answer: ``status`` (int), ``reason`` (phrase), headers (looked up case-insensitively), and the body
    as ``content`` (bytes, read once) or ``text`` (decoded from ``content`` on first use). ``streamed`` is the
    number of bytes written to the request's sink instead (``content`` is then empty), None when none was."""

    def __init__(self, status, headers=None, text="", reason="", content=None, streamed=None):
        self.status = status
        self.streamed = streamed
        self.reason = reason or ""
        self.content = content if content is not None else (text or "").encode("utf-8")
        self._text = None if content is not None else (text or "")
        self._headers = dict((str(name).lower(), value) for name, value in (headers or {}).items())

    @property
    def text(self):
        if self._text is None:
            self._text = self.content.decode("utf-8", "replace")
        return self._text

    def excerpt(self, characters):
        """About the first ``characters`` characters of the body, without decoding the rest of it."""
        if self._text is not None:
            return self._text[:characters]
        return self.content[:characters * 4].decode("utf-8", "ignore")[:characters]

    def header(self, name, default=None):
        return self._headers.get(name.lower(), default)


class _NoCredentials(requests.auth.AuthBase if HAS_REQUESTS else object):
    """Sends no credentials. Given as the session's auth, it keeps requests from reading ``~/.netrc``: a
    ``default`` entry there would otherwise go as Basic auth to any api_url."""

    def __call__(self, prepared):
        return prepared


class _Deadline(object):
    """Shuts down every socket of the transport's connections when one request has taken ``seconds``.

    The timeout of ``requests`` bounds each socket read only; a server sending a byte just before each read times
    out would hold the task for ever. The transport sends one request at a time, so every open connection at the
    deadline is the late one or an idle one (which the pool replaces when it finds it closed).
    """

    def __init__(self, connections, seconds):
        self._connections = connections
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self):
        self._timer.start()
        return self

    def __exit__(self, *exc_info):
        self._timer.cancel()

    def _expire(self):
        self.expired = True
        for connection in list(self._connections):
            sock = getattr(connection, "sock", None)
            try:
                descriptor = sock.fileno() if sock is not None else -1
                if descriptor < 0:
                    continue
                # Through a duplicate, so that the object the reading thread uses (an SSL socket) is not touched
                # from this thread: the blocked read simply sees the connection end.
                duplicate = socket.socket(fileno=os.dup(descriptor))
                try:
                    duplicate.shutdown(socket.SHUT_RDWR)
                finally:
                    duplicate.close()
            except (OSError, ValueError):
                pass  # already closed


def _tracking_pool_classes(connections):
    """urllib3 pool classes whose connections add themselves to ``connections`` (a WeakSet) when they connect."""
    def tracked(base):
        def connect(self):
            base.connect(self)
            connections.add(self)
        return type("Tracked" + base.__name__, (base,), dict(connect=connect))

    http_pool = type("TrackedHTTPConnectionPool", (urllib3_connectionpool.HTTPConnectionPool,),
                     dict(ConnectionCls=tracked(urllib3_connection.HTTPConnection)))
    https_pool = type("TrackedHTTPSConnectionPool", (urllib3_connectionpool.HTTPSConnectionPool,),
                      dict(ConnectionCls=tracked(urllib3_connection.HTTPSConnection)))
    return {"http": http_pool, "https": https_pool}


class _TrackingAdapter(requests.adapters.HTTPAdapter if HAS_REQUESTS else object):
    """The standard adapter, with connections the deadline can find (direct and through an HTTP proxy)."""

    def __init__(self, connections):
        self._pool_classes = _tracking_pool_classes(connections)
        super(_TrackingAdapter, self).__init__()

    def init_poolmanager(self, *args, **kwargs):
        super(_TrackingAdapter, self).init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = self._pool_classes

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        manager = super(_TrackingAdapter, self).proxy_manager_for(proxy, **proxy_kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS has pool classes of its own
            manager.pool_classes_by_scheme = self._pool_classes
        return manager


class _Inflater(object):
    """Decodes a gzip or deflate body piece by piece, never producing more than asked for at once."""

    def __init__(self, encoding):
        self._gzip = encoding == "gzip"
        self._wbits = 16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS
        self._decoder = zlib.decompressobj(self._wbits)
        self._started = False

    def decode(self, data, max_length):
        """The decoded pieces of ``data`` (with what is left of earlier data), at most ``max_length`` bytes in all
        and ``READ_CHUNK_BYTES`` at a time, so that the memory used stays near the cap."""
        produced = 0
        while data and produced < max_length:
            room = min(READ_CHUNK_BYTES, max_length - produced)
            try:
                piece = self._decoder.decompress(data, room)
            except zlib.error:
                if self._gzip or self._started:
                    raise
                # "deflate" is sent both with and without the zlib header.
                self._wbits = -zlib.MAX_WBITS
                self._decoder = zlib.decompressobj(self._wbits)
                piece = self._decoder.decompress(data, room)
            self._started = True
            produced += len(piece)
            yield piece
            if self._decoder.eof:
                data = self._decoder.unused_data
                if not (data and self._gzip):
                    break  # the end of the stream (bytes after a deflate stream are ignored, as urllib3 does)
                self._decoder = zlib.decompressobj(self._wbits)  # the next member of a multi-member gzip
            else:
                data = self._decoder.unconsumed_tail

    @property
    def complete(self):
        """Whether the stream ended properly (or none began: an empty body)."""
        return self._decoder.eof or not self._started


def is_json_type(content_type):
    """Whether a Content-Type is JSON's (``application/json``, ``text/json``, ``application/<x>+json``)."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    return media_type in ("application/json", "text/json") or media_type.endswith("+json")


class _Body(object):
    """Where the decoded pieces of an answer go: memory, or a ``sink`` file (emptied first: a request sent again
    starts over)."""

    def __init__(self, sink):
        self.sink = sink
        self._chunks = []
        self._written = 0
        if sink is not None:
            sink.seek(0)
            sink.truncate()

    def add(self, piece):
        if self.sink is None:
            self._chunks.append(piece)
        else:
            self.sink.write(piece)
            self._written += len(piece)

    def result(self, limit):
        """``(content, None)`` from memory (at most ``limit`` bytes), or ``(b"", bytes written)`` to the sink."""
        if self.sink is None:
            return b"".join(self._chunks)[:limit], None
        self.sink.flush()
        return b"", self._written


class RequestsTransport(object):
    """Sends requests through one ``requests.Session`` (connection reuse), with TLS and timeout settings.

    ``proxy_url`` sends every request through that proxy; without it the environment's proxy settings
    (``HTTPS_PROXY``, ``HTTP_PROXY``, ``NO_PROXY``) apply. ``max_answer_bytes`` caps the decoded body of a
    2xx answer.
    """

    def __init__(self, verify=True, timeout=30.0, user_agent=None, proxy_url=None,
                 max_answer_bytes=JSON_ANSWER_LIMIT_BYTES):
        if not HAS_REQUESTS:
            raise RuntimeError("the Python library requests is required")
        self.verify = verify
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self._proxies = {"http": proxy_url, "https": proxy_url} if proxy_url else None
        self._connections = weakref.WeakSet()
        self._session = requests.Session()
        self._session.auth = _NoCredentials()
        adapter = _TrackingAdapter(self._connections)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["Accept"] = "application/json"
        self._session.headers["Accept-Encoding"] = ACCEPT_ENCODING
        if user_agent:
            self._session.headers["User-Agent"] = user_agent

    def request(self, method, url, params=None, json_body=None, form_body=None, sink=None):
        """Send one request and return a ``Response``; raise ``TransportFailure`` when there is no answer.

        ``sink`` (a binary file open for writing and reading): a 2xx answer that is not JSON is written there from its
        start (the sink is emptied first, so a request sent again starts over), up to FILE_ANSWER_LIMIT_BYTES.
        """
        failure = None
        result = None
        with _Deadline(self._connections, self.timeout) as deadline:
            try:
                answer = self._session.request(
                    method, url, params=params, json=json_body, data=form_body, verify=self.verify,
                    timeout=self.timeout, proxies=self._proxies, stream=True,
                    # A redirect would re-send the request elsewhere (POST turned into GET): the client reports it.
                    allow_redirects=False)
                try:
                    content, streamed = self._read_body(answer, sink)
                finally:
                    answer.close()
                result = Response(answer.status_code, dict(answer.headers), reason=answer.reason, content=content,
                                  streamed=streamed)
            except TransportFailure as error:
                failure = error
            except requests.exceptions.RequestException as error:
                failure = classify(error)
            except urllib3_exceptions.HTTPError as error:
                # Raised by the body reads, which go to urllib3 directly.
                failure = classify(error)
            except (OSError, IOError) as error:
                # requests raises a bare OSError when the CA bundle (ca_path, REQUESTS_CA_BUNDLE) cannot be read.
                failure = TransportFailure(TLS, "the CA certificates could not be loaded: %s" % (
                    getattr(error, "strerror", None) or error))
            except zlib.error:
                failure = TransportFailure(DROPPED, "the compressed answer is corrupt or cut short")
            except (ValueError, UnicodeError) as error:
                # An invalid URL (a bad port, a bad host name...) that urlsplit let through.
                failure = TransportFailure(INVALID, "the request could not be built (%s)" % error.__class__.__name__)
        if deadline.expired and result is None and not (failure is not None and failure.kind == NOT_SENT):
            # The watchdog cut the answer short: whatever the cut looked like (a dropped connection, a TLS
            # error), it is a timeout.
            failure = TransportFailure(TIMEOUT, "no complete answer within %g s" % self.timeout)
        if failure is not None:
            # Raised outside the except block, so neither the context nor a traceback carries the URL.
            raise failure
        return result

    def _read_body(self, answer, sink=None):
        """``(decoded body, None)``, read once in chunks, or ``(b"", bytes written)`` for a 2xx answer that is not
        JSON when a ``sink`` is given; a 2xx body past its cap is a ``TOO_LARGE`` failure."""
        encoding = (answer.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding not in ("identity", "gzip", "deflate", "x-gzip"):
            raise TransportFailure(UNREADABLE, "the answer uses the content encoding %r, which is not supported"
                                   % encoding[:40])
        successful = 200 <= answer.status_code < 300
        body = _Body(sink if successful and not is_json_type(answer.headers.get("Content-Type")) else None)
        limit = self.max_answer_bytes if successful else ERROR_ANSWER_LIMIT_BYTES
        if body.sink is not None:
            limit = FILE_ANSWER_LIMIT_BYTES
        declared = answer.headers.get("Content-Length")
        if successful and encoding == "identity" and declared and declared.strip().isdigit() and int(declared) > limit:
            raise self._too_large(limit)
        inflater = None if encoding == "identity" else _Inflater("gzip" if encoding == "x-gzip" else encoding)
        size = 0
        while True:
            data = answer.raw.read(READ_CHUNK_BYTES, decode_content=False)
            if not data:
                if inflater is not None and not inflater.complete:
                    raise TransportFailure(DROPPED, "the compressed answer is corrupt or cut short")
                break
            pieces = [data] if inflater is None else inflater.decode(data, limit + 1 - size)
            for piece in pieces:
                body.add(piece)
                size += len(piece)
            if size > limit:
                if successful:
                    raise self._too_large(limit)
                break  # an error answer is only shown as an excerpt: the rest is not needed
        return body.result(limit)

    def _too_large(self, limit):
        return TransportFailure(TOO_LARGE, "the answer is larger than %s decoded, the limit of one answer"
                                % _size(limit))

    def close(self):
        self._session.close()


def _size(count):
    if count >= 1024 * 1024 and count % (1024 * 1024) == 0:
        return "%d MiB" % (count // (1024 * 1024))
    return "%d bytes" % count


def proxy_for(url, proxy_url=None):
    """The proxy (scheme, host and port: no credentials) a request to ``url`` goes through: ``proxy_url``, else the
    one the environment gives as ``requests`` reads it (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``, minus
    ``NO_PROXY``); None for a direct connection."""
    if not proxy_url:
        if not HAS_REQUESTS:
            return None
        proxy_url = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
        if not proxy_url:
            return None
    parts = urlsplit(proxy_url if "://" in proxy_url else "http://" + proxy_url)
    try:
        port = parts.port
    except ValueError:
        port = None
    return "%s://%s%s" % (parts.scheme, parts.hostname or "", ":%d" % port if port else "")


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
    if _first(error, (urllib3_exceptions.ProtocolError, urllib3_exceptions.DecodeError)):
        # Raised while the body is read (urllib3 directly, not through requests).
        return TransportFailure(DROPPED, _os_reason(error, "the connection was closed before the whole answer"
                                                           " arrived (%s)" % error.__class__.__name__))
    return TransportFailure(INVALID, "the request could not be sent (%s)" % error.__class__.__name__)
