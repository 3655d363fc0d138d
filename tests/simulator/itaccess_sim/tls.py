# -*- coding: utf-8 -*-
# Copyright (c) opswat.it_access contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Throw-away certificates for ``tls=True``: a self-signed CA and a server certificate it signs.

The server certificate names ``localhost``, ``127.0.0.1`` and ``::1``. The ``cryptography`` package makes
them when it is importable, else the ``openssl`` command does. Both produce certificates that Python's
default context accepts under ``VERIFY_X509_STRICT`` (the default from 3.13): the CA has critical basic
constraints and key usage, the leaf has key identifiers, a SAN and the serverAuth extended key usage.
"""

import datetime
import os
import subprocess

CA_FILE = "ca.pem"
CERT_FILE = "server.pem"
KEY_FILE = "server.key"
_HOSTS = ("localhost",)
_ADDRESSES = ("127.0.0.1", "::1")


def make_certificates(directory, backend=None):
    """Write ``ca.pem``, ``server.pem`` and ``server.key`` into ``directory``; return their paths.

    ``backend`` forces ``"cryptography"`` or ``"openssl"``; by default the package is preferred.
    """
    if backend is None:
        try:
            import cryptography  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import
            backend = "cryptography"
        except ImportError:
            backend = "openssl"
    if backend == "cryptography":
        _with_cryptography(directory)
    elif backend == "openssl":
        _with_openssl(directory)
    else:
        raise ValueError("backend must be 'cryptography' or 'openssl'")
    return tuple(os.path.join(directory, name) for name in (CA_FILE, CERT_FILE, KEY_FILE))


def _with_cryptography(directory):
    # The package is optional (the openssl command is the fallback), hence the imports here; pylint
    # run where it is not installed cannot resolve them.
    # pylint: disable=import-outside-toplevel,import-error,too-many-locals
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    # Back-dated a little so that a client whose clock is slightly behind still accepts them.
    not_before, not_after = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "itaccess-sim test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names = [x509.DNSName(host) for host in _HOSTS] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in _ADDRESSES]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(directory, CA_FILE, ca_cert.public_bytes(serialization.Encoding.PEM))
    _write(directory, CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    _write(directory, KEY_FILE, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))


def _write(directory, name, data):
    path = os.path.join(directory, name)
    # The key is private material even if throw-away: readable by the owner only.
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
        handle.write(data)


def _with_openssl(directory):
    def path(name):
        return os.path.join(directory, name)

    san = ",".join([f"DNS:{host}" for host in _HOSTS] + [f"IP:{ip}" for ip in _ADDRESSES])
    with open(path("ca.ext"), "w", encoding="ascii") as handle:
        handle.write("basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,digitalSignature,keyCertSign,cRLSign\n"
                     "subjectKeyIdentifier=hash\n")
    with open(path("server.ext"), "w", encoding="ascii") as handle:
        handle.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n"
                     f"extendedKeyUsage=serverAuth\nsubjectAltName={san}\nsubjectKeyIdentifier=hash\n"
                     "authorityKeyIdentifier=keyid\n")
    commands = [
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path("ca.key")],
        ["openssl", "req", "-new", "-key", path("ca.key"), "-subj", "/CN=itaccess-sim test CA", "-out", path("ca.csr")],
        ["openssl", "x509", "-req", "-in", path("ca.csr"), "-signkey", path("ca.key"), "-days", "30", "-sha256",
         "-extfile", path("ca.ext"), "-out", path(CA_FILE)],
        ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path("server.ec")],
        # PKCS#8, as the cryptography branch writes it; Python's ssl reads both.
        ["openssl", "pkcs8", "-topk8", "-nocrypt", "-in", path("server.ec"), "-out", path(KEY_FILE)],
        ["openssl", "req", "-new", "-key", path(KEY_FILE), "-subj", "/CN=localhost", "-out", path("server.csr")],
        ["openssl", "x509", "-req", "-in", path("server.csr"), "-CA", path(CA_FILE), "-CAkey", path("ca.key"),
         "-CAcreateserial", "-days", "30", "-sha256", "-extfile", path("server.ext"), "-out", path(CERT_FILE)],
    ]
    old_umask = os.umask(0o077)
    try:
        for command in commands:
            subprocess.run(command, check=True, capture_output=True, timeout=60)
    finally:
        os.umask(old_umask)
