"""Public certificate verification pages (R9.1): anyone, no sign-in, at /verify/.

One page with two forms (number + verification code; the PDF file) and the answer; the QR
link printed on a certificate (/verify/<identifier>/?code=...) shows the answer straight away.
Each verification counts against the client address's allowance (429 past it); showing the
empty forms does not.
"""

from __future__ import annotations

from django import forms
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from metrolab.certificates import verification
from metrolab.core.access import public
from metrolab.core.middleware import client_ip
from metrolab.core.service import ServiceError
from metrolab.core.text import CODE

TEMPLATE = "certificates/verify.html"
_CODE_INPUT = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}


class VerifyCodeForm(forms.Form):
    number = forms.CharField(
        label=_lazy("Certificate no."),
        max_length=CODE,
        widget=forms.TextInput(attrs=_CODE_INPUT),
    )
    code = forms.CharField(
        label=_lazy("Verification code"),
        max_length=CODE,
        widget=forms.TextInput(attrs=_CODE_INPUT),
        help_text=_lazy("The 8 characters printed on the certificate next to the QR code."),
    )


class VerifyFileForm(forms.Form):
    file = forms.FileField(
        label=_lazy("Certificate PDF file"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
        help_text=_lazy("The electronic certificate as you received it, unchanged."),
    )


def _throttled() -> str:
    return _("Too many verifications from your address. Wait a minute and try again.")


def _page(request, *, code_form=None, file_form=None, answer=None, error="", status=200):
    return render(
        request,
        TEMPLATE,
        {
            "code_form": code_form or VerifyCodeForm(),
            "file_form": file_form or VerifyFileForm(),
            "answer": answer,
            "error": error,
            "max_mb": max(verification.max_upload_bytes() // (1024 * 1024), 1),
        },
        status=status,
    )


@public
def verify_form(request):
    """The verification page: GET shows the forms (or, with ?number=&code=, the answer);
    POST checks the number and code, or the uploaded PDF (`way=file`)."""
    if request.method == "POST" and request.POST.get("way") == "file":
        return _verify_file(request)
    data = request.POST if request.method == "POST" else None
    if data is None and request.GET.get("number") and request.GET.get("code"):
        data = request.GET
    form = VerifyCodeForm(data)
    if data is None:
        return _page(request, code_form=form)
    if not form.is_valid():
        return _page(request, code_form=form, status=422)
    if not verification.verify_allowed(client_ip(request)):
        return _page(request, code_form=form, error=_throttled(), status=429)
    answer = verification.answer_by_number(form.cleaned_data["number"], form.cleaned_data["code"])
    return _page(request, code_form=form, answer=answer)


def _verify_file(request):
    form = VerifyFileForm(request.POST, request.FILES)
    if not form.is_valid():
        return _page(request, file_form=form, status=422)
    if not verification.verify_allowed(client_ip(request)):
        return _page(request, file_form=form, error=_throttled(), status=429)
    try:
        answer = verification.answer_for_upload(form.cleaned_data["file"])
    except ServiceError as exc:
        form.add_error("file", exc.message)
        return _page(request, file_form=form, status=422)
    return _page(request, file_form=VerifyFileForm(), answer=answer)


@public
def verify_link(request, identifier: str):
    """The QR link printed on a certificate: the answer for its identifier and code at once."""
    if not verification.verify_allowed(client_ip(request)):
        return _page(request, error=_throttled(), status=429)
    answer = verification.answer_by_link(identifier, request.GET.get("code", ""))
    return _page(request, answer=answer)
