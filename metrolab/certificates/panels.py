"""What certificates add to other apps' pages: a commission's certificates with their status
and downloads (registered in `commissions.panels.detail_extenders` by CertificatesConfig)."""

from __future__ import annotations

from typing import Any

from metrolab.certificates.selectors import certificates_visible_to


def commission_certificates(user: Any, commission) -> dict[str, Any]:
    """The commission's certificates `user` may see (a customer: those with a file), by item
    and newest first (R6.3, R4.3)."""
    rows = certificates_visible_to(user).filter(commission=commission)
    return {"certificates": list(rows.order_by("item__number", "-created_at", "-pk"))}
