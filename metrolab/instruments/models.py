"""Instrument connections and procedure runs (issue 16; R8a, R8b, R6.2a, R6.4e, R5.2).

- `InstrumentConnection`: how the platform reaches one piece of equipment (the JSON that
  `connections.open_driver` takes) and the identity it last reported.
- `Run`: one run of a procedure that fills a draft record: the procedure's definition as run
  (a snapshot), who started it, which equipment plays each role, the executor's `RunState`
  and the reason it stopped.
- `RunEvent`: what happened in a run, in order: the transcript of every command and answer,
  readings, steps, faults, prompts, pauses, resumptions, an abort.
- `Procedure` / `ProcedureVersion`: a documented procedure and its versions, reviewed and
  approved like record templates (core/versions.py); a run uses the approved version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.text import CODE, NAME, NOTE, REASON
from metrolab.core.versions import ReviewedVersion

#: At most this many transcript lines (commands and answers) are kept per run; the rest is
#: counted, not stored (`Run.dropped_lines`).
MAX_TRANSCRIPT_LINES = 5000
#: The text of one event is cut to this length.
EVENT_TEXT = 1000


class InstrumentConnection(AuditedModel):
    """How a piece of equipment is connected (R8a): the connection JSON, its driver family,
    and the identity (*IDN?) last read from it."""

    equipment = models.OneToOneField(
        "equipment.Equipment",
        verbose_name=_("equipment"),
        on_delete=models.CASCADE,
        related_name="instrument_connection",
    )
    connection = models.JSONField(_("connection"), default=dict)
    driver = models.CharField(_("driver"), max_length=CODE)
    identity = models.JSONField(_("identity"), default=dict, blank=True)
    identified_at = models.DateTimeField(_("identified at"), null=True, blank=True)

    class Meta:
        verbose_name = _("instrument connection")
        verbose_name_plural = _("instrument connections")

    def __str__(self) -> str:
        return f"{self.equipment_id}: {self.driver}"


class Run(AuditedModel):
    """One run of a procedure filling a draft record (R8b)."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        WAITING_PROMPT = "waiting_prompt", _("waiting for the operator")
        ABORTED = "aborted", _("aborted")
        DONE = "done", _("done")

    FINAL = (Status.ABORTED, Status.DONE)

    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("task"), on_delete=models.PROTECT, related_name="+"
    )
    record = models.ForeignKey(
        "records.Record",
        verbose_name=_("record"),
        on_delete=models.PROTECT,
        related_name="instrument_runs",
    )
    procedure_code = models.CharField(_("procedure"), max_length=CODE)
    procedure_version = models.CharField(_("procedure version"), max_length=CODE)
    definition = models.JSONField(_("procedure definition"), default=dict)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    #: {role: equipment pk} for the lab's equipment; {role: connection JSON} in `connections`
    #: for a role without equipment (the item under test).
    roles = models.JSONField(_("roles"), default=dict)
    connections = models.JSONField(_("connections"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status, default=Status.QUEUED, db_index=True
    )
    state = models.JSONField(_("state"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=NOTE)
    #: Why the values of a record that came back from its check are measured again (the
    #: record asks for a reason for every change after its check, R6.2c).
    change_reason = models.TextField(_("reason for the change"), blank=True, max_length=REASON)
    #: A pause or an abort asked for while the worker runs it: "pause" or "abort".
    requested = models.CharField(_("requested"), max_length=CODE, blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    dropped_lines = models.PositiveIntegerField(_("transcript lines not kept"), default=0)

    class Meta:
        verbose_name = _("procedure run")
        verbose_name_plural = _("procedure runs")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.procedure_code} #{self.pk}"


class RunEvent(models.Model):
    """What happened in a run, append-only: the instrument transcript and the run's progress.
    Not audited row by row (a transcript would flood the audit log); the run's own changes and
    the readings written into the record are."""

    class Kind(models.TextChoices):
        COMMAND = "command", _("command")
        ANSWER = "answer", _("answer")
        READING = "reading", _("reading")
        STEP = "step", _("step")
        FAULT = "fault", _("fault")
        PROMPT = "prompt", _("prompt")
        PAUSE = "pause", _("pause")
        RESUME = "resume", _("resume")
        ABORT = "abort", _("abort")
        DONE = "done", _("done")
        START = "start", _("start")
        CONFIRM = "confirm", _("prompt confirmed")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("at"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    role = models.CharField(_("role"), max_length=CODE, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=NOTE)
    #: Who started, confirmed, paused, resumed or aborted the run, and from which client
    #: address (R6.9d: a run is driven from the web page, wherever the person is); empty for
    #: what the worker and the instruments did.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    address = models.GenericIPAddressField(_("client address"), null=True, blank=True)

    class Meta:
        verbose_name = _("run event")
        verbose_name_plural = _("run events")
        ordering = ["pk"]
        indexes = [models.Index(fields=["run", "kind"], name="runevent_run_kind_idx")]

    def __str__(self) -> str:
        return f"{self.run_id} {self.kind}: {self.text[:40]}"


#: At most this many transcript lines are kept per connection check; the rest is counted.
MAX_CHECK_LINES = 200
#: One transcript line of a check is cut to this length.
CHECK_LINE_TEXT = 300


class ConnectionCheck(AuditedModel):
    """One identify or self-test of a connected instrument (R8a, issue 16): who asked, when,
    the outcome and every command sent and answer received (`transcript`: [[">", "*IDN?"],
    ["<", "FLUKE,5522A,..."]], at most MAX_CHECK_LINES; the rest counted in
    `dropped_lines`). The transcript is left out of the audit events (their row is audited)."""

    class Kind(models.TextChoices):
        IDENTIFY = "identify", _("identify")
        SELF_TEST = "self_test", _("self-test")

    class Outcome(models.TextChoices):
        PASSED = "passed", _("passed")
        MISMATCH = "mismatch", _("does not match the register")
        FAILED = "failed", _("failed")
        UNREACHABLE = "unreachable", _("unreachable")

    audit_exclude = AuditedModel.audit_exclude | {"transcript"}

    connection = models.ForeignKey(
        InstrumentConnection,
        verbose_name=_("instrument connection"),
        on_delete=models.CASCADE,
        related_name="checks",
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind)
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome)
    #: The identity read ({"manufacturer", "model", "serial", "firmware"}), or {}.
    identity = models.JSONField(_("identity"), default=dict, blank=True)
    #: What does not match the register (identify), the failures (self-test), or the error.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    transcript = models.JSONField(_("transcript"), default=list, blank=True)
    dropped_lines = models.PositiveIntegerField(_("transcript lines not kept"), default=0)

    class Meta:
        verbose_name = _("connection check")
        verbose_name_plural = _("connection checks")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["connection", "kind", "-at"], name="conncheck_kind_at_idx")]

    def __str__(self) -> str:
        return f"{self.connection_id} {self.kind}: {self.outcome}"

    @property
    def passed(self) -> bool:
        return self.outcome == self.Outcome.PASSED


register_tones(
    ConnectionCheck.Outcome,
    {
        ConnectionCheck.Outcome.PASSED: "green",
        ConnectionCheck.Outcome.MISMATCH: "yellow",
        ConnectionCheck.Outcome.FAILED: "red",
        ConnectionCheck.Outcome.UNREACHABLE: "red",
    },
)


class Procedure(AuditedModel):
    """A documented procedure (R8b; `metrolab-procedure/1`, docs/procedures.md): its versions
    hold the definition; a run uses its approved version. `template` is the code of the
    record template it fills."""

    code = models.CharField(_("code"), max_length=CODE, unique=True)
    title = models.CharField(_("title"), max_length=NAME)
    template = models.CharField(_("record template"), max_length=CODE)
    builtin = models.BooleanField(_("built in"), default=False)

    class Meta:
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class ProcedureVersion(ReviewedVersion):
    """One version of a procedure's definition, reviewed and approved like a record
    template's (core/versions.py): only an approved version runs; it never changes again."""

    procedure = models.ForeignKey(
        Procedure,
        verbose_name=_("procedure"),
        on_delete=models.PROTECT,
        related_name="versions",
    )

    builtin_note_shown = _("Built in: approved when the built-in procedures were loaded")

    class Meta:
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        ordering = ["procedure", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.procedure.code} v{self.number}"
