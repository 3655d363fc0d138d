# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options of every module (DOCUMENTATION) and plugin (PLUGIN, with env: entries).

GENERATED from plugins/module_utils/connection.py by tools/generate_doc_fragment.py (make fragments): do not edit.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  access_token:
    description:
      - An OAuth access token obtained beforehand.
      - Either O(access_token), or O(client_id) with O(client_secret), is required.
      - When both are given, the token is used first and the client credentials fetch a new one if it is rejected.
      - 'Environment variable: E(OPSWAT_ACCESS_TOKEN).'
    type: str
  api_url:
    default: https://gears.opswat.com
    description:
      - Base URL of the IT Access tenant, without the C(/o/api) path.
      - Tenants other than the default host use their own host, for example C(https://product.my.us.opswat.com).
      - The access token travels in the query string, so a plain C(http://) URL draws a warning unless it goes directly
        to loopback (not to another host, nor through a proxy).
      - The port, if given, must be from 1 to 65535; a user name or password in the URL is refused.
      - 'Environment variable: E(OPSWAT_API_URL).'
    type: str
  ca_path:
    description:
      - A PEM file of CA certificates to verify O(api_url) with, instead of the system store.
      - 'Environment variable: E(OPSWAT_CA_PATH).'
    type: path
  client_id:
    description:
      - Client key of the OAuth application registered in the IT Access console.
      - 'Environment variable: E(OPSWAT_CLIENT_ID).'
    type: str
  client_secret:
    description:
      - Client secret of the OAuth application. Required with O(client_id).
      - 'Environment variable: E(OPSWAT_CLIENT_SECRET).'
    type: str
  max_listing_pages:
    default: 10000
    description:
      - The most pages one listing (of devices, or of groups) may request. A listing that has not ended by then
        fails, so a service that never signals the end cannot keep a task running for ever.
      - 'The default allows 500,000 devices at 50 a page: raise it only for a larger account, or for listings of
        fewer devices a page (C(page_size) below 50).'
      - Independently of it, a listing fails at once when a page brings no device it has not listed before, or when
        a page of groups repeats an earlier page.
      - 'Environment variable: E(OPSWAT_MAX_LISTING_PAGES).'
    type: int
  proxy_url:
    description:
      - URL of the HTTP proxy every request goes through, for example C(http://proxy.example.com:3128).
      - Without it, the proxy environment variables apply as for any Python program (C(HTTPS_PROXY), C(HTTP_PROXY),
        C(NO_PROXY)). With it, every request goes through this proxy, whatever C(NO_PROXY) says.
      - 'With a plain C(http://) O(api_url), the proxy sees the access token: a warning says so.'
      - 'Environment variable: E(OPSWAT_PROXY_URL).'
    type: str
  rate_limit_key:
    description:
      - The name of the account's pace, instead of one derived from O(api_url) and O(client_id) (or the access token).
        Give it the same value in every task whose requests count against one limit, for example two OAuth applications
        of one account.
      - Only a hash of it is stored, locally or in O(rate_limit_store).
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_KEY).'
    type: str
  rate_limit_store:
    default: local
    description:
      - Where the pace (O(requests_per_minute)) and the cached access token (O(token_cache)) of the account are
        shared.
      - V(local) (the default) shares them between the tasks of this machine, through files of the user's own under
        the system temp directory.
      - 'A C(redis://host:port/db) or C(rediss://) (TLS) URL shares them, per account, with every machine that uses
        the same Redis: AWX or Automation Controller jobs, parallel CI runners, event-driven jobs. Each request
        then costs four Redis round trips (a few more when it waits its turn). The pace is reserved atomically in
        Redis'' own time; when clients of one account set different O(requests_per_minute), the most conservative
        is in force for all.'
      - It needs the Python library C(redis) on the host that runs the task (the collection's execution environment
        has it); without it, a Redis URL fails the task before any request.
      - When Redis cannot be reached within 1 second, answers an error, or has not made a reservation within 2 seconds,
        the task goes on with V(local) and warns; the next request tries Redis again.
      - A password may be given in the URL (C(redis://:password@host)) or, better, in O(rate_limit_store_password);
        it never appears in a message.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE).'
    type: str
  rate_limit_store_ca_path:
    description:
      - A PEM file of CA certificates to verify a C(rediss://) O(rate_limit_store) with, instead of the system store.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE_CA_PATH).'
    type: path
  rate_limit_store_password:
    description:
      - The password of the Redis of O(rate_limit_store) (Redis C(AUTH)). A password in the URL takes precedence.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE_PASSWORD).'
    type: str
  rate_limit_timeout:
    default: 300
    description:
      - Total seconds a task may wait on 429 answers caused by other clients of the account.
      - 'V(0) never waits: the first 429 fails the task. V(-1) waits without bound. Otherwise a finite number of
        seconds greater than 0.'
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_TIMEOUT).'
    type: float
  rate_limit_window:
    default: 60
    description:
      - Length, in seconds, of the window in which the service counts requests against O(requests_per_minute).
      - 'Leave it at V(60) for the real service. Set it together with O(requests_per_minute) to test against a simulator
        whose limit is scaled: V(600) requests a minute and a V(1) second window allow 10 requests a 1-second window.'
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_WINDOW).'
    type: float
  requests_per_minute:
    default: 10
    description:
      - The number of requests a minute the service allows the account. The collection paces its requests to stay
        within it, so that its own traffic never draws a 429 answer.
      - The pace is shared by every task of the same account on the same machine.
      - The service allows 10; raise it only for a tenant with a higher limit or for the simulator.
      - A whole number from 1 to 1000000000.
      - 'Environment variable: E(OPSWAT_REQUESTS_PER_MINUTE).'
    type: int
  timeout:
    default: 30
    description:
      - Seconds one HTTP request may take, from connecting to the last byte of the answer. A request that takes
        longer fails as a timeout (a read is retried, a device action is not).
      - A number of seconds greater than 0, at most 86400.
      - 'Environment variable: E(OPSWAT_TIMEOUT).'
    type: float
  token_cache:
    default: true
    description:
      - Whether the tasks of the same account on this machine share the access token they fetch with the client
        credentials, so that each task does not spend one of the O(requests_per_minute) on a new token. Without
        it, a play of five tasks fetches five tokens.
      - The token is kept, until shortly before it expires, in a file only the user can read, under the system temp
        directory. It is encrypted with a key derived from O(client_secret), so the file is of no use without the
        secret. A cached token the service rejects is discarded and a new one fetched.
      - 'It needs the Python library C(cryptography) on the host that runs the task (a controller has it: ansible-core
        depends on it). Without it the cache is off: each task fetches its own token and warns that it could not
        share it.'
      - Set it to V(false) to fetch a token in every task and write no token to disk. It has no effect with O(access_token)
        alone.
      - 'Environment variable: E(OPSWAT_TOKEN_CACHE).'
    type: bool
  validate_certs:
    default: true
    description:
      - Whether to verify the TLS certificate of O(api_url).
      - 'Environment variable: E(OPSWAT_VALIDATE_CERTS).'
    type: bool
"""

    PLUGIN = r"""
options:
  access_token:
    description:
      - An OAuth access token obtained beforehand.
      - Either O(access_token), or O(client_id) with O(client_secret), is required.
      - When both are given, the token is used first and the client credentials fetch a new one if it is rejected.
      - 'Environment variable: E(OPSWAT_ACCESS_TOKEN).'
    env:
      - name: OPSWAT_ACCESS_TOKEN
    type: str
  api_url:
    default: https://gears.opswat.com
    description:
      - Base URL of the IT Access tenant, without the C(/o/api) path.
      - Tenants other than the default host use their own host, for example C(https://product.my.us.opswat.com).
      - The access token travels in the query string, so a plain C(http://) URL draws a warning unless it goes directly
        to loopback (not to another host, nor through a proxy).
      - The port, if given, must be from 1 to 65535; a user name or password in the URL is refused.
      - 'Environment variable: E(OPSWAT_API_URL).'
    env:
      - name: OPSWAT_API_URL
    type: str
  ca_path:
    description:
      - A PEM file of CA certificates to verify O(api_url) with, instead of the system store.
      - 'Environment variable: E(OPSWAT_CA_PATH).'
    env:
      - name: OPSWAT_CA_PATH
    type: path
  client_id:
    description:
      - Client key of the OAuth application registered in the IT Access console.
      - 'Environment variable: E(OPSWAT_CLIENT_ID).'
    env:
      - name: OPSWAT_CLIENT_ID
    type: str
  client_secret:
    description:
      - Client secret of the OAuth application. Required with O(client_id).
      - 'Environment variable: E(OPSWAT_CLIENT_SECRET).'
    env:
      - name: OPSWAT_CLIENT_SECRET
    type: str
  max_listing_pages:
    default: 10000
    description:
      - The most pages one listing (of devices, or of groups) may request. A listing that has not ended by then
        fails, so a service that never signals the end cannot keep a task running for ever.
      - 'The default allows 500,000 devices at 50 a page: raise it only for a larger account, or for listings of
        fewer devices a page (C(page_size) below 50).'
      - Independently of it, a listing fails at once when a page brings no device it has not listed before, or when
        a page of groups repeats an earlier page.
      - 'Environment variable: E(OPSWAT_MAX_LISTING_PAGES).'
    env:
      - name: OPSWAT_MAX_LISTING_PAGES
    type: int
  proxy_url:
    description:
      - URL of the HTTP proxy every request goes through, for example C(http://proxy.example.com:3128).
      - Without it, the proxy environment variables apply as for any Python program (C(HTTPS_PROXY), C(HTTP_PROXY),
        C(NO_PROXY)). With it, every request goes through this proxy, whatever C(NO_PROXY) says.
      - 'With a plain C(http://) O(api_url), the proxy sees the access token: a warning says so.'
      - 'Environment variable: E(OPSWAT_PROXY_URL).'
    env:
      - name: OPSWAT_PROXY_URL
    type: str
  rate_limit_key:
    description:
      - The name of the account's pace, instead of one derived from O(api_url) and O(client_id) (or the access token).
        Give it the same value in every task whose requests count against one limit, for example two OAuth applications
        of one account.
      - Only a hash of it is stored, locally or in O(rate_limit_store).
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_KEY).'
    env:
      - name: OPSWAT_RATE_LIMIT_KEY
    type: str
  rate_limit_store:
    default: local
    description:
      - Where the pace (O(requests_per_minute)) and the cached access token (O(token_cache)) of the account are
        shared.
      - V(local) (the default) shares them between the tasks of this machine, through files of the user's own under
        the system temp directory.
      - 'A C(redis://host:port/db) or C(rediss://) (TLS) URL shares them, per account, with every machine that uses
        the same Redis: AWX or Automation Controller jobs, parallel CI runners, event-driven jobs. Each request
        then costs four Redis round trips (a few more when it waits its turn). The pace is reserved atomically in
        Redis'' own time; when clients of one account set different O(requests_per_minute), the most conservative
        is in force for all.'
      - It needs the Python library C(redis) on the host that runs the task (the collection's execution environment
        has it); without it, a Redis URL fails the task before any request.
      - When Redis cannot be reached within 1 second, answers an error, or has not made a reservation within 2 seconds,
        the task goes on with V(local) and warns; the next request tries Redis again.
      - A password may be given in the URL (C(redis://:password@host)) or, better, in O(rate_limit_store_password);
        it never appears in a message.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE).'
    env:
      - name: OPSWAT_RATE_LIMIT_STORE
    type: str
  rate_limit_store_ca_path:
    description:
      - A PEM file of CA certificates to verify a C(rediss://) O(rate_limit_store) with, instead of the system store.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE_CA_PATH).'
    env:
      - name: OPSWAT_RATE_LIMIT_STORE_CA_PATH
    type: path
  rate_limit_store_password:
    description:
      - The password of the Redis of O(rate_limit_store) (Redis C(AUTH)). A password in the URL takes precedence.
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_STORE_PASSWORD).'
    env:
      - name: OPSWAT_RATE_LIMIT_STORE_PASSWORD
    type: str
  rate_limit_timeout:
    default: 300
    description:
      - Total seconds a task may wait on 429 answers caused by other clients of the account.
      - 'V(0) never waits: the first 429 fails the task. V(-1) waits without bound. Otherwise a finite number of
        seconds greater than 0.'
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_TIMEOUT).'
    env:
      - name: OPSWAT_RATE_LIMIT_TIMEOUT
    type: float
  rate_limit_window:
    default: 60
    description:
      - Length, in seconds, of the window in which the service counts requests against O(requests_per_minute).
      - 'Leave it at V(60) for the real service. Set it together with O(requests_per_minute) to test against a simulator
        whose limit is scaled: V(600) requests a minute and a V(1) second window allow 10 requests a 1-second window.'
      - 'Environment variable: E(OPSWAT_RATE_LIMIT_WINDOW).'
    env:
      - name: OPSWAT_RATE_LIMIT_WINDOW
    type: float
  requests_per_minute:
    default: 10
    description:
      - The number of requests a minute the service allows the account. The collection paces its requests to stay
        within it, so that its own traffic never draws a 429 answer.
      - The pace is shared by every task of the same account on the same machine.
      - The service allows 10; raise it only for a tenant with a higher limit or for the simulator.
      - A whole number from 1 to 1000000000.
      - 'Environment variable: E(OPSWAT_REQUESTS_PER_MINUTE).'
    env:
      - name: OPSWAT_REQUESTS_PER_MINUTE
    type: int
  timeout:
    default: 30
    description:
      - Seconds one HTTP request may take, from connecting to the last byte of the answer. A request that takes
        longer fails as a timeout (a read is retried, a device action is not).
      - A number of seconds greater than 0, at most 86400.
      - 'Environment variable: E(OPSWAT_TIMEOUT).'
    env:
      - name: OPSWAT_TIMEOUT
    type: float
  token_cache:
    default: true
    description:
      - Whether the tasks of the same account on this machine share the access token they fetch with the client
        credentials, so that each task does not spend one of the O(requests_per_minute) on a new token. Without
        it, a play of five tasks fetches five tokens.
      - The token is kept, until shortly before it expires, in a file only the user can read, under the system temp
        directory. It is encrypted with a key derived from O(client_secret), so the file is of no use without the
        secret. A cached token the service rejects is discarded and a new one fetched.
      - 'It needs the Python library C(cryptography) on the host that runs the task (a controller has it: ansible-core
        depends on it). Without it the cache is off: each task fetches its own token and warns that it could not
        share it.'
      - Set it to V(false) to fetch a token in every task and write no token to disk. It has no effect with O(access_token)
        alone.
      - 'Environment variable: E(OPSWAT_TOKEN_CACHE).'
    env:
      - name: OPSWAT_TOKEN_CACHE
    type: bool
  validate_certs:
    default: true
    description:
      - Whether to verify the TLS certificate of O(api_url).
      - 'Environment variable: E(OPSWAT_VALIDATE_CERTS).'
    env:
      - name: OPSWAT_VALIDATE_CERTS
    type: bool
"""
