# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulated account: a fleet of devices, its groups and the state the Device Action API changes.

Everything is generated from ``(devices, seed)`` alone, with a fixed reference date, so two fleets built
from the same arguments are identical field for field. Device dicts carry the API's fields plus one
``_sim`` key with what the simulator needs to decide what an action applies to (agent type, enrolment
position, exemption state); the views strip it.

``Fleet.lock`` guards the state: the server holds it while it answers, and the few methods meant for
tests (``device``, ``advance_clock`` and the change controls) take it themselves.

``Fleet.history`` is the change history behind Status Change: every enrolment, status change and deletion
since the simulator started, stamped with the fleet's clock. The generated fleet starts with none.
"""

import bisect
import calendar
import collections
import heapq
import itertools
import random
import re
import threading
import time

# The generated data describes this moment, not the time the simulator runs, so that it is reproducible.
REFERENCE_NOW = calendar.timegm((2025, 6, 30, 12, 0, 0))
# Enrolments are spread over the three years before the reference date.
ENROLMENT_SPAN = 3 * 365 * 86400

# Device statuses as spelled by Get Devices (docs/dev/api-notes.md, Get Devices).
STATUSES = ("compliant", "non_compliant", "exempted", "out_of_license_usage", "unknown", "ignored",
            "installed", "pending", "quarantined")
SEVERITIES = ("critical", "warning", "no_issues")
DEVICE_TYPES = ("desktop", "laptop", "server", "vm", "phone", "tablet")
OS_TYPES = ("windows", "mac", "linux", "ios", "android")
AGENT_TYPES = ("persistent", "on_demand", "mobile", "domain_controller", "none")
ACTION_TYPES = ("exempt", "unexempt", "ignore", "unignore", "delete", "dhcprenew", "re-identify",
                "assign_to_group", "fetch_agent_log", "scan_threats")
# Types each Device Action version knows (fetch_agent_log came with v3.1, scan_threats with v3.2).
ACTION_TYPES_BY_VERSION = {
    (3, 0): ACTION_TYPES[:8],
    (3, 1): ACTION_TYPES[:9],
    (3, 2): ACTION_TYPES,
    (3, 3): ACTION_TYPES,
}

# Positions (0-based enrolment order) of devices whose names are deliberately awkward, for the
# collection's security tests. A position exists only when the fleet has more devices than it.
AWKWARD_NAMES = {
    3: "{{ lookup('env','HOME') }}",
    5: "Zoë-MacBook-Pro-☕-日本語",
    7: "evil\"; $(id) `uname` <b>x</b> & del *",
    11: "{% raw %}{{ 7*7 }}{% endraw %}\nSecond-Line",
}
# (device type, OS type, status) of those devices.
AWKWARD_PROFILES = {
    3: ("desktop", "windows", "compliant"),
    5: ("laptop", "mac", "non_compliant"),
    7: ("server", "linux", "compliant"),
    11: ("laptop", "windows", "compliant"),
}

# Minimum agent versions of the Device Action "Apply" table (docs/dev/api-notes.md, Device Action).
REIDENTIFY_MIN = {"windows": (7, 6, 71, 0), "mac": (10, 4, 123, 0)}
FETCH_LOG_MIN = {"windows": (7, 6, 231, 0), "mac": (10, 4, 225, 0)}
SCAN_THREATS_MIN = {"windows": (7, 6, 206, 0), "mac": (10, 4, 205, 0)}

_OS_CATALOGUE = {
    "windows": [
        {"family": "Windows", "name": "Microsoft Windows 10 Enterprise", "vendor": "Microsoft Corp.", "version": "10.0.19045", "type": "windows"},
        {"family": "Windows", "name": "Microsoft Windows 11 Pro", "vendor": "Microsoft Corp.", "version": "10.0.22631", "type": "windows"},
        {"family": "Windows", "name": "Microsoft Windows 11 Enterprise", "vendor": "Microsoft Corp.", "version": "10.0.26100", "type": "windows"},
    ],
    "windows_server": [
        {"family": "Windows", "name": "Microsoft Windows Server 2019 Datacenter", "vendor": "Microsoft Corp.", "version": "10.0.17763",
         "type": "windows"},
        {"family": "Windows", "name": "Microsoft Windows Server 2022 Standard", "vendor": "Microsoft Corp.", "version": "10.0.20348",
         "type": "windows"},
    ],
    "mac": [
        {"family": "macOS", "name": "macOS Ventura", "vendor": "Apple Inc.", "version": "13.6.7", "type": "mac"},
        {"family": "macOS", "name": "macOS Sonoma", "vendor": "Apple Inc.", "version": "14.5", "type": "mac"},
        {"family": "macOS", "name": "macOS Sequoia", "vendor": "Apple Inc.", "version": "15.0", "type": "mac"},
    ],
    "linux": [
        {"family": "Linux", "name": "Ubuntu 22.04.4 LTS", "vendor": "Canonical Ltd.", "version": "22.04", "type": "linux"},
        {"family": "Linux", "name": "Red Hat Enterprise Linux 9.4", "vendor": "Red Hat, Inc.", "version": "9.4", "type": "linux"},
        {"family": "Linux", "name": "Debian GNU/Linux 12", "vendor": "Debian", "version": "12", "type": "linux"},
    ],
    "ios": [
        {"family": "iOS", "name": "iOS", "vendor": "Apple Inc.", "version": "17.5.1", "type": "ios"},
        {"family": "iPadOS", "name": "iPadOS", "vendor": "Apple Inc.", "version": "17.5.1", "type": "ios"},
    ],
    "android": [
        {"family": "Android", "name": "Android", "vendor": "Google", "version": "14", "type": "android"},
        {"family": "Android", "name": "Android", "vendor": "Samsung", "version": "13", "type": "android"},
    ],
}

# (device type, weight, [(os, weight)])
_TYPE_MIX = (
    ("desktop", 34, (("windows", 85), ("mac", 10), ("linux", 5))),
    ("laptop", 34, (("windows", 62), ("mac", 32), ("linux", 6))),
    ("server", 10, (("windows", 50), ("linux", 50))),
    ("vm", 8, (("windows", 45), ("linux", 55))),
    ("phone", 9, (("ios", 55), ("android", 45))),
    ("tablet", 5, (("ios", 65), ("android", 35))),
)
# Devices without a monitoring agent: neither monitored nor counted in Account Details' devices_used.
UNMONITORED_STATUSES = ("unknown", "ignored", "out_of_license_usage")
HISTORY_EVENTS = ("enrolled", "status", "deleted")

_STATUS_MIX = (("compliant", 540), ("non_compliant", 300), ("exempted", 40), ("unknown", 40), ("ignored", 20),
               ("out_of_license_usage", 20), ("installed", 14), ("pending", 13), ("quarantined", 13))
_COUNTRIES = ({"country": "United States"}, {"country": "Vietnam"}, {"country": "Germany"}, {"country": "United Kingdom"},
              {"country": "India"}, {"country": "Unknown"})
_FIRST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "niaj",
          "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yuki", "minh", "tuoi", "linh", "khoa")
_LAST = ("nguyen", "smith", "tran", "muller", "patel", "jones", "le", "garcia", "schmidt", "dinh")
_DOMAINS = ("corp.example.com", "eu.corp.example.com", "")
_OUIS = ("8c:ec:4b", "00:50:56", "3c:22:fb", "a4:83:e7", "f0:18:98", "b8:27:eb", "dc:a6:32", "00:15:5d")
_EMPTY_LINK = {"username": "", "group": ""}

# The groups of the account (docs/dev/api-notes.md, Groups): (name, policy, AD domain, auto_join, description).
_GROUPS = (
    ("Default", "Default Policy", "", True, "Devices not assigned to any other group"),
    ("Finance", "Finance Policy", "corp.example.com", True, "Finance department workstations"),
    ("Engineering", "Engineering Policy", "corp.example.com", True, "Developers and build machines"),
    ("Servers", "Server Policy", "", False, "Data-centre and cloud servers"),
    ("Quarantine", "Quarantine Policy", "", False, "Devices isolated until remediated"),
    ("Sales Laptops", "Laptop Policy", "", True, "Field sales laptops"),
    ("Contractors", "Contractor Policy", "", False, "Third-party and BYOD devices"),
    ("Kiosks", "Default Policy", "", False, "Reserved for lobby kiosks; no devices yet"),
)

_MAC_RE = re.compile(r"^[0-9a-f]{12}$")
_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_CURSOR_RE = re.compile(r"^[0-9a-f]{24}$")
_LOG_CURSOR_RE = re.compile(r"^[0-9a-f]{20}$")

# Get Logs' categories (docs/dev/api-notes.md, Get Logs). The simulator writes admin and device entries; webhook
# and device_report entries come from features it does not simulate, so those categories answer no entry.
LOG_CATEGORIES = ("device", "admin", "webhook", "device_report")
# The device event a status change writes (Get Logs v3.0's filter names where it has one).
_STATUS_EVENTS = {"compliant": "compliant", "non_compliant": "noncompliant"}
_HISTORY_EVENTS = {"enrolled": "added", "deleted": "deleted"}


def iso(epoch):
    """Render an epoch as the API's GMT timestamps (``2022-07-05T10:24:10Z``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def normalise_mac(value):
    """Return the 12 lower-case hex digits of a MAC in any usual notation, or None when it is not a MAC."""
    if not isinstance(value, str):
        return None
    digits = re.sub(r"[:\-.]", "", value.strip()).lower()
    return digits if _MAC_RE.match(digits) else None


def _version_tuple(version):
    """Parse ``7.6.478.0`` into (7, 6, 478, 0); anything unparsable compares as the lowest version."""
    try:
        return tuple(int(part) for part in version.split("."))
    except (AttributeError, ValueError):
        return ()


def _weighted(pairs):
    """A picker for ((value, weight), ...): one float draw from ``rand`` and a binary search per pick."""
    pairs = tuple(pairs)
    values = [value for value, _weight in pairs]
    bounds = list(itertools.accumulate(weight for _value, weight in pairs))

    def pick(rand):
        return values[bisect.bisect_right(bounds, rand() * bounds[-1])]

    return pick


def _choice(rand, items):
    """``random.choice`` with one float draw, about three times cheaper on large fleets."""
    return items[int(rand() * len(items))]


def _below(rand, low, high):
    """A random int in [low, high) from one float draw."""
    return low + int(rand() * (high - low))


_pick_type = _weighted((entry[0], entry[1]) for entry in _TYPE_MIX)
_pick_os = {entry[0]: _weighted(entry[2]) for entry in _TYPE_MIX}
_pick_status = _weighted(_STATUS_MIX)
_pick_group = _weighted((("Default", 50), ("Finance", 15), ("Engineering", 25), ("Contractors", 10)))


# What decides whether an action applies to a device: its status, agent, OS, agent version, and the API version.
_Facts = collections.namedtuple("_Facts", "status agent os agent_version api")


def _persistent_at_least(facts, minimums):
    """A persistent agent on an OS of ``minimums`` whose version is at least the one listed there."""
    minimum = minimums.get(facts.os)
    return facts.agent == "persistent" and minimum is not None and facts.agent_version >= minimum


def _exemptable(facts):
    if facts.status in ("unknown", "ignored", "out_of_license_usage"):
        return False
    # The domain-controller exclusion appears in the documentation from v3.2 on.
    return not (facts.agent == "domain_controller" and facts.api >= (3, 2))


def _reidentifiable(facts):
    if facts.api < (3, 2):
        # v3.0/v3.1 wording: all devices except Unknown, Ignored and Out-of-license.
        return facts.status not in ("unknown", "ignored", "out_of_license_usage")
    return facts.agent == "mobile" or _persistent_at_least(facts, REIDENTIFY_MIN)


# The "Apply" column of Device Action v3.3, one rule per type.
_APPLIES = {
    "exempt": _exemptable,
    "unexempt": _exemptable,
    "ignore": lambda facts: facts.status == "unknown",
    "unignore": lambda facts: facts.status == "ignored",
    "delete": lambda facts: True,
    "dhcprenew": lambda facts: facts.agent == "persistent",
    "re-identify": _reidentifiable,
    "assign_to_group": lambda facts: facts.agent != "domain_controller",
    "fetch_agent_log": lambda facts: _persistent_at_least(facts, FETCH_LOG_MIN),
    "scan_threats": lambda facts: _persistent_at_least(facts, SCAN_THREATS_MIN),
}


class Fleet:  # pylint: disable=too-many-instance-attributes
    """The account, its groups and its devices, generated deterministically from ``(devices, seed)``."""

    def __init__(self, devices=1000, seed=1):
        if devices < 0:
            raise ValueError("devices must be >= 0")
        self.seed = seed
        self.lock = threading.RLock()
        self._rng = random.Random(seed)
        # Cursor tokens carry this tag so that a token from another fleet (or a guessed one) is refused.
        self._cursor_tag = self._rng.getrandbits(40)
        self._clock_offset = 0.0
        self._exempt_heap = []
        self._command_counter = 0
        # Commands of fetch_agent_log and scan_threats by command id, for Get Reports (reports.py).
        self.commands = {}
        self.account = self._make_account(devices)
        self.groups = self._make_groups()
        self._groups_by_id = {group["group_id"]: group for group in self.groups}
        self.devices = []
        self._by_id = {}
        self._by_mac = {}
        # Enrolment epochs of every device ever generated, deleted ones included, so that cursors that
        # point past a deleted device still decode.
        self._enrolled = []
        self._generate(devices)
        self.history = []
        # Generated on first use (see cves_of, threats_of): device id -> catalogue indices / scan results.
        self._cves = None
        self._device_cves = {}
        self._device_threats = {}
        self._init_event_log()

    # ----------------------------------------------------------------------------------------- generation

    def _make_account(self, devices):
        rng = self._rng
        return {
            "name": "Simulated IT Access Account",
            "email": "it-admin@example.com",
            "last_login": iso(REFERENCE_NOW - 3 * 3600),
            "date_created": iso(REFERENCE_NOW - ENROLMENT_SPAN - 30 * 86400),
            "devices_allowed": max(100, -(-devices // 100) * 100),
            "license_key": f"{rng.getrandbits(128):032x}",
            "account_id": f"0051a{rng.getrandbits(40):010X}",
        }

    def _make_groups(self):
        rng = self._rng
        created = REFERENCE_NOW - ENROLMENT_SPAN
        groups = []
        for index, (name, policy, domain, auto_join, description) in enumerate(_GROUPS):
            # The default group's id is the literal "default" (docs/dev/api-notes.md, Groups); others look like ObjectIds.
            group_id = "default" if index == 0 else f"{rng.getrandbits(96):024x}"
            policy_id = "default" if policy == "Default Policy" else f"{rng.getrandbits(96):024x}"
            groups.append({
                "group_id": group_id,
                "group_name": name,
                "domain_name": domain,
                "auto_join": auto_join,
                "policy_id": policy_id,
                "policy_name": policy,
                "description": description,
                "created_date": iso(created + index * 86400),
                "last_modified": iso(created + index * 86400 + rng.randrange(30 * 86400, 900 * 86400)),
            })
        return groups

    def _generate(self, count):
        rand = self._rng.random
        # Enrolment times spread over ENROLMENT_SPAN whatever the fleet size: one slot of ``gap`` seconds per
        # device and a jitter smaller than the slot, so they are strictly increasing and never in the future.
        gap = max(2, ENROLMENT_SPAN // max(count, 1))
        start = REFERENCE_NOW - ENROLMENT_SPAN
        for seq in range(count):
            when = start + seq * gap + int(rand() * (gap - 1))
            device_type = _pick_type(rand)
            os_type = _pick_os[device_type](rand)
            status = _pick_status(rand)
            if seq in AWKWARD_PROFILES:
                # Fixed, ordinary attributes so that security tests can act on these devices predictably.
                device_type, os_type, status = AWKWARD_PROFILES[seq]
            self._add(self._make_device(seq, when, device_type, os_type, status), when)

    def _agent_for(self, device_type, os_type, status):
        """Choose agent type and version; devices without an agent are the 'unknown' (and 'ignored') ones."""
        rand = self._rng.random
        if status in ("unknown", "ignored"):
            return "none", ""
        if os_type in ("ios", "android"):
            return "mobile", f"{_below(rand, 3, 5)}.{_below(rand, 0, 10)}.{_below(rand, 0, 100)}"
        if device_type == "server" and os_type == "windows" and rand() < 0.12:
            return "domain_controller", f"1.{_below(rand, 2, 6)}.{_below(rand, 10, 200)}.0"
        agent = "on_demand" if rand() < 0.12 else "persistent"
        if os_type == "windows":
            return agent, f"7.6.{_below(rand, 40, 520)}.0"
        if os_type == "mac":
            return agent, f"10.4.{_below(rand, 100, 320)}.0"
        return agent, f"4.{_below(rand, 1, 4)}.{_below(rand, 10, 300)}.0"

    def _name_for(self, seq, device_type, os_type, agent):
        first = _choice(self._rng.random, _FIRST)
        if os_type == "windows":
            if agent == "domain_controller":
                return f"DC{seq % 7 + 1:02d}-CORP-{seq}"
            prefix = {"desktop": "WE10-D", "laptop": "WE11-L", "server": "SRV-WIN-", "vm": "VM-WIN-"}[device_type]
            return f"{prefix}{1000 + seq}"
        if os_type == "mac":
            return f'{"MBP" if device_type == "laptop" else "IMAC"}-{first.upper()}-{seq:03d}'
        if os_type == "linux":
            prefix = {"desktop": "lnx-ws", "laptop": "lnx-lt", "server": "srv-web", "vm": "vm-k8s-node"}[device_type]
            return f"{prefix}-{seq:05d}"
        if os_type == "ios":
            return f'{"iPhone" if device_type == "phone" else "iPad"}-{first.capitalize()}-{seq}'
        return f'{"Pixel" if device_type == "phone" else "Galaxy-Tab"}-{first.capitalize()}-{seq}'

    def _network_for(self, seq):
        """1 to 3 adapters; MACs are unique across the fleet, IPv4s come from private ranges only."""
        rand = self._rng.random
        count = 1 + (rand() < 0.35) + (rand() < 0.15)
        adapters = []
        for adapter in range(count):
            # Multiplying by an odd constant modulo 2**24 is a bijection: the serial alone is unique.
            serial = ((seq * 3 + adapter) * 0x9E3779) & 0xFFFFFF
            mac = f"{_choice(rand, _OUIS)}:{serial >> 16:02x}:{(serial >> 8) & 0xFF:02x}:{serial & 0xFF:02x}"
            roll = rand()
            if roll < 0.6:
                ipv4 = f"10.{_below(rand, 0, 256)}.{_below(rand, 0, 256)}.{_below(rand, 1, 255)}"
            elif roll < 0.8:
                ipv4 = f"192.168.{_below(rand, 0, 256)}.{_below(rand, 1, 255)}"
            elif roll < 0.93:
                ipv4 = f"172.{_below(rand, 16, 32)}.{_below(rand, 0, 256)}.{_below(rand, 1, 255)}"
            else:
                # The seed page shows adapters without an address as "N/A".
                ipv4 = "N/A"
            adapters.append({"mac": mac, "ipv4": ipv4})
        return adapters

    def _make_device(self, seq, enrolled, device_type, os_type, status):  # pylint: disable=too-many-locals
        # One record built field by field: splitting it would only scatter the coherence rules.
        rng = self._rng
        rand = rng.random
        agent, agent_version = self._agent_for(device_type, os_type, status)
        device_id = f"{rng.getrandbits(128):032x}"
        while device_id in self._by_id:
            device_id = f"{rng.getrandbits(128):032x}"
        awkward = AWKWARD_NAMES.get(seq)
        name = awkward or self._name_for(seq, device_type, os_type, agent)
        os_info = _choice(rand, _OS_CATALOGUE["windows_server" if os_type == "windows" and device_type == "server" else os_type])

        prev_status = None
        if status == "exempted":
            # A device exempted before the simulator started: forever, with the status it had before.
            prev_status = "compliant" if rand() < 0.5 else "non_compliant"
        judged = prev_status or status
        if agent == "none":
            critical = warning = 0
        elif judged in ("non_compliant", "quarantined"):
            critical, warning = _below(rand, 1, 5), _below(rand, 0, 5)
        elif judged == "compliant":
            critical, warning = 0, (_below(rand, 1, 4) if rand() < 0.4 else 0)
        else:
            critical, warning = _below(rand, 0, 2), _below(rand, 0, 3)
        severity = "critical" if critical else ("warning" if warning else "no_issues")

        cves = 0 if agent in ("none", "mobile") else int(rand() ** 2 * 600)
        # Highest CVSS score of the device's CVEs; None marks CVEs without a score ("unknown" severity).
        cvss = None if not cves or rand() < 0.05 else round(1 + rand() * 9, 1)

        last_seen = enrolled + int(rand() * (REFERENCE_NOW - enrolled))
        last_reboot = max(enrolled, last_seen - int(rand() * 14 * 86400))
        user = f"{_choice(rand, _FIRST)}.{_choice(rand, _LAST)}"
        personal = device_type in ("phone", "tablet")
        # Public addresses come from the documentation ranges (RFC 5737): the data is never a network target.
        public_ip = f'{_choice(rand, ("192.0.2", "198.51.100", "203.0.113"))}.{_below(rand, 1, 255)}'

        if status == "quarantined":
            group_name = "Quarantine"
        elif device_type in ("server", "vm") and rand() < 0.8:
            group_name = "Servers"
        elif device_type == "laptop" and rand() < 0.25:
            group_name = "Sales Laptops"
        else:
            group_name = _pick_group(rand)
        linked = rand() < 0.1
        owner = user.partition(".")[0].capitalize()
        account_id = self.account["account_id"]
        nickname = name if awkward or rand() < 0.85 else f"{owner}'s {device_type}"
        return {
            "device_id": device_id,
            "severity": severity,
            "status": status,
            "device_name": name,
            "nickname": nickname,
            "device_type": device_type,
            "last_seen": iso(last_seen),
            "agent_version": agent_version,
            "remediation_link": f"https://console.example.com/remediation/{account_id}/{device_id}/{rng.getrandbits(160):040X}",
            "group_name": group_name,
            "geo_info": _choice(rand, _COUNTRIES),
            "network_info": self._network_for(seq),
            "os_info": os_info,
            "link_user": {"username": user, "group": "Staff"} if linked else _EMPTY_LINK,
            "user_info": {"username": "" if agent == "none" else user,
                          "domain": "" if personal or agent == "none" else _choice(rand, _DOMAINS)},
            "issue": {"total_issue": critical + warning, "total_critical": critical, "total_warning": warning},
            "last_reboot": iso(last_reboot),
            "cves": {"total": cves},
            "enrolled_at": iso(enrolled),
            "in_grace_period": 1 if status == "non_compliant" and rand() < 0.1 else 0,
            "host_name": name if awkward or personal else name.lower(),
            "public_ip": public_ip,
            "_sim": {"seq": seq, "agent": agent, "os": os_type, "cvss": cvss, "prev_status": prev_status,
                     "exempt_until": None},
        }

    def _add(self, device, enrolled):
        self.devices.append(device)
        self._enrolled.append(enrolled)
        self._by_id[device["device_id"]] = device
        for adapter in device["network_info"]:
            self._by_mac[adapter["mac"].replace(":", "")] = device

    # -------------------------------------------------------------------------------------------- clock

    def now(self):
        """The fleet's wall clock (epoch seconds); ``advance_clock`` moves it forward for expiry tests."""
        return time.time() + self._clock_offset

    def advance_clock(self, seconds):
        """Move the fleet's clock forward, so that finite exemptions can expire within a test."""
        with self.lock:
            self._clock_offset += float(seconds)
            self.expire_exemptions()

    def expire_exemptions(self):
        """Revert every exemption whose time has passed; the server calls this before each request."""
        now = self.now()
        while self._exempt_heap and self._exempt_heap[0][0] <= now:
            until, _seq, device_id = heapq.heappop(self._exempt_heap)
            device = self._by_id.get(device_id)
            # A stale heap entry: the device was deleted, unexempted, or exempted again with a new clock.
            if device is None or device["status"] != "exempted" or device["_sim"]["exempt_until"] != until:
                continue
            # The exemption ended when its time came, not when the next request noticed it.
            self._unexempt(device, until)

    # ------------------------------------------------------------------------------------------ lookups

    def device(self, id_or_mac):
        """The device with this id (32 hex) or MAC (any notation), or None."""
        with self.lock:
            self.expire_exemptions()
            return self.device_by_id(id_or_mac) or self.device_by_mac(id_or_mac)

    # The real API's matching of id case is not documented: by default ids match in any case, and a
    # case-sensitive service (an upper-case id is an unknown device) is one option away.
    case_sensitive_ids = False

    def device_by_id(self, device_id):
        """The device with this device id, or None (MACs are not looked at)."""
        if not isinstance(device_id, str):
            return None
        key = device_id.strip() if self.case_sensitive_ids else device_id.strip().lower()
        return self._by_id.get(key)

    def device_by_mac(self, mac):
        """The device that reports this MAC, or None."""
        digits = normalise_mac(mac)
        return self._by_mac.get(digits) if digits else None

    def group(self, group_id):
        """The group with this id, or None."""
        return self._groups_by_id.get(group_id)

    def group_counts(self):
        """Number of devices per group name, from the live fleet."""
        counts = {group["group_name"]: 0 for group in self.groups}
        for device in self.devices:
            counts[device["group_name"]] = counts.get(device["group_name"], 0) + 1
        return counts

    # ------------------------------------------------------------------------------------------ cursors

    def cursor(self, position):
        """Opaque cursor meaning 'continue with the devices enrolled at or after ``position``'.

        It looks like the API's example tokens (24 hex digits, a MongoDB ObjectId): the enrolment time of the
        last device returned, a per-fleet tag and the position. Deleting devices never invalidates it.
        """
        stamp = self._enrolled[position - 1] if position else REFERENCE_NOW - ENROLMENT_SPAN
        return f"{stamp & 0xFFFFFFFF:08x}{self._cursor_tag:010x}{position:06x}"

    def decode_cursor(self, token):
        """The position a cursor stands for, or None when it was not issued by this fleet."""
        if not isinstance(token, str) or not _CURSOR_RE.match(token):
            return None
        tag, position = int(token[8:18], 16), int(token[18:], 16)
        if tag != self._cursor_tag or position > len(self._enrolled):
            return None
        return position if self.cursor(position) == token else None

    def page_after(self, position, limit):
        """Up to ``limit`` live devices enrolled at or after ``position``, and whether more follow (O(log n))."""
        start = bisect.bisect_left(self.devices, position, key=lambda device: device["_sim"]["seq"])
        page = self.devices[start:start + limit]
        return page, start + limit < len(self.devices)

    # ------------------------------------------------------------------------------------------ account

    def account_counts(self):
        """Live counters behind both account answers."""
        by_status = dict.fromkeys(STATUSES, 0)
        by_severity = dict.fromkeys(SEVERITIES, 0)
        with_issues = 0
        for device in self.devices:
            by_status[device["status"]] += 1
            by_severity[device["severity"]] += 1
            with_issues += device["issue"]["total_issue"] > 0
        return by_status, by_severity, with_issues

    def vulnerability_counts(self, score_type):
        """Devices by the severity of their worst CVE, in the vocabulary of the chosen score type."""
        if score_type == "cvss2_score":
            bands = (("high", 7.0), ("medium", 4.0), ("low", 0.0))
        elif score_type == "cvss3_score":
            bands = (("critical", 9.0), ("high", 7.0), ("medium", 4.0), ("low", 0.0))
        else:
            bands = (("critical", 9.0), ("important", 7.0), ("moderate", 4.0), ("low", 0.0))
        counts = dict.fromkeys([band for band, _floor in bands] + ["unknown"], 0)
        for device in self.devices:
            if not device["cves"]["total"]:
                continue
            score = device["_sim"]["cvss"]
            if score is None:
                counts["unknown"] += 1
                continue
            for band, floor in bands:
                if score >= floor:
                    counts[band] += 1
                    break
        return counts

    # ------------------------------------------------------------------------------------------ actions

    @staticmethod
    def applies(action, device, version):
        """Whether ``action`` applies to ``device`` per the "Apply" column of Device Action (docs/dev/api-notes.md)."""
        facts = _Facts(device["status"], device["_sim"]["agent"], device["_sim"]["os"], _version_tuple(device["agent_version"]),
                       version)
        return _APPLIES[action](facts)

    def apply_action(self, action, keys, by_mac, params, version):
        """Apply one Device Action to each id (or MAC) in order; return [(key, status, command_id)].

        Status follows Device Action's answer (docs/dev/api-notes.md): 1 applied, 0 not found (or the target group does not exist),
        -1 the action does not apply to that device.
        """
        self.expire_exemptions()
        results = []
        for key in keys:
            device = self.device_by_mac(key) if by_mac else self.device_by_id(key)
            if device is None:
                results.append((key, 0, ""))
                continue
            if not self.applies(action, device, version):
                results.append((key, -1, ""))
                continue
            if action == "assign_to_group":
                group = self.group(params.get("group_id", "default"))
                if group is None:
                    results.append((key, 0, ""))
                    continue
                device["group_name"] = group["group_name"]
            self._log_admin_action(action, device, params)
            results.append((key, 1, self._apply_via_api(action, device, params)))
        return results

    def _apply(self, action, device, params):
        """State change of one applicable action; returns the command id ('' for most actions)."""
        if action == "exempt":
            hours = params.get("exempt_time", 0)
            if device["status"] != "exempted":
                device["_sim"]["prev_status"] = device["status"]
                self._set_status(device, "exempted")
            # Exempting an exempted device restarts its clock (the real API's behaviour is unknown).
            until = self.now() + hours * 3600 if hours else None
            device["_sim"]["exempt_until"] = until
            if until is not None:
                heapq.heappush(self._exempt_heap, (until, device["_sim"]["seq"], device["device_id"]))
        elif action == "unexempt":
            if device["status"] == "exempted":
                self._unexempt(device)
        elif action == "ignore":
            self._set_status(device, "ignored")
        elif action == "unignore":
            self._set_status(device, "unknown")
        elif action == "delete":
            self._delete(device)
        elif action in ("fetch_agent_log", "scan_threats"):
            return self._issue_command(action, device)
        return ""

    def _issue_command(self, action, device):
        """A new command id, recorded with what Get Reports needs to answer for it."""
        self._command_counter += 1
        now = self.now()
        command_id = f"{int(now) & 0xFFFFFFFF:08x}{self._command_counter:016x}"
        self.commands[command_id] = {"command_id": command_id, "action": action, "device_id": device["device_id"],
                                     "issued_at": now, "scan_time": iso(now)}
        return command_id

    def _unexempt(self, device, when=None):
        self._set_status(device, device["_sim"]["prev_status"] or "compliant", when)
        device["_sim"]["prev_status"] = None
        device["_sim"]["exempt_until"] = None

    def _delete(self, device, when=None):
        self._record("deleted", device, device["status"], when)
        seq = device["_sim"]["seq"]
        index = bisect.bisect_left(self.devices, seq, key=lambda item: item["_sim"]["seq"])
        del self.devices[index]
        del self._by_id[device["device_id"]]
        for adapter in device["network_info"]:
            self._by_mac.pop(normalise_mac(adapter["mac"]), None)

    # ------------------------------------------------------------------------------------------ history

    def _record(self, event, device, previous_status, when=None):
        # A deleted device has no status any more: its entry keeps the last one as previous_status.
        self.history.append({"time": self.now() if when is None else float(when), "event": event, "device_id": device["device_id"],
                             "status": None if event == "deleted" else device["status"], "previous_status": previous_status})
        self._log_device_event(self.history[-1], device)

    def _set_status(self, device, status, when=None):
        """Give ``device`` a new status and record the change (a status set to itself is no change)."""
        previous = device["status"]
        if status == previous:
            return
        device["status"] = status
        self._record("status", device, previous, when)

    def changes_within(self, age, count_enrolments=True):
        """What Status Change answers for the last ``age`` seconds.

        Returns ([(device, latest change entry)] of the live devices, oldest latest change first, and
        [deletion entry] oldest first). A device appears once, however often it changed; one deleted within
        the window is only among the deletions.
        """
        cutoff = self.now() - age
        latest, deleted = {}, {}
        for entry in self.history:
            if entry["time"] < cutoff or (entry["event"] == "enrolled" and not count_enrolments):
                continue
            table = deleted if entry["event"] == "deleted" else latest
            known = table.get(entry["device_id"])
            if known is None or entry["time"] >= known["time"]:
                table[entry["device_id"]] = entry
        changed = [(self._by_id[device_id], entry) for device_id, entry in latest.items() if device_id in self._by_id]
        changed.sort(key=lambda pair: (pair[1]["time"], pair[0]["_sim"]["seq"]))
        return changed, sorted(deleted.values(), key=lambda entry: (entry["time"], entry["device_id"]))

    def history_entries(self):
        """The change history, oldest first (copies)."""
        with self.lock:
            return [dict(entry) for entry in sorted(self.history, key=lambda entry: entry["time"])]

    # ----------------------------------------------------------------------------- change controls

    def _stamp(self, seconds_ago):
        if not isinstance(seconds_ago, (int, float)) or isinstance(seconds_ago, bool) or not 0 <= seconds_ago < 10 ** 9:
            raise ValueError("seconds_ago must be a number of seconds >= 0")
        return self.now() - seconds_ago

    def _live_device(self, device_id):
        device = self.device_by_id(device_id) or self.device_by_mac(device_id)
        if device is None:
            raise ValueError(f"no device {device_id!r} in the fleet")
        return device

    def change_status(self, device_id, status, seconds_ago=0):
        """Set a device's status as the console or its agent would, stamped ``seconds_ago`` seconds in the past.

        Issue counts follow where the status requires it (a non-compliant device has a critical issue, a
        compliant one none); an exemption set this way is forever, and leaving ``exempted`` forgets it.
        """
        if status not in STATUSES:
            raise ValueError(f'status must be one of {", ".join(STATUSES)}, not {status!r}')
        with self.lock:
            self.expire_exemptions()
            device = self._live_device(device_id)
            when = self._stamp(seconds_ago)
            if status == "exempted" and device["status"] != "exempted":
                device["_sim"]["prev_status"] = device["status"]
            elif status != "exempted":
                device["_sim"]["prev_status"] = device["_sim"]["exempt_until"] = None
            self._set_status(device, status, when)
            self._match_issues(device)
            return device

    @staticmethod
    def _match_issues(device):
        issue = device["issue"]
        if device["status"] in ("non_compliant", "quarantined") and not issue["total_critical"]:
            issue["total_critical"] = 1
        elif device["status"] == "compliant":
            issue["total_critical"] = 0
        issue["total_issue"] = issue["total_critical"] + issue["total_warning"]
        device["severity"] = "critical" if issue["total_critical"] else ("warning" if issue["total_warning"] else "no_issues")

    def delete_device(self, device_id, seconds_ago=0):
        """Delete a device as the console would (recorded like a Device Action delete)."""
        with self.lock:
            device = self._live_device(device_id)
            self._delete(device, self._stamp(seconds_ago))
            return device

    def enrol_device(self, status="compliant", device_type="laptop", os_type="windows", group_name=None, seconds_ago=0):
        """Enrol a new device (generated like the others), stamped ``seconds_ago`` seconds in the past."""
        # pylint: disable=too-many-arguments,too-many-positional-arguments
        for name, value, choices in (("status", status, STATUSES), ("device_type", device_type, DEVICE_TYPES),
                                     ("os_type", os_type, OS_TYPES)):
            if value not in choices:
                raise ValueError(f'{name} must be one of {", ".join(choices)}, not {value!r}')
        if group_name is not None and group_name not in {group["group_name"] for group in self.groups}:
            raise ValueError(f"no group named {group_name!r}")
        with self.lock:
            when = self._stamp(seconds_ago)
            seq = len(self._enrolled)
            device = self._make_device(seq, int(when), device_type, os_type, status)
            if group_name is not None:
                device["group_name"] = group_name
            self._add(device, int(when))
            self._record("enrolled", device, None, when)
            return device

    def random_changes(self, count, seed, deletions=0, seconds_ago=0):
        """Flip ``count`` random devices between compliant and non-compliant and delete ``deletions`` others.

        Deterministic: the same fleet state and ``seed`` pick the same devices and statuses. Returns
        ``{"changed": [ids], "deleted": [ids]}``.
        """
        for name, value in (("count", count), ("deletions", deletions)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0")
        with self.lock:
            if count + deletions > len(self.devices):
                raise ValueError(f"the fleet has only {len(self.devices)} devices")
            rng = random.Random(seed)
            picked = rng.sample(self.devices, count + deletions)
            changed = []
            for device in picked[:count]:
                status = {"compliant": "non_compliant", "non_compliant": "compliant"}.get(
                    device["status"], _choice(rng.random, ("compliant", "non_compliant")))
                changed.append(self.change_status(device["device_id"], status, seconds_ago)["device_id"])
            deleted = [self.delete_device(device["device_id"], seconds_ago)["device_id"] for device in picked[count:]]
            return {"changed": changed, "deleted": deleted}

    # ------------------------------------------------------------------ vulnerabilities and threats
    # Get Vulnerabilities (account-wide and of one device) and Get Threats read these. They are generated on
    # first use from the seed and the device id alone, with their own random streams, so that the fleet above
    # stays the same field for field and a device's CVEs and threats do not depend on which was asked first.

    def cve_catalogue(self):
        """Every CVE the account can carry, generated once: a list of dicts in the API's field names."""
        with self.lock:
            if self._cves is None:
                self._cves = _make_cve_catalogue(self.seed)
            return self._cves

    def cves_of(self, device):
        """The CVEs of ``device`` (``cves.total`` of them), ordered by id: dicts of the catalogue, not copies."""
        catalogue = self.cve_catalogue()
        with self.lock:
            picked = self._device_cves.get(device["device_id"])
            if picked is None:
                rng = random.Random(f"cves:{self.seed}:{device['device_id']}")
                picked = sorted(rng.sample(range(len(catalogue)), min(device["cves"]["total"], len(catalogue))))
                self._device_cves[device["device_id"]] = picked
            return [catalogue[index] for index in picked]

    def cve_device_counts(self):
        """``{cve_id: number of live devices carrying it}`` for every CVE at least one device has."""
        with self.lock:
            counts = collections.Counter()
            for device in self.devices:
                counts.update(cve["cve_id"] for cve in self.cves_of(device))
            return counts

    def threats_of(self, device):
        """What the antimalware scans of ``device`` found (Get Threats' ``antimalware_scan``), newest scan first.

        Only devices that can run ``scan_threats`` (a recent persistent agent) have scan results; about a third
        of them found something. Copies: a caller may change them.
        """
        with self.lock:
            found = self._device_threats.get(device["device_id"])
            if found is None:
                found = []
                if self.applies("scan_threats", device, (3, 3)):
                    found = _make_threats(random.Random(f"threats:{self.seed}:{device['device_id']}"), device["_sim"]["os"])
                self._device_threats[device["device_id"]] = found
            return [dict(threat) for threat in found]

    def set_threats(self, device_id, threats):
        """Replace what the scans of a device found (a test's control): a list of Get Threats records."""
        with self.lock:
            device = self._live_device(device_id)
            self._device_threats[device["device_id"]] = [dict(threat) for threat in threats]

    # ------------------------------------------------------------------------------------------ event logs

    def _init_event_log(self):
        """Get Logs' entries, oldest first, each with a ``seq``; written by every change the simulator applies."""
        self.event_log = []
        self._log_cursor_tag = self._rng.getrandbits(40)
        # True while a Device Action applies: its entries say they came through the OAuth API.
        self._via_api = False

    def _apply_via_api(self, action, device, params):
        self._via_api = True
        try:
            return self._apply(action, device, params)
        finally:
            self._via_api = False

    def _append_log(self, category, when, event, device, **fields):
        entry = {"seq": len(self.event_log), "category": category, "timestamp": int(round(when * 1000)), "event": event,
                 "device_id": device["device_id"], "device_name": device["device_name"],
                 "mac_addresses": [adapter["mac"] for adapter in device["network_info"]]}
        entry.update(fields)
        self.event_log.append(entry)

    def _log_device_event(self, change, device):
        """The device entry of one change of the history (an enrolment, a status change, a deletion)."""
        if change["event"] == "status":
            event = _STATUS_EVENTS.get(change["status"], change["status"])
            details = f'status changed from {change["previous_status"]} to {change["status"]}'
        else:
            event = _HISTORY_EVENTS[change["event"]]
            if event == "deleted" and self._via_api:
                event = "deleted_api"
            details = f"device {event.replace('_api', ' through the OAuth API')}"
        self._append_log("device", change["time"], event, device, details=details,
                         source="api" if self._via_api else "console")

    def _log_admin_action(self, action, device, params):
        """The admin entry of one Device Action applied to one device: who, what, when, which device."""
        if action == "exempt":
            hours = params.get("exempt_time", 0)
            details = f"exempted for {hours} hours" if hours else "exempted forever"
        elif action == "assign_to_group":
            details = f'assigned to group {self.group(params.get("group_id", "default"))["group_name"]}'
        else:
            details = f"{action} applied"
        self._append_log("admin", self.now(), action, device, admin=self.account["email"], source="api", details=details)

    def log_cursor(self, seq):
        """Opaque cursor meaning 'continue with the entries older than entry ``seq``'."""
        return f"{self._log_cursor_tag:010x}{seq:010x}"

    def decode_log_cursor(self, token):
        """The entry number a log cursor stands for, or None when this fleet did not issue it."""
        if not isinstance(token, str) or not _LOG_CURSOR_RE.match(token) or int(token[:10], 16) != self._log_cursor_tag:
            return None
        seq = int(token[10:], 16)
        return seq if seq <= len(self.event_log) else None

    def log_entries(self, category, start_ms, end_ms, events=None, before=None):
        """The entries of ``category`` stamped within [start_ms, end_ms], newest first, older than ``before``."""
        entries = []
        for entry in reversed(self.event_log[:before]):
            if entry["category"] != category or not start_ms <= entry["timestamp"] <= end_ms:
                continue
            if events and entry["event"] not in events:
                continue
            entries.append(entry)
        return entries

    def event_log_entries(self):
        """Every event log entry, oldest first (copies)."""
        with self.lock:
            return [dict(entry) for entry in self.event_log]


# ------------------------------------------------------------------ CVE and threat generation
# Score bands of each score type (docs/dev/api-notes.md, Get Vulnerabilities): the lowest score of each
# severity, highest first. A CVE without a score has the "unknown" OPSWAT severity.
SEVERITY_BANDS = {
    "opswat_score": (("critical", 90), ("important", 70), ("moderate", 40), ("low", 0)),
    "cvss3_score": (("critical", 9.0), ("high", 7.0), ("medium", 4.0), ("low", 0.1), ("none", 0.0)),
    "cvss2_score": (("high", 7.0), ("medium", 4.0), ("low", 0.0)),
}
SEVERITIES_BY_SCORE_TYPE = {
    "opswat_score": ("critical", "important", "moderate", "low", "unknown"),
    "cvss3_score": ("critical", "high", "medium", "low", "none"),
    "cvss2_score": ("high", "medium", "low"),
}
CVE_CATALOGUE_SIZE = 1200
_CVE_PRODUCTS = (("Google Chrome", "126.0.6478.126"), ("Mozilla Firefox", "127.0.2"), ("Microsoft Edge", "126.0.2592.87"),
                 ("Adobe Acrobat Reader", "24.002.20857"), ("Oracle Java SE", "8u411"), ("7-Zip", "24.07"),
                 ("Zoom Workplace", "6.1.1"), ("OpenSSL", "3.0.14"), ("Microsoft Office", "16.0.17726"), ("VLC media player", "3.0.21"),
                 ("Apple Safari", "17.5"), ("Python", "3.12.4"), ("Notepad++", "8.6.9"), ("Wireshark", "4.2.6"))
_CVE_WEAKNESSES = (("CWE-787", "An out-of-bounds write"), ("CWE-79", "A cross-site scripting flaw"),
                   ("CWE-416", "A use-after-free"), ("CWE-20", "Improper input validation"),
                   ("CWE-125", "An out-of-bounds read"), ("CWE-78", "An OS command injection"),
                   ("CWE-22", "A path traversal"), ("CWE-476", "A NULL pointer dereference"))
_CVE_IMPACTS = ("execute arbitrary code", "read sensitive memory", "escalate privileges", "cause a denial of service",
                "bypass security restrictions")
_THREAT_NAMES = ("Trojan.GenericKD.71234567", "EICAR-Test-File", "PUA.Win32.BundleInstaller", "Ransom.WannaCry",
                 "Backdoor.MSIL.Agent", "Exploit.PDF-JS.Gen", "OSX.Adload", "Adware.Mac.Bundlore")
_THREAT_PATHS = {"windows": ("C:\\Users\\Public\\Downloads\\", "C:\\Users\\alice\\AppData\\Local\\Temp\\", "C:\\ProgramData\\"),
                 "mac": ("/Users/alice/Downloads/", "/Library/Application Support/", "/private/tmp/")}
_THREAT_FILES = ("invoice_0624.pdf.exe", "setup_free.exe", "eicar.com", "update.dmg", "report.docm", "helper.pkg")


def severity_of(score_type, score):
    """The severity a score has under ``score_type``; ``unknown`` without a score (OPSWAT's word for it)."""
    if score is None:
        return "unknown"
    for band, floor in SEVERITY_BANDS[score_type]:
        if score >= floor:
            return band
    return SEVERITY_BANDS[score_type][-1][0]


def _make_cve_catalogue(seed):
    rng = random.Random(f"cve-catalogue:{seed}")
    rand = rng.random
    catalogue, seen = [], set()
    while len(catalogue) < CVE_CATALOGUE_SIZE:
        year = _below(rand, 2016, 2026)
        cve_id = f"CVE-{year}-{_below(rand, 1000, 50000)}"
        if cve_id in seen:
            continue
        seen.add(cve_id)
        product, version = _choice(rand, _CVE_PRODUCTS)
        cwe_id, weakness = _choice(rand, _CVE_WEAKNESSES)
        published = calendar.timegm((year, 1, 1, 0, 0, 0)) + int(rand() * 360 * 86400)
        published = min(published, REFERENCE_NOW - 86400)
        scored = rand() >= 0.04
        cvss3 = round(min(10.0, 2.0 + rand() * 8.2), 1) if scored else None
        cvss2 = round(min(10.0, max(0.0, cvss3 + (rand() - 0.5) * 2)), 1) if scored else None
        opswat = min(100, max(0, int(cvss3 * 10 + (rand() - 0.5) * 12))) if scored else None
        catalogue.append({
            "cve_id": cve_id,
            "summary": f"{weakness} in {product} before {version} allows a remote attacker to {_choice(rand, _CVE_IMPACTS)}.",
            "publish_date": iso(published),
            "update_date": iso(min(REFERENCE_NOW, published + int(rand() * 200 * 86400))),
            "opswat_score": opswat,
            "cvss2_score": cvss2,
            "cvss3_score": cvss3,
            # Known-exploited ones (CISA's KEV catalogue) are mostly severe.
            "kev": bool(scored and cvss3 >= 7.0 and rand() < 0.12),
            "remediation": f"Update {product} to {version} or later.",
            "cwe_id": cwe_id,
        })
    return catalogue


def _make_threats(rng, os_type):
    rand = rng.random
    if rand() >= 0.35:
        return []
    threats = []
    scanned = REFERENCE_NOW - int(rand() * 30 * 86400)
    for _index in range(1 + int(rand() ** 3 * 8)):
        scanned -= int(rand() * 3 * 86400)
        name = _choice(rand, _THREAT_NAMES)
        threats.append({
            "threat_name": name,
            "critical": name != "EICAR-Test-File" and rand() < 0.6,
            "scan_time": iso(scanned),
            "file": _choice(rand, _THREAT_PATHS[os_type]) + _choice(rand, _THREAT_FILES),
            "hash": f"{rng.getrandbits(256):064x}",
        })
    return threats
