# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access token, shared by the tasks of an account on this machine, so that each task does not spend a
request of the rate limit on a new one.

Every task of a play is its own process. Without this cache a play of five tasks with client credentials fetches
five tokens: five of its ten requests a minute. With it, the first task fetches one and the others reuse it until
it is about to expire (the same margin as ``Client``: 60 s early, or at half-life).

**What the file is worth to someone who reads it: nothing without the client secret.** The ``cryptography``
library does the cryptography:

- HKDF-SHA256 derives, from the client secret and bound to the API URL and the client id, a 256-bit AES key and
  the file name (so a new secret never meets the old secret's file, and the name does not reveal the client id).
  HKDF rather than a password hash: a client secret is a random string the service issued, not a password;
- AES-256-GCM encrypts and authenticates the token and its expiry, with a random 96-bit nonce per write (a few
  writes per token lifetime, far from the limits of random nonces); the format version is authenticated too.
  A file that does not verify (tampered, another secret, truncated, another format) is ignored.

The file is ``version (1 byte) | nonce (12 bytes) | AES-GCM ciphertext and tag``, written atomically (a private
temporary file, then a rename), mode 0600, in the pacer's directory, which must belong to the user
(``pacing.private_directory``). A failure to read or write the cache never fails the task: it fetches a token as
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

from ansible_collections.opswat.it_access.plugins.module_utils.pacing import (
    describe_os_error, private_directory, read_all, state_directory, write_all)

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
        self.path = None
        if not HAS_CRYPTOGRAPHY:
            return
        # The API URL holds no newline (connection options check it), so this joins without ambiguity.
        identity = "\n".join((api_url, client_id)).encode("utf-8")
        secret = client_secret.encode("utf-8")
        self._cipher = AESGCM(_derive(secret, b"encrypt", identity, KEY_BYTES))
        self.path = os.path.join(self.directory, "token-%s" % _derive(secret, b"file name", identity, 32).hex())

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
        header = bytes((FORMAT_VERSION,))
        nonce = os.urandom(NONCE_BYTES)
        plaintext = json.dumps(dict(expires_at=float(expires_at), token=token), sort_keys=True).encode("utf-8")
        content = header + nonce + self._cipher.encrypt(nonce, plaintext, header)
        temporary = "%s.%d-%s.tmp" % (self.path, os.getpid(), os.urandom(4).hex())
        try:
            private_directory(self.directory)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(temporary, flags, 0o600)
            try:
                write_all(descriptor, content)
            finally:
                os.close(descriptor)
            os.rename(temporary, self.path)  # atomic: a reader sees the old file or the new one, never half
            return True
        except (OSError, IOError) as error:
            self.store_error = "%s is unusable (%s)" % (self.directory, describe_os_error(error))
            try:
                os.unlink(temporary)
            except (OSError, IOError):
                pass
            return False

    def discard(self, token):
        """Forget ``token`` (the service rejected it), unless another task has cached a newer one meanwhile."""
        entry = self._read()
        if entry is not None and hmac.compare_digest(entry[0].encode("utf-8"), token.encode("utf-8")):
            try:
                os.unlink(self.path)
            except (OSError, IOError):
                pass

    # ------------------------------------------------------------------ the file format

    def _read(self):
        """The file's entry, expired or not, or None. A symlink in place of the file is not followed."""
        if self._cipher is None:
            return None
        try:
            descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except (OSError, IOError):
            return None
        try:
            return self._open(read_all(descriptor, MAX_FILE_BYTES))
        except (OSError, IOError):
            return None
        finally:
            os.close(descriptor)

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
