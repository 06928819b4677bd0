"""Items under test (样品 / 被检器具): unique numbers, RFID / NFC tags, photos and videos,
custody events and storage places (R6.6a-f)."""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from metrolab.commissions.choices import Service
from metrolab.core.components import register_tones
from metrolab.core.models import AuditedModel
from metrolab.core.models.base import AuditedQuerySet
from metrolab.core.text import CODE, NAME, NOTE, REFERENCE, SHORT_TEXT


class MediaRemovalRefused(RuntimeError):
    """Photos and videos of items are evidence (R6.6b): they are never deleted or replaced."""


class ItemNumberRule(AuditedModel):
    """How item numbers are made (R6.6a): prefix, year, zero-padded sequence and a check
    digit. One row; the sequence restarts each year and a number is never reused."""

    prefix = models.CharField(_("prefix"), max_length=10, default="YP")
    year_digits = models.PositiveSmallIntegerField(
        _("year digits"), default=4, choices=[(2, "26"), (4, "2026")]
    )
    sequence_digits = models.PositiveSmallIntegerField(_("sequence digits"), default=5)
    check_digit = models.BooleanField(_("check digit (ISO 7064 MOD 11-2)"), default=True)

    class Meta:
        verbose_name = _("item number rule")
        verbose_name_plural = _("item number rule")

    def __str__(self):
        return f"{self.prefix} / {self.year_digits} / {self.sequence_digits}"


class ItemNumberCounter(AuditedModel):
    """The last sequence number given out in a year (incremented under a row lock)."""

    year = models.PositiveIntegerField(_("year"), unique=True)
    last = models.PositiveIntegerField(_("last sequence"), default=0)

    class Meta:
        verbose_name = _("item number counter")
        verbose_name_plural = _("item number counters")

    def __str__(self):
        return f"{self.year}: {self.last}"


class StorageLocation(AuditedModel):
    """A storage room and shelf (样品间 / 货架) where items wait (R6.6d)."""

    room = models.CharField(_("room"), max_length=NAME)
    shelf = models.CharField(_("shelf"), max_length=CODE, blank=True)
    code = models.CharField(_("code"), max_length=CODE, unique=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("storage location")
        verbose_name_plural = _("storage locations")
        ordering = ["room", "shelf"]

    def __str__(self):
        return f"{self.room} {self.shelf}".strip()


class Item(AuditedModel):
    """One physical instrument received from a customer (R6.6c fields). Its state and place
    are those of its latest custody event (kept here for fast lists, always re-derivable)."""

    class State(models.TextChoices):
        RECEIVED = "received", _("received")
        MOVED = "moved", _("in storage")
        IN_TESTING = "in_testing", _("in testing")
        AWAITING_RETURN = "awaiting_return", _("awaiting return")
        RETURNED = "returned", _("returned")
        DISPOSED = "disposed", _("disposed")

    number = models.CharField(_("item no."), max_length=30, unique=True)
    commission = models.ForeignKey(
        "commissions.Commission",
        verbose_name=_("commission"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    line = models.ForeignKey(
        "commissions.CommissionLine",
        verbose_name=_("commission line"),
        on_delete=models.PROTECT,
        related_name="items",
    )
    name = models.CharField(_("name"), max_length=NAME)
    model_range = models.CharField(_("model / range"), max_length=NAME, blank=True)
    accuracy_class = models.CharField(_("accuracy class"), max_length=NAME, blank=True)
    serial_no = models.CharField(_("serial no."), max_length=REFERENCE, blank=True)
    manufacturer = models.CharField(_("manufacturer"), max_length=NAME, blank=True)
    service = models.CharField(_("service"), max_length=16, choices=Service)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("received by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    received_at = models.DateTimeField(_("received at"))
    promised_date = models.DateField(_("promised delivery"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State, default=State.RECEIVED, db_index=True
    )
    location = models.ForeignKey(
        StorageLocation,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="items",
    )
    condition = models.TextField(_("condition on receipt"), blank=True, max_length=NOTE)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.number} {self.name}"


class CustodyEvent(AuditedModel):
    """Who did what with an item, when and where (R6.6d, R6.6f): received, moved, in testing,
    awaiting return, returned (with who collected it) or disposed."""

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="custody_events"
    )
    kind = models.CharField(_("event"), max_length=16, choices=Item.State)
    at = models.DateTimeField(_("time"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    location = models.ForeignKey(
        StorageLocation,
        verbose_name=_("location"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    collected_by = models.CharField(_("collected by"), max_length=NAME, blank=True)
    note = models.CharField(_("note"), max_length=SHORT_TEXT, blank=True)

    class Meta:
        verbose_name = _("custody event")
        verbose_name_plural = _("custody events")
        ordering = ["item", "at", "pk"]

    def __str__(self):
        return f"{self.item.number} {self.kind}"


class RfidTag(AuditedModel):
    """An RFID / NFC tag bound to an item (R6.6a); a UID is bound to one item at a time."""

    uid = models.CharField(
        _("tag UID"),
        max_length=CODE,
        unique=True,
        validators=[
            RegexValidator(
                r"^[0-9A-Z]{4,64}\Z",
                _("A tag UID is 4 to 64 letters and digits (separators are ignored)."),
            )
        ],
    )
    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.CASCADE, related_name="tags"
    )
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bound by"),
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("RFID / NFC tag")
        verbose_name_plural = _("RFID / NFC tags")

    def __str__(self):
        return self.uid


class ItemMediaQuerySet(AuditedQuerySet):
    def delete(self):
        raise MediaRemovalRefused("item photos and videos are never deleted")


class ItemMedia(AuditedModel):
    """A photo or video of an item (R6.6b), stored once under its SHA-256 outside the web
    root; never overwritten or deleted."""

    # Once recorded, these describe the stored bytes and may not change.
    immutable_fields = ("item_id", "sha256", "content_type", "size", "kind")

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        VIDEO = "video", _("video")

    item = models.ForeignKey(
        Item, verbose_name=_("item"), on_delete=models.PROTECT, related_name="media"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    caption = models.CharField(_("caption"), max_length=SHORT_TEXT, blank=True)

    objects = ItemMediaQuerySet.as_manager()

    class Meta:
        verbose_name = _("item photo or video")
        verbose_name_plural = _("item photos and videos")
        ordering = ["item", "created_at"]

    def __str__(self):
        return f"{self.item.number} {self.sha256[:12]}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            before = getattr(self, "_audit_snapshot", {})
            for name in self.immutable_fields:
                if name in before and before[name] != getattr(self, name):
                    raise MediaRemovalRefused(f"{name} of a stored photo or video cannot change")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise MediaRemovalRefused("item photos and videos are never deleted")


# Badge tones (core/components.py).
register_tones(
    Item.State,
    {
        Item.State.RECEIVED: "blue",
        Item.State.MOVED: "green",
        Item.State.IN_TESTING: "yellow",
        Item.State.AWAITING_RETURN: "purple",
        Item.State.RETURNED: "grey",
        Item.State.DISPOSED: "grey",
    },
)
