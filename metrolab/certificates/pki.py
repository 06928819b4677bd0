"""The lab's signing keys (R6.3e): a lab root CA and the document-signing certificate it issues,
for the demo and the tests (`metrolab pki init`). Production points the settings at an issued
PKCS#12 file instead.

Keys are EC P-256 (ECDSA with SHA-256): 128-bit security like RSA 3072, but key generation
and signing take well under a millisecond (issue goal: ≤ 0.2 s per certificate including
rendering) and the signature adds ~70 bytes instead of ~400; PDF readers and PAdES
(ETSI TS 119 312) accept it.

Files written in the directory (the CA's private key is not kept: the demo root is used once,
to issue the signing certificate):
- `signing.p12`: the signing key with its certificate and the CA certificate, encrypted with
  `METROLAB_SIGNING_P12_PASSWORD`;
- `lab-ca.pem`: the CA certificate, the trust root of verification.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

P12_NAME = "signing.p12"
CA_NAME = "lab-ca.pem"
CA_YEARS = 10
SIGNER_YEARS = 3
# id-kp-documentSigning (RFC 9336).
DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


class PkiExists(Exception):
    """Signing keys are already there; `force` replaces them."""


@dataclass(frozen=True)
class PkiFiles:
    signing_p12: Path
    ca_cert: Path
    ca_subject: str
    signer_subject: str
    signer_not_after: dt.datetime


def p12_password() -> bytes:
    password = settings.METROLAB_SIGNING_P12_PASSWORD
    if not password:
        raise ImproperlyConfigured("METROLAB_SIGNING_P12_PASSWORD is not set")
    return password.encode()


def _name(common_name: str, organisation: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation[:64]),
        ]
    )


def _years(start: dt.datetime, years: int) -> dt.datetime:
    return start + dt.timedelta(days=365 * years + years // 4)


def _ca(lab_name: str, now: dt.datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"{lab_name} Root CA", lab_name)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(_years(now, CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _signer(
    lab_name: str, now: dt.datetime, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    not_after = min(_years(now, SIGNER_YEARS), ca.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(lab_name, lab_name))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # documentSigning for RFC 9336 validators; emailProtection because Adobe Reader only
        # accepts a signing certificate's extended key usage when it names one it knows.
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def _write(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def pki_init(
    directory: Path | str | None = None, *, lab_name: str, force: bool = False
) -> PkiFiles:
    """Create the lab root CA and the document-signing certificate it issues (R6.3e) in
    `directory` (default `METROLAB_PKI_DIR`). Refuses (PkiExists) when either file is already
    there, unless `force`."""
    lab_name = (lab_name or "").strip()
    if not lab_name:
        raise ValueError("lab_name is required")
    directory = Path(directory or settings.METROLAB_PKI_DIR)
    p12_path, ca_path = directory / P12_NAME, directory / CA_NAME
    existing = [str(p) for p in (p12_path, ca_path) if p.exists()]
    if existing and not force:
        raise PkiExists(", ".join(existing))
    password = p12_password()
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    ca_key, ca = _ca(lab_name, now)
    key, cert = _signer(lab_name, now, ca_key, ca)
    p12 = pkcs12.serialize_key_and_certificates(
        name=b"metrolab-signing",
        key=key,
        cert=cert,
        cas=[ca],
        encryption_algorithm=serialization.BestAvailableEncryption(password),
    )
    _write(p12_path, p12, 0o600)
    _write(ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    return PkiFiles(
        signing_p12=p12_path,
        ca_cert=ca_path,
        ca_subject=ca.subject.rfc4514_string(),
        signer_subject=cert.subject.rfc4514_string(),
        signer_not_after=cert.not_valid_after_utc,
    )
