"""Signing certificates with a key on a PKCS#11 token (issue 15 "Signing", R6.3e), on a real
SoftHSM2 token: `metrolab pki to-token` puts the lab's key there, `sign_pdf` signs through the
token with the chain (the token's certificate, the lab CA), a wrong PIN or an unknown key is a
configuration error the issue turns into a failed certificate, and the key never leaves the
token."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import translation
from pyhanko.pdf_utils.reader import PdfFileReader

from metrolab.certificates import pki, signing
from metrolab.certificates.models import Certificate

from .test_signing import small_pdf

LAB = "Token Metrology Lab"
PASSWORD = "test-p12-password"
TOKEN, KEY, PIN, SO_PIN = "metrolab", "signing", "1234", "5678"
MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)


def softhsm_module() -> str:
    """The SoftHSM2 PKCS#11 library: a skip without it, a failure in CI (Debian `softhsm2`)."""
    module = next((m for m in MODULES if Path(m).is_file()), None)
    if module is None or shutil.which("softhsm2-util") is None:
        if os.environ.get("CI"):
            pytest.fail("SoftHSM2 (Debian package softhsm2) is required in CI")
        pytest.skip("SoftHSM2 (Debian package softhsm2) is not installed")
    return module


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def token(tmp_path_factory):
    """A fresh SoftHSM2 token `metrolab` (user PIN 1234) holding a lab key made by
    `pki.pki_init`, put there with `metrolab pki to-token`. Yields the PKCS#12 files."""
    import pkcs11

    module = softhsm_module()
    home = tmp_path_factory.mktemp("softhsm")
    (home / "tokens").mkdir()
    conf = home / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {home / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    previous = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    pkcs11.unload(module)  # the library reads SOFTHSM2_CONF when it is initialised
    try:
        init = ["softhsm2-util", "--init-token", "--free", "--label", TOKEN]
        subprocess.run(
            [*init, "--pin", PIN, "--so-pin", SO_PIN],
            check=True,
            capture_output=True,
        )
        with override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD):
            files = pki.pki_init(tmp_path_factory.mktemp("pki"), lab_name=LAB)
        out = io.StringIO()
        with override_settings(
            METROLAB_SIGNING_P12_PASSWORD=PASSWORD, METROLAB_SIGNING_PKCS11_PIN=PIN
        ):
            call_command(
                "pki",
                "to-token",
                "--module",
                module,
                "--token",
                TOKEN,
                "--label",
                KEY,
                "--p12",
                str(files.signing_p12),
                stdout=out,
            )
        assert f"on token '{TOKEN}', label '{KEY}'" in out.getvalue()
        yield module, files
    finally:
        signing.close_token_session()
        signing._refused_pins.clear()
        pkcs11.unload(module)
        if previous is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = previous


def token_settings(module: str, files: pki.PkiFiles, **changes):
    values = {
        "METROLAB_SIGNING_PKCS11_MODULE": module,
        "METROLAB_SIGNING_PKCS11_TOKEN": TOKEN,
        "METROLAB_SIGNING_PKCS11_KEY": KEY,
        "METROLAB_SIGNING_PKCS11_PIN": PIN,
        "METROLAB_SIGNING_CA_CERT": files.ca_cert,
        "METROLAB_SIGNING_P12": files.signing_p12,
        "METROLAB_SIGNING_P12_PASSWORD": PASSWORD,
        "METROLAB_TSA_URL": "",
        "METROLAB_TSA_CA_CERT": "",
    }
    values.update(changes)
    return override_settings(**values)


@pytest.fixture
def on_token(token):
    module, files = token
    with token_settings(module, files):
        yield module, files
    signing.close_token_session()


def signature_certificates(pdf: bytes) -> list[asn1_x509.Certificate]:
    (sig,) = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_regular_signatures
    return [c.chosen for c in sig.signed_data["certificates"]]


def ca_of(files: pki.PkiFiles) -> asn1_x509.Certificate:
    _type, _headers, der = pem.unarmor(files.ca_cert.read_bytes())
    return asn1_x509.Certificate.load(der)


def test_a_pdf_signed_on_the_token_verifies_valid_with_the_lab_ca(on_token):
    from pyhanko.sign.pkcs11 import PKCS11Signer

    _module, files = on_token
    assert isinstance(signing.lab_signer(), PKCS11Signer)
    signed = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
    answer = signing.verify_pdf(signed)
    assert answer.status == "valid", answer.reasons
    assert answer.signer == LAB
    # The chain: the token's signing certificate and the lab CA from METROLAB_SIGNING_CA_CERT.
    subjects = {c.subject.native["common_name"] for c in signature_certificates(signed)}
    assert subjects == {LAB, f"{LAB} Root CA"}
    assert ca_of(files).dump() in [c.dump() for c in signature_certificates(signed)]


def test_the_session_stays_open_and_is_reopened_after_a_failure(on_token):
    first = signing.lab_signer()
    assert signing.lab_signer() is first  # one session per process
    signing._token["session"].close()  # e.g. the HSM restarted: the handle is gone
    signed = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
    assert signing.verify_pdf(signed).status == "valid"
    assert signing.lab_signer() is not first


def test_a_token_that_keeps_failing_is_a_configuration_error(on_token, monkeypatch):
    import pkcs11

    calls = []

    def device_gone(pdf, meta, signer, timestamper):
        calls.append(signer)
        raise pkcs11.DeviceRemoved()

    monkeypatch.setattr(signing, "_sign", device_gone)
    with pytest.raises(ImproperlyConfigured) as refused:
        signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
    assert str(refused.value) == "the PKCS#11 token did not sign: DeviceRemoved"
    assert len(calls) == 2 and calls[0] is not calls[1]  # tried again on a new session
    assert signing._token == {}  # and the broken session is not kept


def test_the_key_never_leaves_the_token(on_token, tmp_path):
    import pkcs11

    module, files = on_token
    with pkcs11.lib(module).get_token(token_label=TOKEN).open(user_pin=PIN) as session:
        objects = list(session.get_objects({pkcs11.Attribute.LABEL: KEY}))
        (key,) = session.get_objects(
            {pkcs11.Attribute.CLASS: pkcs11.ObjectClass.PRIVATE_KEY, pkcs11.Attribute.LABEL: KEY}
        )
        assert key[pkcs11.Attribute.SENSITIVE] is True
        assert key[pkcs11.Attribute.EXTRACTABLE] is False
        with pytest.raises(pkcs11.AttributeSensitive):
            key[pkcs11.Attribute.VALUE]
    # The key and its certificate, nothing else (no public key or copy of the secret).
    assert sorted(o.object_class.name for o in objects) == ["CERTIFICATE", "PRIVATE_KEY"]
    # Without the PKCS#12 file anywhere, the lab still signs.
    moved = tmp_path / "elsewhere.p12"
    files.signing_p12.rename(moved)
    try:
        signing.close_token_session()
        with override_settings(METROLAB_SIGNING_P12=tmp_path / "gone.p12"):
            signed = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
    finally:
        moved.rename(files.signing_p12)
    answer = signing.verify_pdf(signed)
    assert answer.status == "valid", answer.reasons
    assert answer.signer == LAB


def refusal(module: str, files: pki.PkiFiles, **changes) -> str:
    """The configuration error signing gives with these settings changed."""
    with token_settings(module, files, **changes), pytest.raises(ImproperlyConfigured) as refused:
        signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
    return str(refused.value)


def test_a_wrong_pin_is_a_configuration_error(token):
    module, files = token
    assert refusal(module, files, METROLAB_SIGNING_PKCS11_PIN="9999") == (
        "the PIN of PKCS#11 token 'metrolab' was refused: check METROLAB_SIGNING_PKCS11_PIN"
    )


def test_a_refused_pin_is_not_tried_again(token, monkeypatch):
    # Each wrong PIN counts against the token's retries: a queue of certificates must not lock it.
    from pyhanko.sign import pkcs11 as pyhanko_pkcs11

    module, files = token
    tried = []
    opener = pyhanko_pkcs11.open_pkcs11_session
    monkeypatch.setattr(
        pyhanko_pkcs11,
        "open_pkcs11_session",
        lambda *args, **kwargs: tried.append(kwargs["user_pin"]) or opener(*args, **kwargs),
    )
    for _certificate in range(3):
        assert "was refused" in refusal(module, files, METROLAB_SIGNING_PKCS11_PIN="4321")
    assert tried == ["4321"]
    with token_settings(module, files):  # the right PIN is tried and signs
        signed = signing.sign_pdf(small_pdf(), reason="Certificate issue", location="Shanghai")
        assert signing.verify_pdf(signed).status == "valid"
    assert tried == ["4321", PIN]
    signing.close_token_session()


def test_an_unknown_key_token_or_module_is_a_configuration_error(token, tmp_path):
    module, files = token
    assert (
        "has no usable signing key and certificate labelled 'nothing-here' "
        "(METROLAB_SIGNING_PKCS11_KEY)"
    ) in refusal(module, files, METROLAB_SIGNING_PKCS11_KEY="nothing-here")
    assert refusal(module, files, METROLAB_SIGNING_PKCS11_TOKEN="other").startswith(
        f"PKCS#11 token 'other' could not be opened with {module}: "
    )
    missing = tmp_path / "libnothing.so"
    assert refusal(module, files, METROLAB_SIGNING_PKCS11_MODULE=str(missing)) == (
        f"no PKCS#11 module at {missing}: set METROLAB_SIGNING_PKCS11_MODULE to the token's library"
    )
    assert refusal(module, files, METROLAB_SIGNING_PKCS11_PIN="") == (
        "METROLAB_SIGNING_PKCS11_PIN is not set"
    )


def test_the_key_is_put_on_a_token_once(token):
    module, files = token
    with (
        override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD, METROLAB_SIGNING_PKCS11_PIN=PIN),
        pytest.raises(CommandError, match="token 'metrolab' already holds an object labelled"),
    ):
        call_command(
            "pki", "to-token", "--module", module, "--token", TOKEN, "--label", KEY,
            "--p12", str(files.signing_p12),
        )  # fmt: skip
    with (
        override_settings(METROLAB_SIGNING_P12_PASSWORD=PASSWORD, METROLAB_SIGNING_PKCS11_PIN="0"),
        pytest.raises(CommandError, match="the PIN of token 'metrolab' was refused"),
    ):
        call_command(
            "pki", "to-token", "--module", module, "--token", TOKEN, "--label", "second",
            "--p12", str(files.signing_p12),
        )  # fmt: skip


@pytest.mark.django_db
def test_the_issue_fails_with_the_reason_on_a_wrong_pin_and_succeeds_on_retry(
    token, approved_record, issue, settings, tmp_path, cast
):
    from metrolab.certificates import services

    module, files = token
    settings.MEDIA_ROOT = tmp_path
    with token_settings(module, files, METROLAB_SIGNING_PKCS11_PIN="9999"):
        certificate = issue(approved_record.certificates.get())
    assert certificate.status == Certificate.Status.FAILED
    assert certificate.error == (
        "The lab's signing is not set up: the PIN of PKCS#11 token 'metrolab' was refused: "
        "check METROLAB_SIGNING_PKCS11_PIN"
    )
    certificate = services.certificate_retry(certificate=certificate, actor=cast["approver"])
    with token_settings(module, files):
        certificate = issue(certificate)
        assert certificate.status == Certificate.Status.ISSUED, certificate.error
        pdf = services.read_file(certificate.pdf_sha256)
        answer = signing.verify_pdf(pdf, expected_sha256=certificate.pdf_sha256)
    assert answer.status == "valid", answer.reasons
    assert answer.signer == LAB
    signing.close_token_session()
