# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The access token: given, fetched, replaced after a 401, and cached for the next tasks (what the cache's
file holds: nothing usable without the client secret)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import stat
import sys
import tempfile

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ansible_collections.opswat.it_access.plugins.module_utils import auth as auth_module
from ansible_collections.opswat.it_access.plugins.module_utils import redis_store
from ansible_collections.opswat.it_access.plugins.module_utils.auth import TokenCache, default_token_cache
from ansible_collections.opswat.it_access.plugins.module_utils.errors import AuthenticationError, UnexpectedResponseError
from ansible_collections.opswat.it_access.plugins.module_utils.state import state_directory
from ansible_collections.opswat.it_access.tests.unit.plugins.module_utils.fake_transport import (
    ACCESS_TOKEN, ACCOUNT, API_URL, CLIENT_ID, CLIENT_SECRET, FETCHED_TOKEN, OMITTED, TOKEN, TOKEN_FORM, credentials,
    expect_token, make_config)


# ---------------------------------------------------------------------- given and fetched tokens


def test_client_credentials_fetch_a_token_and_report_it(harness):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    client = harness.client(**credentials())
    assert client.account.get() == {"ok": 1}
    assert harness.secrets == [FETCHED_TOKEN]
    assert client.metrics == dict(requests=2, throttled=0, retries=0, waited_seconds=0.0)
    assert FETCHED_TOKEN not in client.redact("token %s" % FETCHED_TOKEN)


def test_token_is_reused_until_60_seconds_before_it_expires(harness):
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    expect_token(harness, token="second-token-SECRET", expires_in=3600)
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.account.get()
    harness.clock.now += 3600 - 62
    client.account.get()
    harness.clock.now += 3
    client.account.get()
    assert harness.secrets == [FETCHED_TOKEN, "second-token-SECRET"]


def test_short_token_lifetime_is_refreshed_at_half_life(harness):
    expect_token(harness, expires_in=100)
    harness.expect("POST", ACCOUNT, body={})
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token="second-token-SECRET", expires_in=100)
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.account.get()  # token fetched at t0 (the account request then waits 1 s of pacing)
    harness.clock.now += 48
    client.account.get()  # t0 + 49 < t0 + 50
    harness.clock.now += 2
    client.account.get()


@pytest.mark.parametrize("expires_in", [None, "junk", -5, 0])
def test_token_without_a_usable_lifetime_is_used_until_rejected(harness, expires_in):
    expect_token(harness, expires_in=expires_in)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    client = harness.client(**credentials())
    client.account.get()
    harness.clock.now += 10 ** 6
    client.account.get()


def test_token_expires_in_as_a_string(harness):
    expect_token(harness, expires_in="100")
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token="second-token-SECRET")
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", body={})
    client = harness.client(**credentials())
    client.account.get()
    harness.clock.now += 60
    client.account.get()


def test_401_fetches_a_new_token_and_retries_once(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401, body={"error": "invalid_token"})
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    client = harness.client(**credentials(access_token=ACCESS_TOKEN))
    assert client.account.get() == {"ok": 1}
    assert client.metrics == dict(requests=3, throttled=0, retries=1, waited_seconds=0.0)
    assert harness.secrets == [FETCHED_TOKEN]


def test_401_twice_is_an_authentication_error(harness):
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, status=401)
    expect_token(harness, token="second-token-SECRET")
    harness.expect("POST", ACCOUNT, token="second-token-SECRET", status=401)
    with pytest.raises(AuthenticationError, match="the access token was rejected: expired or invalid") as caught:
        harness.client(**credentials()).account.get()
    assert "freshly fetched" in str(caught.value)
    assert caught.value.details["status"] == 401


@pytest.mark.parametrize("status", [400, 401])
def test_bad_client_credentials(harness, status):
    harness.expect("POST", TOKEN, form=TOKEN_FORM, status=status, body={"error": "invalid_client"})
    client = harness.client(**credentials())
    with pytest.raises(AuthenticationError, match="the client credentials were rejected") as caught:
        client.account.get()
    assert "HTTP %d" % status in str(caught.value)
    assert client.metrics["requests"] == 1


def test_access_token_only_and_401(harness):
    harness.expect("POST", ACCOUNT, token=ACCESS_TOKEN, status=401)
    client = harness.client()
    with pytest.raises(AuthenticationError, match="the access token was rejected: expired or invalid"):
        client.account.get()
    assert client.metrics["requests"] == 1


@pytest.mark.parametrize("answer", [{"token_type": "bearer"}, {"access_token": ""}, ["x"], {"access_token": 5}])
def test_token_answer_without_a_token(harness, answer):
    harness.expect("POST", TOKEN, body=answer)
    with pytest.raises(UnexpectedResponseError, match="holds no access_token"):
        harness.client(**credentials()).account.get()


def test_token_request_is_paced_and_retried_like_any_read(harness):
    harness.expect("POST", TOKEN, status=503)
    expect_token(harness)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    client = harness.client(**credentials())
    client.account.get()
    times = [call.time for call in harness.transport.calls]
    assert [later - earlier for earlier, later in zip(times, times[1:])] == [1.0, 1.0]
    assert client.metrics == dict(requests=3, throttled=0, retries=1, waited_seconds=1.0)


def test_no_credentials_at_all(harness):
    client = harness.client(access_token=None)
    with pytest.raises(AuthenticationError, match="no credentials"):
        client.account.get()


# ---------------------------------------------------------------------- the cache's file


SECOND_TOKEN = "second-token-7f7f7f-SECRET"


NOW = 1700000000.0


def cache(secret=CLIENT_SECRET, api_url=API_URL, client_id=CLIENT_ID, now=NOW):
    return TokenCache(api_url, client_id, secret, clock=lambda: now)


def file_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def write_file(path, content):
    with open(path, "wb") as handle:
        handle.write(content)


def test_a_stored_token_is_read_back_until_it_expires():
    cache().store(FETCHED_TOKEN, NOW + 100)
    assert cache().load() == (FETCHED_TOKEN, NOW + 100)
    assert cache(now=NOW + 99.9).load() == (FETCHED_TOKEN, NOW + 100)
    assert cache(now=NOW + 100).load() is None


def test_the_file_is_aes_gcm_with_a_key_derived_by_hkdf_from_the_secret_url_and_client_id():
    """Read back here with the cryptography library alone: the format is the documented one, not a cipher of our
    own."""
    stored = cache()
    stored.store(FETCHED_TOKEN, NOW + 100)
    content = file_bytes(stored.path)
    version, nonce, sealed = content[:1], content[1:13], content[13:]
    info = b"\n".join((b"opswat.it_access token cache v2", b"encrypt", ("%s\n%s" % (API_URL, CLIENT_ID)).encode()))
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(CLIENT_SECRET.encode())
    assert version == b"\x02"
    assert json.loads(AESGCM(key).decrypt(nonce, sealed, version)) == dict(expires_at=NOW + 100, token=FETCHED_TOKEN)


def test_the_file_is_private_and_holds_neither_the_token_nor_the_secret_nor_the_client_id():
    stored = cache()
    assert stored.store(FETCHED_TOKEN, NOW + 100)
    assert os.path.dirname(stored.path) == state_directory()
    assert stat.S_IMODE(os.stat(stored.path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(state_directory()).st_mode) == 0o700
    content = file_bytes(stored.path)
    for secret in (FETCHED_TOKEN, CLIENT_SECRET, CLIENT_ID, FETCHED_TOKEN.encode("ascii").hex()):
        assert secret.encode("ascii") not in content
        assert secret not in os.path.basename(stored.path)
    assert os.listdir(state_directory()) == [os.path.basename(stored.path)]  # no temporary file left behind


def test_two_writes_of_the_same_token_differ_a_fresh_nonce_each_time():
    stored = cache()
    stored.store(FETCHED_TOKEN, NOW + 100)
    first = file_bytes(stored.path)
    stored.store(FETCHED_TOKEN, NOW + 100)
    second = file_bytes(stored.path)
    assert first[1:13] != second[1:13] and first[13:] != second[13:]


@pytest.mark.parametrize("other", [dict(secret="another-secret"), dict(api_url="https://other.example.test"),
                                   dict(client_id="another-client")])
def test_another_secret_url_or_client_has_its_own_file_and_cannot_read_this_one(other):
    mine = cache()
    mine.store(FETCHED_TOKEN, NOW + 100)
    theirs = cache(**other)
    assert theirs.path != mine.path
    assert theirs.load() is None
    # Even pointed at this file, the other key (a wrong key) does not decrypt it.
    theirs.path = mine.path
    assert theirs.load() is None


def flip(content, index):
    return content[:index] + bytes((content[index] ^ 0x01,)) + content[index + 1:]


@pytest.mark.parametrize("change", [
    lambda content: flip(content, 20),  # the ciphertext (which holds the expiry: a tampered expiry is refused too)
    lambda content: flip(content, len(content) - 1),  # the tag
    lambda content: flip(content, 1),  # the nonce
    lambda content: b"\x01" + content[1:],  # another version byte
    lambda content: b"\x03" + content[1:],
    lambda content: content[:-1],  # truncated
    lambda content: content[:13 + 15],  # shorter than a tag
    lambda content: content[:13],  # the header alone
    lambda content: content[:5],
    lambda content: content + b"\x00",  # extended
], ids=["ciphertext", "tag", "nonce", "version-1", "version-3", "truncated", "shorter-than-a-tag", "header-only",
        "part-of-the-nonce", "extended"])
def test_a_tampered_or_truncated_file_is_ignored(change):
    stored = cache()
    stored.store(FETCHED_TOKEN, NOW + 100)
    write_file(stored.path, change(file_bytes(stored.path)))
    assert stored.load() is None


@pytest.mark.parametrize("content", [b"", b"\x02", b"\x02" + b"\x00" * 40, b"{", b"[]", b"null", b"\xff\xfe",
                                     b"\x02" * (70 * 1024)])
def test_a_garbage_file_is_ignored(content):
    stored = cache()
    os.makedirs(stored.directory, 0o700)
    write_file(stored.path, content)
    assert stored.load() is None


def test_a_file_of_the_earlier_format_is_a_miss_and_is_replaced():
    stored = cache()
    os.makedirs(stored.directory, 0o700)
    earlier = dict(version=1, expires_at=NOW + 100, nonce="00" * 16, data="11" * 20, tag="22" * 32)
    write_file(stored.path, json.dumps(earlier, sort_keys=True).encode("ascii"))
    assert stored.load() is None
    assert stored.store(SECOND_TOKEN, NOW + 100)
    assert stored.load() == (SECOND_TOKEN, NOW + 100)


def test_an_entry_of_the_right_key_but_not_a_token_is_ignored():
    """Authentic bytes of another shape (no token, an empty one, an expiry that is not a number) are not a token."""
    stored = cache()
    stored.store(FETCHED_TOKEN, NOW + 100)
    key_cipher = stored._cipher  # pylint: disable=protected-access
    for plaintext in (b"[]", b"{}", b'{"token": " ", "expires_at": 1e99}', b'{"token": "t", "expires_at": "1"}',
                      b"\xff"):
        nonce = os.urandom(12)
        write_file(stored.path, b"\x02" + nonce + key_cipher.encrypt(nonce, plaintext, b"\x02"))
        assert stored.load() is None


def test_a_symlink_in_place_of_the_file_is_not_followed(tmp_path):
    real = TokenCache(API_URL, CLIENT_ID, CLIENT_SECRET, directory=str(tmp_path), clock=lambda: NOW)
    real.store(FETCHED_TOKEN, NOW + 100)  # a valid entry, for these very keys
    stored = cache()
    os.makedirs(stored.directory, 0o700)
    os.symlink(real.path, stored.path)
    assert stored.load() is None


def test_an_unusable_directory_means_no_cache_not_an_error(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    unusable = TokenCache(API_URL, CLIENT_ID, CLIENT_SECRET, directory=str(blocked), clock=lambda: NOW)
    assert unusable.store(FETCHED_TOKEN, NOW + 100) is False
    assert unusable.load() is None
    unusable.discard(FETCHED_TOKEN)


def test_discard_removes_only_the_rejected_token():
    stored = cache()
    stored.store(SECOND_TOKEN, NOW + 100)  # another task cached a newer token meanwhile
    stored.discard(FETCHED_TOKEN)
    assert stored.load() == (SECOND_TOKEN, NOW + 100)
    stored.discard(SECOND_TOKEN)
    assert stored.load() is None and not os.path.exists(stored.path)


def test_no_cache_without_client_credentials_or_when_turned_off():
    assert default_token_cache(make_config(token_cache=True)) is None  # access_token alone: nothing to share
    assert default_token_cache(make_config(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                           token_cache=False)) is None
    enabled = default_token_cache(make_config(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
                                              token_cache=True))
    assert isinstance(enabled, TokenCache) and enabled.directory == state_directory()


@pytest.fixture
def without_cryptography(monkeypatch):
    """A function that loads auth.py as it loads on a host without the cryptography library: a fresh copy of
    the module, imported while every ``cryptography`` import raises ImportError (until the test ends)."""
    def load():
        for name in [name for name in sys.modules if name == "cryptography" or name.startswith("cryptography.")]:
            monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: importing it raises ImportError
        monkeypatch.setitem(sys.modules, "cryptography", None)
        spec = importlib.util.spec_from_file_location("auth_without_cryptography", auth_module.__file__)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load


def test_without_cryptography_the_cache_reads_and_writes_nothing_and_says_why(without_cryptography):
    written = cache()
    written.store(FETCHED_TOKEN, NOW + 100)  # a valid file, written where cryptography is present
    content = file_bytes(written.path)
    without_cryptography = without_cryptography()
    assert without_cryptography.HAS_CRYPTOGRAPHY is False
    unavailable = without_cryptography.TokenCache(API_URL, CLIENT_ID, CLIENT_SECRET, clock=lambda: NOW)
    assert unavailable.load() is None
    assert unavailable.store(SECOND_TOKEN, NOW + 100) is False
    assert unavailable.store_error == without_cryptography.NO_CRYPTOGRAPHY
    assert "cryptography" in unavailable.store_error and "token_cache: false" in unavailable.store_error
    unavailable.discard(FETCHED_TOKEN)
    assert file_bytes(written.path) == content  # neither replaced nor removed


# ---------------------------------------------------------------------- tasks sharing the cache


def shared_client(harness, **overrides):
    """A client as a module builds it, with the cache on (in this test's temp directory)."""
    values = dict(access_token=None, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, token_cache=True)
    values.update(overrides)
    return harness.client(**values)


def test_the_next_task_reuses_the_token_and_sends_no_token_request(harness):
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    first = shared_client(harness)
    first.account.get()
    second = shared_client(harness)  # the next task: a new process, a new client
    second.account.get()
    assert first.metrics["requests"] == 2 and second.metrics["requests"] == 1
    # The reused token is a secret of the second task too: registered and redacted.
    assert harness.secrets == [FETCHED_TOKEN, FETCHED_TOKEN]
    assert FETCHED_TOKEN not in second.redact("?access_token=x %s" % FETCHED_TOKEN)
    reused = "using the access token cached by an earlier task (token_cache)"
    assert [line for line in harness.log_lines if line.endswith(reused)]
    assert not [line for line in harness.log_lines if FETCHED_TOKEN in line or CLIENT_SECRET in line]


def test_a_cached_token_is_replaced_60_seconds_before_it_expires(harness):
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    expect_token(harness, token=SECOND_TOKEN, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, body={})
    shared_client(harness).account.get()
    harness.clock.now += 3600 - 59  # past the refresh time the first task computed
    shared_client(harness).account.get()
    shared_client(harness).account.get()  # the replacement is shared in its turn


def test_a_token_without_lifetime_is_shared_for_ten_minutes(harness):
    expect_token(harness, expires_in=OMITTED)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    expect_token(harness, token=SECOND_TOKEN, expires_in=OMITTED)
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, body={})
    shared_client(harness).account.get()
    harness.clock.now += auth_module.UNKNOWN_LIFETIME_SECONDS - 5
    shared_client(harness).account.get()
    harness.clock.now += 10
    shared_client(harness).account.get()


def test_a_rejected_cached_token_is_discarded_and_replaced_for_every_later_task(harness):
    cache(now=harness.clock()).store("revoked-token-SECRET", harness.clock() + 3000)
    harness.expect("POST", ACCOUNT, token="revoked-token-SECRET", status=401, body={"error": "invalid_token"})
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={})
    client = shared_client(harness)
    assert client.account.get() == {"ok": 1}
    assert client.metrics == dict(requests=3, throttled=0, retries=1, waited_seconds=0.0)
    shared_client(harness).account.get()  # the next task gets the new token from the cache
    assert "revoked-token-SECRET" in harness.secrets


def test_a_rejected_cached_token_does_not_use_up_the_refresh_of_a_call(harness):
    """Cached token rejected, then a fetched one rejected on its first use and fetched again: the same two fetches
    as without the cache, and then the call fails, saying so."""
    cache(now=harness.clock()).store("revoked-token-SECRET", harness.clock() + 3000)
    harness.expect("POST", ACCOUNT, token="revoked-token-SECRET", status=401, body={})
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, status=401, body={})
    expect_token(harness, token=SECOND_TOKEN, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, status=401, body={})
    client = shared_client(harness)
    with pytest.raises(AuthenticationError) as error:
        client.account.get()
    assert "a freshly fetched token was rejected too" in error.value.message
    assert client.metrics["requests"] == 5
    assert cache(now=harness.clock()).load() is None  # no rejected token is left for the next task


def test_a_given_access_token_rejected_falls_back_on_the_cached_one(harness):
    cache(now=harness.clock()).store(FETCHED_TOKEN, harness.clock() + 3000)
    harness.expect("POST", ACCOUNT, token="stale-given-token-SECRET", status=401, body={})
    harness.expect("POST", ACCOUNT, token=FETCHED_TOKEN, body={"ok": 1})
    client = shared_client(harness, access_token="stale-given-token-SECRET")
    assert client.account.get() == {"ok": 1}
    assert client.metrics["requests"] == 2  # no token request: another task's token served


def test_with_the_cache_off_every_task_fetches_and_nothing_is_written(harness):
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token=SECOND_TOKEN, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, body={})
    shared_client(harness, token_cache=False).account.get()
    shared_client(harness, token_cache=False).account.get()
    assert not os.path.exists(state_directory()) or not [
        name for name in os.listdir(state_directory()) if name.startswith("token-")]


def test_a_cache_that_cannot_be_written_costs_a_warning_not_the_task(harness, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(blocked))  # the state directory cannot be created
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, body={"ok": 1})
    assert shared_client(harness).account.get() == {"ok": 1}
    assert [line for line in harness.log_lines if "could not be shared with the next tasks" in line]


def test_without_cryptography_every_task_fetches_its_token_and_warns(harness, monkeypatch, without_cryptography):
    monkeypatch.setattr(redis_store, "default_token_cache", without_cryptography().default_token_cache)
    expect_token(harness, expires_in=3600)
    harness.expect("POST", ACCOUNT, body={})
    expect_token(harness, token=SECOND_TOKEN, expires_in=3600)
    harness.expect("POST", ACCOUNT, token=SECOND_TOKEN, body={})
    shared_client(harness).account.get()
    shared_client(harness).account.get()  # the next task: no token to reuse
    assert not os.path.exists(state_directory()) or not [
        name for name in os.listdir(state_directory()) if name.startswith("token-")]
    warnings = [line for line in harness.log_lines if "could not be shared with the next tasks" in line]
    assert len(warnings) == 2 and all("cryptography is not installed" in line for line in warnings)
