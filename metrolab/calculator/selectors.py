"""Reads of the calculator: saved uncertainty evaluations, newest first."""

from __future__ import annotations

from metrolab.calculator.models import Evaluation


def evaluation_list(*, measurement_standard=None):
    evaluations = Evaluation.objects.select_related("author", "measurement_standard")
    if measurement_standard is not None:
        evaluations = evaluations.filter(measurement_standard=measurement_standard)
    return evaluations


def evaluation_get(pk: int) -> Evaluation | None:
    return evaluation_list().filter(pk=pk).first()
