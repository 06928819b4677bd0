"""PAdES signatures on certificate PDFs (R6.3e) and their verification (R9.1).

`sign_pdf` adds a PAdES baseline signature (ETSI.CAdES.detached, SHA-256) with the lab's key,
the certificate chain embedded, and an RFC 3161 time-stamp from `METROLAB_TSA_URL` when one is
configured. The key is the PKCS#12 file `METROLAB_SIGNING_P12`, or one on a PKCS#11 token
(hardware token / HSM; the key never leaves it) when `METROLAB_SIGNING_PKCS11_MODULE` is set.
`verify_pdf` answers valid / tampered / unsigned / untrusted, with the lab CA
(`METROLAB_SIGNING_CA_CERT`) as the only trust root.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import io
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import DSSContentSettings, SigDSSPlacementPreference
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from metrolab.certificates.pki import p12_password

VALID, TAMPERED, UNSIGNED, UNTRUSTED = "valid", "tampered", "unsigned", "untrusted"
TSA_TIMEOUT_SECONDS = 10


@dataclass
class Verification:
    """The answer about one PDF file: `status` is valid, tampered, unsigned or untrusted;
    `reasons` says what failed (empty when valid)."""

    status: str
    sha256: str
    signer: str = ""
    signed_at: dt.datetime | None = None
    # Whether `signed_at` comes from a valid RFC 3161 time-stamp (else the signer's own clock).
    timestamped: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == VALID

    def as_dict(self) -> dict:
        data = asdict(self)
        data["signed_at"] = self.signed_at.isoformat() if self.signed_at else None
        return data


@functools.lru_cache(maxsize=4)
def _load_signer(path: str, _mtime_ns: int, password: bytes) -> signers.SimpleSigner:
    signer = signers.SimpleSigner.load_pkcs12_data(
        Path(path).read_bytes(), other_certs=[], passphrase=password
    )
    return signer


def lab_signer() -> signers.Signer:
    """The lab's signer: the key on the PKCS#11 token when `METROLAB_SIGNING_PKCS11_MODULE` is
    set (one session per process, kept open), else the PKCS#12 file `METROLAB_SIGNING_P12`
    (cached until the file changes). ImproperlyConfigured says what is missing or wrong."""
    if settings.METROLAB_SIGNING_PKCS11_MODULE:
        return _token_signer()
    path = Path(settings.METROLAB_SIGNING_P12)
    if not path.exists():
        raise ImproperlyConfigured(
            f"no signing key at {path}: run `metrolab pki init` or set METROLAB_SIGNING_P12"
        )
    return _load_signer(str(path), path.stat().st_mtime_ns, p12_password())


# The open token session and its signer, per process: {"key": settings tuple, "session", "signer"}.
_token: dict = {}
# A PKCS#11 session serves one operation at a time.
_token_lock = threading.RLock()
# (module, token, PIN) the token refused: not tried again by this process, so a queue of
# certificates does not use up the token's PIN retries and lock it.
_refused_pins: set[tuple[str, str, str]] = set()


def _token_settings() -> tuple[str, str, str, str, str]:
    ca = Path(settings.METROLAB_SIGNING_CA_CERT)
    return (
        str(settings.METROLAB_SIGNING_PKCS11_MODULE),
        settings.METROLAB_SIGNING_PKCS11_TOKEN,
        settings.METROLAB_SIGNING_PKCS11_KEY,
        settings.METROLAB_SIGNING_PKCS11_PIN,
        f"{ca}:{ca.stat().st_mtime_ns if ca.exists() else 0}",  # the chain follows the CA file
    )


def close_token_session() -> None:
    """Forget the open token session (the next signature opens a new one)."""
    with _token_lock:
        session = _token.get("session")
        _token.clear()
        if session is not None:
            # Already closed or the token removed: nothing left to release.
            with contextlib.suppress(Exception):
                session.close()


def _token_signer():
    """The PKCS#11 signer of the configured token and key: the signing certificate from the
    token, the lab CA (`METROLAB_SIGNING_CA_CERT`) as the rest of the chain."""
    from pkcs11 import exceptions as p11_errors
    from pyhanko.sign.pkcs11 import PKCS11Signer, open_pkcs11_session

    current = _token_settings()
    module, token, key, pin, _ca = current
    refused = ImproperlyConfigured(
        f"the PIN of PKCS#11 token {token!r} was refused: check METROLAB_SIGNING_PKCS11_PIN"
    )
    with _token_lock:
        if _token.get("key") == current:
            return _token["signer"]
        close_token_session()
        if not Path(module).is_file():
            raise ImproperlyConfigured(
                f"no PKCS#11 module at {module}: set METROLAB_SIGNING_PKCS11_MODULE to the "
                "token's library"
            )
        if not token or not key:
            raise ImproperlyConfigured(
                "METROLAB_SIGNING_PKCS11_TOKEN and METROLAB_SIGNING_PKCS11_KEY must name the "
                "token and the signing key on it"
            )
        if not pin:
            raise ImproperlyConfigured("METROLAB_SIGNING_PKCS11_PIN is not set")
        if (module, token, pin) in _refused_pins:
            raise refused
        chain = trust_roots()
        try:
            from pyhanko.config.pkcs11 import TokenCriteria

            session = open_pkcs11_session(
                module, token_criteria=TokenCriteria(label=token), user_pin=pin
            )
        except (p11_errors.PinIncorrect, p11_errors.PinInvalid, p11_errors.PinLenRange):
            _refused_pins.add((module, token, pin))
            raise refused from None
        except p11_errors.PinLocked:
            raise ImproperlyConfigured(
                f"the PIN of PKCS#11 token {token!r} is locked (too many wrong PINs)"
            ) from None
        except (OSError, RuntimeError) as exc:  # PKCS11Error is a RuntimeError
            problem = str(exc) or type(exc).__name__
            raise ImproperlyConfigured(
                f"PKCS#11 token {token!r} could not be opened with {module}: {problem}"
            ) from None
        signer = PKCS11Signer(session, cert_label=key, key_label=key, ca_chain=chain)
        try:
            signer.signing_cert  # noqa: B018 - loads the certificate and finds the key now
        except RuntimeError as exc:
            session.close()
            raise ImproperlyConfigured(
                f"PKCS#11 token {token!r} has no usable signing key and certificate labelled "
                f"{key!r} (METROLAB_SIGNING_PKCS11_KEY): {exc}"
            ) from None
        # ECDSA keys sign the digest pyHanko computes (CKM_ECDSA): tokens and HSMs widely
        # support it, the hash-and-sign mechanisms (CKM_ECDSA_SHA256) far less (SoftHSM2 not).
        signer.use_raw_mechanism = signer.signing_cert.public_key.algorithm == "ec"
        _token.update(key=current, session=session, signer=signer)
        return signer


def _timestamper() -> RequestsHTTPTimeStamper | None:
    url = settings.METROLAB_TSA_URL
    return RequestsHTTPTimeStamper(url, timeout=TSA_TIMEOUT_SECONDS) if url else None


def sign_pdf(
    pdf: bytes, *, reason: str, location: str, field_name: str = "MetroLabSignature"
) -> bytes:
    """Sign `pdf` with the lab's key (R6.3e): an invisible PAdES baseline signature over the
    whole file, the chain embedded, time-stamped when `METROLAB_TSA_URL` is set."""
    timestamper = _timestamper()
    long_term = timestamper is not None and bool(tsa_roots())
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        # PAdES-B-LT: the chains (and any revocation data their certificates point to) go
        # into the DSS of the signature's own revision, so the signature covers the whole file.
        embed_validation_info=long_term,
        validation_context=_context(fetching=True) if long_term else None,
        dss_settings=DSSContentSettings(
            placement=SigDSSPlacementPreference.TOGETHER_WITH_SIGNATURE,
            include_vri=False,
        ),
    )
    if not settings.METROLAB_SIGNING_PKCS11_MODULE:
        return _sign(pdf, meta, lab_signer(), timestamper)
    from pkcs11 import PKCS11Error

    with _token_lock:
        try:
            return _sign(pdf, meta, lab_signer(), timestamper)
        except PKCS11Error:  # session closed, token re-plugged, HSM restarted: reopen once
            close_token_session()
        try:
            return _sign(pdf, meta, lab_signer(), timestamper)
        except PKCS11Error as exc:
            close_token_session()
            raise ImproperlyConfigured(
                f"the PKCS#11 token did not sign: {str(exc) or type(exc).__name__}"
            ) from exc


def _sign(pdf: bytes, meta, signer, timestamper) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    pdf_signer = signers.PdfSigner(meta, signer=signer, timestamper=timestamper)
    return pdf_signer.sign_pdf(writer).getvalue()


def _certificates(path: Path, what: str) -> list[asn1_x509.Certificate]:
    if not path.exists():
        raise ImproperlyConfigured(f"no {what} certificate at {path}")
    data = path.read_bytes()
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _t, _h, der in pem.unarmor(data, multiple=True)]
    return [asn1_x509.Certificate.load(data)]


def trust_roots() -> list[asn1_x509.Certificate]:
    """Every certificate in `METROLAB_SIGNING_CA_CERT` (PEM, several may be concatenated)."""
    return _certificates(Path(settings.METROLAB_SIGNING_CA_CERT), "lab CA")


def tsa_roots() -> list[asn1_x509.Certificate]:
    """The time-stamping service's root(s), `METROLAB_TSA_CA_CERT` (none when unset)."""
    path = settings.METROLAB_TSA_CA_CERT
    return _certificates(Path(path), "TSA CA") if path else []


def _context(*, fetching: bool = False, tsa: bool = False) -> ValidationContext:
    roots = tsa_roots() if tsa else trust_roots() + tsa_roots()
    return ValidationContext(
        trust_roots=roots, allow_fetching=fetching, revocation_mode="soft-fail"
    )


def _common_name(cert: asn1_x509.Certificate) -> str:
    return str(cert.subject.native.get("common_name", "") or cert.subject.human_friendly)


def verify_pdf(pdf: bytes, *, expected_sha256: str | None = None) -> Verification:
    """Check a certificate PDF (R9.1): every signature intact, cryptographically valid and
    chained to the lab CA, the last one covering the entire file (nothing appended after
    signing), and — when given — the file's SHA-256 equal to the stored one."""
    digest = hashlib.sha256(pdf).hexdigest()
    answer = Verification(status=VALID, sha256=digest)
    if expected_sha256 is not None and expected_sha256.strip().lower() != digest:
        answer.reasons.append(_("The file differs from the one the lab issued."))
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        embedded = list(reader.embedded_regular_signatures)
    except Exception:  # any parse failure of a foreign file
        embedded = None
    if embedded is None:
        if b"/ByteRange" in pdf or answer.reasons:
            answer.status = TAMPERED
            answer.reasons.append(_("The file is damaged and cannot be read as a PDF."))
        else:
            answer.status = UNSIGNED
            answer.reasons.append(_("The file is not a readable PDF."))
        return answer
    if not embedded:
        answer.status = TAMPERED if answer.reasons else UNSIGNED
        answer.reasons.append(_("The file carries no digital signature."))
        return answer

    context = ValidationContext(
        trust_roots=trust_roots(), allow_fetching=False, revocation_mode="soft-fail"
    )
    tsa_context = _context(tsa=True) if tsa_roots() else None
    tampered, untrusted = bool(answer.reasons), False
    for position, sig in enumerate(embedded):
        try:
            status = validate_pdf_signature(sig, context, ts_validation_context=tsa_context)
        except Exception:  # malformed signature data
            tampered = True
            answer.reasons.append(_("A signature is damaged and cannot be checked."))
            continue
        if position == 0:
            answer.signer = _common_name(status.signing_cert)
            stamp = status.timestamp_validity
            if stamp is not None and stamp.intact and stamp.valid:
                answer.signed_at = stamp.timestamp
                answer.timestamped = True
            else:
                answer.signed_at = status.signer_reported_dt
        if not status.intact:
            tampered = True
            answer.reasons.append(_("The signed content has been changed."))
        elif not status.valid:
            tampered = True
            answer.reasons.append(_("The signature value does not match the content."))
        if position == len(embedded) - 1 and status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            tampered = True
            answer.reasons.append(_("The file has been changed after it was signed."))
        if status.intact and status.valid and not status.trusted:
            untrusted = True
            answer.reasons.append(
                _("The signing certificate was not issued by this lab's certificate authority.")
            )
    if tampered:
        answer.status = TAMPERED
    elif untrusted:
        answer.status = UNTRUSTED
    return answer
