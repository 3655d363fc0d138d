# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access token, shared by the tasks of an account on this machine, so that each task does not spend a
request of the rate limit on a new one.

Every task of a play is its own process. Without this cache a play of five tasks with client credentials fetches
five tokens: five of its ten requests a minute. With it, the first task fetches one and the others reuse it until
it is about to expire (the same margin as ``Client``: 60 s early, or at half-life).

**What the file is worth to someone who reads it: nothing without the client secret.** The token is encrypted and
authenticated with keys derived from the client secret, which fetches a token anyway. The construction is the
textbook one, built on the standard library because a cryptography package is not guaranteed on the host:

- ``master = HMAC-SHA256(client_secret, label, API URL, client id)``; from it, by HMAC with distinct labels, an
  encryption key, a MAC key and the file name (so a new secret never meets the old secret's file);
- encryption: HMAC-SHA256 as a pseudo-random function in counter mode, with a random 16-byte nonce per write;
- integrity: encrypt-then-MAC, HMAC-SHA256 over the format version, the expiry, the nonce and the ciphertext,
  compared in constant time. A file that does not verify (tampered, another secret, truncated) is ignored.

The file is written atomically (a private temporary file, then a rename), mode 0600, in the pacer's directory,
which must belong to the user (``pacing.private_directory``). A failure to read or write the cache never fails
the task: it fetches a token as if there were no cache, and a failure to write says why in ``store_error`` (the
client turns it into a warning). ``token_cache: false`` turns it off.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import hashlib
import hmac
import json
import os
import time

from ansible_collections.opswat.it_access.plugins.module_utils.pacing import (
    describe_os_error, private_directory, read_all, state_directory, write_all)

FORMAT_VERSION = 1
LABEL = b"opswat.it_access token cache v1"
NONCE_BYTES = 16
MAX_FILE_BYTES = 64 * 1024  # a token of a few hundred bytes, encrypted and hex-encoded: anything larger is garbage

# A token whose answer gave no lifetime (no ``expires_in``) is shared for this long: the length of a play, while a
# token the service has revoked costs only one rejected request (HTTP 401) before a new one is fetched.
UNKNOWN_LIFETIME_SECONDS = 600.0


def _derive(key, label):
    return hmac.new(key, label, hashlib.sha256).digest()


def _keystream_xor(key, nonce, data):
    out = bytearray()
    for block in range((len(data) + 31) // 32):
        pad = _derive(key, nonce + block.to_bytes(4, "big"))
        chunk = data[block * 32:(block + 1) * 32]
        out.extend(byte ^ pad[index] for index, byte in enumerate(chunk))
    return bytes(out)


class TokenCache(object):
    """The cached token of one account (API URL, client id and client secret), in ``directory``.

    ``clock`` is wall-clock time: the expiry is read by other processes.
    """

    def __init__(self, api_url, client_id, client_secret, directory=None, clock=None):
        identity = "\n".join((api_url, client_id)).encode("utf-8")
        master = _derive(client_secret.encode("utf-8"), LABEL + b"\n" + identity)
        self._encryption_key = _derive(master, b"encrypt")
        self._mac_key = _derive(master, b"authenticate")
        self.directory = directory or state_directory()
        self.path = os.path.join(self.directory, "token-%s" % _derive(master, b"file name").hex())
        self._clock = clock or time.time
        self.store_error = None  # why the last store() failed (no secret: a path and the system's message)

    def load(self):
        """``(token, expires_at)`` of a cached token still valid now, or None."""
        entry = self._read()
        if entry is None or entry[1] <= self._clock():
            return None
        return entry

    def store(self, token, expires_at):
        """Keep ``token`` until ``expires_at`` (wall clock). Returns whether it was written."""
        nonce = os.urandom(NONCE_BYTES)
        ciphertext = _keystream_xor(self._encryption_key, nonce, token.encode("utf-8"))
        entry = dict(version=FORMAT_VERSION, expires_at=float(expires_at), nonce=nonce.hex(), data=ciphertext.hex())
        entry["tag"] = self._tag(entry["expires_at"], nonce, ciphertext).hex()
        temporary = "%s.%d-%s.tmp" % (self.path, os.getpid(), os.urandom(4).hex())
        try:
            private_directory(self.directory)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
            descriptor = os.open(temporary, flags, 0o600)
            try:
                write_all(descriptor, json.dumps(entry, sort_keys=True).encode("ascii"))
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

    def _tag(self, expires_at, nonce, ciphertext):
        header = json.dumps([FORMAT_VERSION, expires_at]).encode("ascii")
        return hmac.new(self._mac_key, header + b"\n" + nonce + ciphertext, hashlib.sha256).digest()

    def _open(self, raw):
        """``(token, expires_at)`` from a file's bytes, or None when they are not an entry this secret wrote."""
        try:
            entry = json.loads(raw.decode("ascii"))
            if not isinstance(entry, dict) or entry.get("version") != FORMAT_VERSION:
                return None
            expires_at = entry["expires_at"]
            if not isinstance(expires_at, float):
                return None
            nonce = binascii.unhexlify(entry["nonce"])
            ciphertext = binascii.unhexlify(entry["data"])
            tag = binascii.unhexlify(entry["tag"])
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, binascii.Error):
            return None
        if not hmac.compare_digest(tag, self._tag(expires_at, nonce, ciphertext)):
            return None
        try:
            token = _keystream_xor(self._encryption_key, nonce, ciphertext).decode("utf-8")
        except UnicodeDecodeError:
            return None
        return (token, expires_at) if token.strip() else None


def default_token_cache(config, clock=None):
    """The cache a client uses unless told otherwise: None without client credentials or with ``token_cache`` off.

    ``clock`` must be wall-clock time (``time.time``): the expiry is read by other processes.
    """
    if not (config.token_cache and config.client_id and config.client_secret):
        return None
    return TokenCache(config.api_url, config.client_id, config.client_secret, clock=clock)
