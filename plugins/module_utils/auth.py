# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access token: given (``access_token``), fetched with the client credentials (/o/oauth/token), replaced
when the API rejects it (HTTP 401), and cached for the next tasks of the account (``TokenCache``).

**The cache.** The token is shared by the tasks of an account on this machine, so that each task does not spend a
request of the rate limit on a new one.

Every task of a play is its own process. Without this cache a play of five tasks with client credentials fetches
five tokens: five of its ten requests a minute. With it, the first task fetches one and the others reuse it until
it is about to expire (the margin ``Auth`` keeps: 60 s early, or at half-life).

**What the file is worth to someone who reads it: nothing without the client secret.** The ``cryptography``
library does the cryptography:

- HKDF-SHA256 derives, from the client secret and bound to the API URL and the client id, a 256-bit AES key and
  the file name (so a new secret never meets the old secret's file, and the name does not reveal the client id).
  HKDF rather than a password hash: a client secret is a random string the service issued, not a password;
- AES-256-GCM encrypts and authenticates the token and its expiry, with a random 96-bit nonce per write (a few
  writes per token lifetime, far from the limits of random nonces); the format version is authenticated too.
  A file that does not verify (tampered, another secret, truncated, another format) is ignored.

The file is ``version (1 byte) | nonce (12 bytes) | AES-GCM ciphertext and tag``, written atomically (a private
temporary file, then a rename), mode 0600, in the user's state directory, which must belong to the user
(state.py). A failure to read or write the cache never fails the task: it fetches a token as
if there were no cache, and a failure to write says why in ``store_error`` (the client turns it into a warning).
Without ``cryptography`` (a remote host that runs the module may lack it; a controller has it, as ansible-core
depends on it) the cache is off the same way: nothing is read or written, and ``store_error`` says why.
``token_cache: false`` turns it off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hmac
import json
import os
import time

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
except ImportError:
    HAS_CRYPTOGRAPHY = False
else:
    HAS_CRYPTOGRAPHY = True

from ansible_collections.opswat.it_access.plugins.module_utils.errors import AuthenticationError, UnexpectedResponseError
from ansible_collections.opswat.it_access.plugins.module_utils.ratelimit import as_seconds
from ansible_collections.opswat.it_access.plugins.module_utils.state import (
    describe_os_error, read_private_file, remove_file, replace_private_file, state_directory)

TOKEN_PATH = "/o/oauth/token"
TOKEN_REFRESH_MARGIN_SECONDS = 60.0

# Files of an earlier format (the first byte of a JSON text) are not read: a miss, replaced by the next write.
FORMAT_VERSION = 2
LABEL = b"opswat.it_access token cache v2"
NONCE_BYTES = 12
KEY_BYTES = 32
MAX_FILE_BYTES = 64 * 1024  # a token of a few hundred bytes, encrypted: anything larger is garbage

NO_CRYPTOGRAPHY = ("the Python library cryptography is not installed on the host that runs this task"
                   " (pip install cryptography, or set token_cache: false)")

# A token whose answer gave no lifetime (no ``expires_in``) is shared for this long: the length of a play, while a
# token the service has revoked costs only one rejected request (HTTP 401) before a new one is fetched.
UNKNOWN_LIFETIME_SECONDS = 600.0


def _derive(secret, purpose, identity, length):
    # backend: required by cryptography before 3.1, which a remote host may still have; ignored since.
    kdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=b"\n".join((LABEL, purpose, identity)),
               backend=default_backend())
    return kdf.derive(secret)


class TokenCache(object):
    """The cached token of one account (API URL, client id and client secret), in ``directory``.

    ``clock`` is wall-clock time: the expiry is read by other processes.
    """

    def __init__(self, api_url, client_id, client_secret, directory=None, clock=None):
        self.directory = directory or state_directory()
        self._clock = clock or time.time
        self.store_error = None  # why the last store() failed (no secret: a path and the system's message)
        self._cipher = None
        self.name = None
        self.path = None
        if not HAS_CRYPTOGRAPHY:
            return
        # The API URL holds no newline (connection options check it), so this joins without ambiguity.
        identity = "\n".join((api_url, client_id)).encode("utf-8")
        secret = client_secret.encode("utf-8")
        self._cipher = AESGCM(_derive(secret, b"encrypt", identity, KEY_BYTES))
        # The entry's name: a digest that reveals neither the secret nor the client id (a Redis key uses it too).
        self.name = _derive(secret, b"file name", identity, 32).hex()
        self.path = os.path.join(self.directory, "token-%s" % self.name)

    def load(self):
        """``(token, expires_at)`` of a cached token still valid now, or None."""
        entry = self._read()
        if entry is None or entry[1] <= self._clock():
            return None
        return entry

    def store(self, token, expires_at):
        """Keep ``token`` until ``expires_at`` (wall clock). Returns whether it was written."""
        if self._cipher is None:
            self.store_error = NO_CRYPTOGRAPHY
            return False
        return self._write(self._seal(token, expires_at), expires_at)

    def discard(self, token):
        """Forget ``token`` (the service rejected it), unless another task has cached a newer one meanwhile."""
        entry = self._read()
        if entry is not None and hmac.compare_digest(entry[0].encode("utf-8"), token.encode("utf-8")):
            self._remove()

    # ------------------------------------------------------------------ where the entry is kept (here: a file)

    def _write(self, sealed, expires_at):  # pylint: disable=unused-argument  # a store with expiry uses it
        """Keep the ``sealed`` entry; returns whether it was written (else ``store_error`` says why)."""
        try:
            replace_private_file(self.path, sealed)
            return True
        except (OSError, IOError) as error:
            self.store_error = "%s is unusable (%s)" % (self.directory, describe_os_error(error))
            return False

    def _remove(self):
        remove_file(self.path)

    # ------------------------------------------------------------------ the file format

    def _seal(self, token, expires_at):
        """The entry's bytes: ``version | nonce | AES-GCM(token and expiry)``."""
        header = bytes((FORMAT_VERSION,))
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(dict(expires_at=float(expires_at), token=token), sort_keys=True).encode("utf-8")
        return header + nonce + self._cipher.encrypt(nonce, plaintext, header)

    def _read(self):
        """The file's entry, expired or not, or None. A symlink in place of the file is not followed."""
        if self._cipher is None:
            return None
        raw = read_private_file(self.path, MAX_FILE_BYTES)
        return None if raw is None else self._open(raw)

    def _open(self, raw):
        """``(token, expires_at)`` from a file's bytes, or None when they are not an entry this secret wrote."""
        header, nonce, sealed = raw[:1], raw[1:1 + NONCE_BYTES], raw[1 + NONCE_BYTES:]
        if header != bytes((FORMAT_VERSION,)) or len(nonce) != NONCE_BYTES:
            return None
        try:
            entry = json.loads(self._cipher.decrypt(nonce, sealed, header).decode("utf-8"))
        except (InvalidTag, ValueError, UnicodeDecodeError):  # ValueError: JSON, or a file shorter than a tag
            return None
        if not isinstance(entry, dict):
            return None
        token, expires_at = entry.get("token"), entry.get("expires_at")
        if not isinstance(token, str) or not token.strip() or not isinstance(expires_at, float):
            return None
        return token, expires_at


def default_token_cache(config, clock=None):
    """The cache a client uses unless told otherwise: None without client credentials or with ``token_cache`` off.

    ``clock`` must be wall-clock time (``time.time``): the expiry is read by other processes.
    """
    if not (config.token_cache and config.client_id and config.client_secret):
        return None
    return TokenCache(config.api_url, config.client_id, config.client_secret, clock=clock)


class Auth(object):
    """The access token of one session: the given one, a cached one, or one fetched with the client credentials.

    ``call`` is the session's ``call`` (the token request goes through the same pace, retries and metrics);
    ``remember_secret(token)`` registers every token learnt for redaction; ``clock`` is monotonic time for the
    refresh, ``wall_clock`` the time the cache's expiry is written in; ``log``, ``warn`` and ``redact`` are the
    session's and ``requested_path(path)`` names a request as every message does.
    """

    def __init__(self, config, call, remember_secret, token_cache=None, clock=None, wall_clock=None, log=None,
                 warn=None, redact=None, requested_path=None):
        self._config = config
        self._call = call
        self._remember_secret = remember_secret
        self._cache = token_cache
        self._clock = clock or time.monotonic
        self._wall_clock = wall_clock or time.time
        self._log = log or (lambda message: None)
        self._warn = warn or self._log
        self._redact = redact or (lambda text: text)
        self._requested_path = requested_path or (lambda path: path)
        self._token = config.access_token
        self._refresh_at = None  # None: lifetime unknown, used until the API rejects it
        # Where the token in use came from: "config", "cache" or "fetched".
        self._source = "config" if config.access_token else None
        self._cache_rejected = False  # a cached token was rejected: fetch from now on

    def has_client_credentials(self):
        return bool(self._config.client_id and self._config.client_secret)

    def token(self):
        """The token to send now: the current one while it is fresh, else a cached or a newly fetched one."""
        if self._token is not None and (self._refresh_at is None or self._clock() < self._refresh_at):
            return self._token
        if self.has_client_credentials():
            return self._cached_token() or self._fetch_token()
        if self._token is not None:
            return self._token
        raise AuthenticationError("no credentials: give access_token, or client_id with client_secret")

    def replace_rejected(self, token, request, refreshed):
        """The API answered 401 to ``request`` ("POST /path") sent with ``token``; ``refreshed``: whether this call
        already replaced a token. Returns the new ``refreshed`` when the call may be sent again with a new token,
        else raises ``AuthenticationError``.

        Once a call: a rejected cached token does not use up that once (the cache is then left alone by this
        session), so it costs no more than no cache.
        """
        from_cache = self._source == "cache"
        self._reject(token)
        if (from_cache or not refreshed) and self.has_client_credentials():
            self._log("%s: the access token was rejected (HTTP 401); replacing it" % request)
            return refreshed or not from_cache
        raise AuthenticationError(self._redact(
            "%s: the access token was rejected: expired or invalid (HTTP 401)%s"
            % (request, "; a freshly fetched token was rejected too" if refreshed else
               "; give a valid access_token, or client_id and client_secret to fetch one")),
            status=401)

    def _use(self, token, source, refresh_in):
        """Make ``token`` the one sent; ``refresh_in``: seconds until it should be replaced (None: when rejected)."""
        self._remember_secret(token)
        self._token = token
        self._source = source
        self._refresh_at = None if refresh_in is None else self._clock() + refresh_in

    def _cached_token(self):
        """The token another task of the account cached (``TokenCache``), or None."""
        if self._cache is None or self._cache_rejected:
            return None
        entry = self._cache.load()
        if entry is None:
            return None
        token, expires_at = entry
        self._use(token, "cache", expires_at - self._wall_clock())
        self._log("using the access token cached by an earlier task (token_cache)")
        return token

    def _reject(self, token):
        """The service refused ``token``: never send it again, nor leave it in the cache for the next task.

        A given token with no client credentials to replace it stays: the error that follows says what to do.
        """
        if self._source == "cache":
            self._cache_rejected = True
        if self._cache is not None and self._source in ("cache", "fetched"):
            self._cache.discard(token)
        if self.has_client_credentials():
            self._token = None

    def _fetch_token(self):
        form = {"client_id": self._config.client_id, "client_secret": self._config.client_secret,
                "grant_type": "client_credentials"}
        response, data = self._call("POST", TOKEN_PATH, form_body=form, authenticated=False,
                                    accept_statuses=(400, 401))
        token = self._token_of(response, data)
        lifetime = as_seconds(data.get("expires_in"))
        # 60 s early, or at half-life when the lifetime is too short for that margin.
        refresh_in = (max(lifetime - TOKEN_REFRESH_MARGIN_SECONDS, lifetime / 2.0)
                      if lifetime is not None and lifetime > 0 else None)
        self._use(token, "fetched", refresh_in)
        self._log("fetched an access token (expires_in: %s)" % data.get("expires_in"))
        self._share(token, refresh_in)
        return token

    def _token_of(self, response, data):
        """The access token of the token request's answer; ``AuthenticationError`` or ``UnexpectedResponseError``."""
        if response.status in (400, 401):
            raise AuthenticationError(self._redact(
                "POST %s: the client credentials were rejected (HTTP %d): check client_id and client_secret"
                % (self._requested_path(TOKEN_PATH), response.status)), status=response.status)
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token.strip():
            # The body is not quoted: it may hold a token under a name the redactor does not know.
            raise UnexpectedResponseError(self._redact(
                "POST %s: the answer holds no access_token (members: %s)"
                % (self._requested_path(TOKEN_PATH), ", ".join(sorted(data)) if isinstance(data, dict)
                   else type(data).__name__)),
                status=response.status)
        return token

    def _share(self, token, refresh_in):
        """Cache ``token`` for the next tasks of the account; warn when it cannot be."""
        if self._cache is None:
            return
        shared_for = refresh_in if refresh_in is not None else UNKNOWN_LIFETIME_SECONDS
        if not self._cache.store(token, self._wall_clock() + shared_for):
            self._warn("the access token could not be shared with the next tasks of this account (token_cache):"
                       " %s; each task fetches a token of its own"
                       % (getattr(self._cache, "store_error", None) or "%s is unusable" % self._cache.directory))
