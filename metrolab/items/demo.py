"""Demo data for items: storage places and the photo taken at receipt, used by the demo flow
that carries commissions through receipt, tasks and return (metrolab.tasks.demo)."""

from __future__ import annotations

import io

from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.items.models import StorageLocation

DEMO_PLACES = [
    ("样品间 101", "A-01", "S101-A01"),
    ("样品间 101", "A-02", "S101-A02"),
    ("样品间 101", "B-01", "S101-B01"),
    ("待取区", "R-01", "RET-01"),
]


def demo_storage_places() -> list[StorageLocation]:
    places = []
    for room, shelf, code in DEMO_PLACES:
        place = StorageLocation.objects.filter(code=code).first()
        if place is None:
            place = StorageLocation.objects.create(room=room, shelf=shelf, code=code)
        places.append(place)
    return places


def demo_photo(text: str) -> SimpleUploadedFile:
    """A small JPEG standing in for a photo taken at receipt."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 360), (226, 232, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 420, 300), outline=(11, 83, 148), width=6)
    draw.ellipse((170, 110, 310, 250), outline=(29, 39, 51), width=5)
    draw.text((70, 310), text, fill=(29, 39, 51))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile(f"{text}.jpg", buffer.getvalue(), content_type="image/jpeg")
