"""The lab's signing keys (R6.3e): a lab root CA and the document-signing certificate it issues,
for the demo and the tests (`metrolab pki init`). Production points the settings at an issued
PKCS#12 file instead, or at a PKCS#11 token; `p12_to_token` (`metrolab pki to-token`) puts a
PKCS#12 key on a token.

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


class TokenError(Exception):
    """The key could not be put on the PKCS#11 token (the message says why)."""


@dataclass(frozen=True)
class TokenKey:
    token: str
    label: str
    key_id: bytes
    signer_subject: str


def p12_to_token(
    *, module: str, token: str, pin: str, label: str, p12_path: Path | str | None = None
) -> TokenKey:
    """Put the signing key and its certificate from a PKCS#12 file (default
    `METROLAB_SIGNING_P12`) on a PKCS#11 token (R6.3e): the key as a sensitive, non-extractable
    private key that can only sign, the certificate next to it, both under `label` and the same
    id. Afterwards the PKCS#12 file can be removed and signing uses the token
    (`METROLAB_SIGNING_PKCS11_*`). Refuses (TokenError) when the token already holds an object
    with that label."""
    import pkcs11
    from pkcs11.util.ec import decode_ec_private_key
    from pkcs11.util.rsa import decode_rsa_private_key
    from pkcs11.util.x509 import decode_x509_certificate

    path = Path(p12_path or settings.METROLAB_SIGNING_P12)
    if not path.exists():
        raise TokenError(f"no PKCS#12 file at {path}")
    if not Path(module).is_file():
        raise TokenError(f"no PKCS#11 module at {module}")
    try:
        key, cert, _cas = pkcs12.load_key_and_certificates(path.read_bytes(), p12_password())
    except ValueError as exc:
        raise TokenError(
            f"{path} cannot be read with METROLAB_SIGNING_P12_PASSWORD: {exc}"
        ) from None
    if key is None or cert is None:
        raise TokenError(f"{path} holds no key with its certificate")
    der_key = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    if isinstance(key, ec.EllipticCurvePrivateKey):
        key_attrs = decode_ec_private_key(der_key)
    else:
        key_attrs = decode_rsa_private_key(der_key)
    key_id = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    Attribute = pkcs11.Attribute
    key_attrs.update(
        {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.DECRYPT: False,
            Attribute.LABEL: label,
            Attribute.ID: key_id,
        }
    )
    cert_attrs = decode_x509_certificate(cert.public_bytes(serialization.Encoding.DER))
    cert_attrs.update({Attribute.TOKEN: True, Attribute.LABEL: label, Attribute.ID: key_id})
    try:
        lib = pkcs11.lib(str(module))
        with lib.get_token(token_label=token).open(rw=True, user_pin=pin) as session:
            if list(session.get_objects({Attribute.LABEL: label})):
                raise TokenError(f"token {token!r} already holds an object labelled {label!r}")
            session.create_object(key_attrs)
            session.create_object(cert_attrs)
    except pkcs11.NoSuchToken:
        raise TokenError(f"no token labelled {token!r} in {module}") from None
    except (pkcs11.PinIncorrect, pkcs11.PinInvalid, pkcs11.PinLenRange):
        raise TokenError(f"the PIN of token {token!r} was refused") from None
    except pkcs11.PKCS11Error as exc:
        raise TokenError(f"token {token!r}: {str(exc) or type(exc).__name__}") from None
    return TokenKey(
        token=token, label=label, key_id=key_id, signer_subject=cert.subject.rfc4514_string()
    )
