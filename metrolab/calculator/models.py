"""Saved uncertainty evaluations (不确定度评定记录, R6.2a): named, with their author and date,
kept per measurement standard, audited."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.models.base import AuditedModel
from metrolab.core.text import NAME


class Evaluation(AuditedModel):
    """An uncertainty evaluation as it was calculated: the input (the JSON of `metrolab calc
    uncertainty`, units included) and the result. The result is left out of audit events: it
    is recomputed from the audited input (Monte Carlo runs are saved with their seed)."""

    audit_exclude = AuditedModel.audit_exclude | {"result"}

    name = models.CharField(_("name"), max_length=NAME)
    spec = models.JSONField(_("input"))
    result = models.JSONField(_("result"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The order of the outputs and inputs as entered: PostgreSQL's jsonb keeps object keys in
    # an order of its own, lists as they are.
    order = models.JSONField(_("order"), default=dict, blank=True)
    measurement_standard = models.ForeignKey(
        "equipment.MeasurementStandard",
        verbose_name=_("measurement standard"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="uncertainty_evaluations",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("uncertainty evaluation")
        verbose_name_plural = _("uncertainty evaluations")

    def __str__(self) -> str:
        return self.name

    @staticmethod
    def key_order(spec: dict, result: dict) -> dict[str, list[str]]:
        return {
            "model": list(spec.get("model") or {}),
            "inputs": list(spec.get("inputs") or {}),
            "outputs": list(result.get("outputs") or {}),
        }

    @staticmethod
    def _ordered(mapping: dict, keys: list[str]) -> dict:
        first = {k: mapping[k] for k in keys if k in mapping}
        return first | {k: v for k, v in mapping.items() if k not in first}

    @property
    def ordered_spec(self) -> dict:
        """The input with its outputs and inputs in the order they were entered."""
        spec = dict(self.spec)
        for key in ("model", "inputs"):
            if isinstance(spec.get(key), dict):
                spec[key] = self._ordered(spec[key], self.order.get(key, []))
        return spec

    @property
    def ordered_result(self) -> dict:
        result = dict(self.result)
        if isinstance(result.get("outputs"), dict):
            result["outputs"] = self._ordered(result["outputs"], self.order.get("outputs", []))
        return result
