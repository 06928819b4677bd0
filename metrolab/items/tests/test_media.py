"""Photos and videos of items (R6.6b): checked by content, size-limited, stored once under
their SHA-256 outside the web root, never overwritten or deleted, served only to those who
may see the item."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from metrolab.core.service import ServiceError
from metrolab.items import files
from metrolab.items.models import ItemMedia, MediaRemovalRefused
from metrolab.items.services import item_media_add
from metrolab.items.tests.fixtures import (
    HEIC_BYTES,
    MOV_BYTES,
    MP4_BYTES,
    WEBM_BYTES,
    jpeg_bytes,
    png_bytes,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(make_commission, receive):
    return receive(make_commission(lines=[("Gauge", 2, "calibration")]))


def _stored_files(root):
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("content", "kind", "content_type"),
    [
        (jpeg_bytes(), "photo", "image/jpeg"),
        (png_bytes(), "photo", "image/png"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 40, "photo", "image/webp"),
        (HEIC_BYTES, "photo", "image/heic"),
        (MP4_BYTES, "video", "video/mp4"),
        (MOV_BYTES, "video", "video/quicktime"),
        (WEBM_BYTES, "video", "video/webm"),
    ],
)
def test_accepted_types_are_recognised_by_content(content, kind, content_type):
    assert files.sniff(content[:64]) == files.Sniffed(kind, content_type)


@pytest.mark.parametrize(
    "content",
    [
        b"plain text pretending to be a photo",
        b"%PDF-1.7\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
        b"GIF89a\x01\x00",
        b"PK\x03\x04zip",
        b"\x00\x00\x00\x18ftypM4A \x00",  # an MP4 container holding audio only
        b"\x1a\x45\xdf\xa3\x9f\x42\x86matroska",  # Matroska that is not WebM
        b"",
    ],
)
def test_other_content_is_not_recognised(content):
    assert files.sniff(content) is None


def test_a_photo_is_stored_under_its_sha256(item, cast, item_media_root):
    content = jpeg_bytes()
    upload = SimpleUploadedFile("IMG_0001.JPG", content, content_type="image/jpeg")
    media = item_media_add(item=item, upload=upload, actor=cast["item_keeper"], caption="front")
    sha = hashlib.sha256(content).hexdigest()
    assert (media.sha256, media.size, media.kind) == (sha, len(content), "photo")
    assert (media.original_name, media.caption) == ("IMG_0001.JPG", "front")
    path = item_media_root / "items" / sha[:2] / sha[2:4] / sha
    assert path.read_bytes() == content
    assert _stored_files(item_media_root) == [path]  # no temporary file left behind


def test_a_fake_typed_file_is_refused_and_nothing_is_stored(item, cast, item_media_root):
    upload = SimpleUploadedFile("photo.jpg", b"this is text, not a JPEG\n" * 50, "image/jpeg")
    with pytest.raises(ServiceError) as refused:
        item_media_add(item=item, upload=upload, actor=cast["item_keeper"])
    assert refused.value.code == "unsupported_type"
    assert "photo.jpg" in refused.value.message
    assert not ItemMedia.objects.exists()
    assert _stored_files(item_media_root) == []


def test_oversized_files_are_refused(item, cast, settings, item_media_root):
    settings.METROLAB_MAX_PHOTO_BYTES = 1000
    settings.METROLAB_MAX_VIDEO_BYTES = 2000
    big_photo = SimpleUploadedFile("big.jpg", jpeg_bytes() + b"\x00" * 1000)
    with pytest.raises(ServiceError) as refused:
        item_media_add(item=item, upload=big_photo, actor=cast["item_keeper"])
    assert refused.value.code == "too_large"
    video = SimpleUploadedFile("clip.mp4", MP4_BYTES + b"\x00" * 1500)  # under the video limit
    assert item_media_add(item=item, upload=video, actor=cast["item_keeper"]).kind == "video"
    big_video = SimpleUploadedFile("long.mp4", MP4_BYTES + b"\x01" * 2500)
    with pytest.raises(ServiceError):
        item_media_add(item=item, upload=big_video, actor=cast["item_keeper"])
    assert ItemMedia.objects.count() == 1
    assert len(_stored_files(item_media_root)) == 1


def test_a_stream_longer_than_it_claims_is_cut_off(item, cast, settings, item_media_root):
    """The size the client declares is not trusted: the store counts the bytes it writes."""
    settings.METROLAB_MAX_PHOTO_BYTES = 1000

    class Lying(io.BytesIO):
        name = "liar.jpg"
        size = 10

    with pytest.raises(ServiceError) as refused:
        item_media_add(item=item, upload=Lying(jpeg_bytes() + b"\x00" * 5000), actor=cast["admin"])
    assert refused.value.code == "too_large"
    assert _stored_files(item_media_root) == []


def test_the_same_content_is_stored_once_and_never_rewritten(
    item, cast, make_commission, receive, item_media_root
):
    content = jpeg_bytes()
    first = item_media_add(
        item=item, upload=SimpleUploadedFile("a.jpg", content), actor=cast["item_keeper"]
    )
    path = files.path_for(first.sha256)
    stat = path.stat()
    # The same content again for the same item: the same record.
    again = item_media_add(
        item=item, upload=SimpleUploadedFile("b.jpg", content), actor=cast["receptionist"]
    )
    assert again.pk == first.pk
    # For another item: a second record, still one file, untouched.
    other = receive(make_commission())
    second = item_media_add(
        item=other, upload=SimpleUploadedFile("c.jpg", content), actor=cast["receptionist"]
    )
    assert second.pk != first.pk and second.sha256 == first.sha256
    assert _stored_files(item_media_root) == [path]
    after = path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    assert not path.stat().st_mode & 0o222  # read-only on disk


def test_the_store_never_replaces_an_existing_file(item_media_root):
    """Even if a file already sits at the address (e.g. a concurrent upload won the race), the
    store leaves it as it is."""
    content = png_bytes()
    sha = hashlib.sha256(content).hexdigest()
    stored = files.store_chunks([content], limit=10_000)
    assert stored.created and stored.sha256 == sha
    inode = stored.path.stat().st_ino
    again = files.store_chunks([content[:10], content[10:]], limit=10_000)
    assert not again.created and again.path.stat().st_ino == inode


def test_media_are_never_deleted_or_changed(item, cast):
    media = item_media_add(
        item=item, upload=SimpleUploadedFile("a.png", png_bytes()), actor=cast["admin"]
    )
    with pytest.raises(MediaRemovalRefused):
        media.delete()
    with pytest.raises(MediaRemovalRefused):
        ItemMedia.objects.filter(pk=media.pk).delete()
    media.sha256 = "0" * 64
    with pytest.raises(MediaRemovalRefused):
        media.save()
    assert ItemMedia.objects.get(pk=media.pk).sha256 != "0" * 64


# --- pages ----


def test_upload_from_the_item_card(item, cast, client):
    client.force_login(cast["metrologist"])
    card = client.get(f"/items/{item.number}/").content.decode()
    assert 'accept="image/*,video/*"' in card and "capture" in card
    response = client.post(
        f"/items/{item.number}/media/",
        {
            "files": [
                SimpleUploadedFile("a.jpg", jpeg_bytes()),
                SimpleUploadedFile("v.webm", WEBM_BYTES),
                SimpleUploadedFile("fake.png", b"not an image at all"),
            ],
            "caption": "on arrival",
        },
    )
    assert response.status_code == 302
    assert sorted(item.media.values_list("kind", flat=True)) == ["photo", "video"]
    html = client.get(f"/items/{item.number}/").content.decode()
    assert "fake.png" in html  # the refusal is shown
    for media in item.media.all():
        assert media.sha256 in html  # shown with its hash
    assert str(cast["metrologist"]) in html  # and its uploader


def test_media_are_served_with_their_type_and_nosniff(item, cast, client):
    content = jpeg_bytes()
    media = item_media_add(
        item=item, upload=SimpleUploadedFile("a.jpg", content), actor=cast["admin"]
    )
    client.force_login(cast["customer_a"])
    response = client.get(f"/items/media/{media.pk}/")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == content
    ranged = client.get(f"/items/media/{media.pk}/", headers={"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and ranged.content == content[:10]
    assert ranged["Content-Range"] == f"bytes 0-9/{len(content)}"


def test_another_customer_never_sees_the_photo(item, cast, client):
    media = item_media_add(
        item=item, upload=SimpleUploadedFile("a.jpg", jpeg_bytes()), actor=cast["admin"]
    )
    client.force_login(cast["customer_b"])
    assert client.get(f"/items/media/{media.pk}/").status_code == 404
    client.force_login(cast["regulator"])
    assert client.get(f"/items/media/{media.pk}/").status_code == 403


def test_customers_cannot_upload(item, cast, client):
    client.force_login(cast["customer_a"])
    response = client.post(
        f"/items/{item.number}/media/", {"files": [SimpleUploadedFile("a.jpg", jpeg_bytes())]}
    )
    assert response.status_code == 403
    assert not item.media.exists()


def test_upload_through_the_api(item, cast, client):
    client.force_login(cast["item_keeper"])
    response = client.post(
        f"/api/v1/items/{item.number}/media",
        {"file": SimpleUploadedFile("a.png", png_bytes()), "caption": "label side"},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png" and body["caption"] == "label side"
    fake = client.post(
        f"/api/v1/items/{item.number}/media", {"file": SimpleUploadedFile("x.png", b"nope")}
    )
    assert fake.status_code == 422 and fake.json()["error"]["code"] == "unsupported_type"
    assert item.media.count() == 1


def test_upload_without_a_file_is_refused(item, cast, client):
    client.force_login(cast["item_keeper"])
    assert client.post(f"/items/{item.number}/media/", {"caption": "x"}).status_code == 302
    assert not item.media.exists()


def _multipart(field: str, file_name: str, content: bytes) -> tuple[bytes, str]:
    """A raw multipart body: Django's test client cuts file names to 255 characters."""
    boundary = "metrolab-boundary"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{file_name}"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    body = head + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_file_name_of_10000_characters_is_refused(item, cast, client):
    """A 10 000-character file name was a server error."""
    client.force_login(cast["item_keeper"])
    name = "a" * 10_000 + ".png"
    body, content_type = _multipart("file", name, png_bytes())
    response = client.post(
        f"/api/v1/items/{item.number}/media", data=body, content_type=content_type
    )
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "bad_request"
    body, content_type = _multipart("files", name, png_bytes())
    page = client.post(f"/items/{item.number}/media/", data=body, content_type=content_type)
    assert page.status_code == 400
    assert not item.media.exists()


def test_a_file_name_of_300_characters_is_refused(item, cast, client):
    client.force_login(cast["item_keeper"])
    body, content_type = _multipart("file", "a" * 300 + ".png", png_bytes())
    response = client.post(
        f"/api/v1/items/{item.number}/media", data=body, content_type=content_type
    )
    assert response.status_code == 400, response.content
    assert "255" in response.json()["error"]["message"]
    assert not item.media.exists()


def test_a_long_caption_is_refused_not_cut(item, cast, client, item_media_root):
    """(R7.2) A caption was cut to 200 characters without a word; now the service and the API
    refuse it whole, naming the limit, and store nothing."""
    from metrolab.core.text import SHORT_TEXT

    upload = SimpleUploadedFile("IMG_0002.JPG", jpeg_bytes(), content_type="image/jpeg")
    with pytest.raises(ServiceError) as refused:
        item_media_add(item=item, upload=upload, actor=cast["item_keeper"], caption="c" * 400)
    assert refused.value.field == "caption"
    assert f"{SHORT_TEXT}" in refused.value.message and "400" in refused.value.message
    client.force_login(cast["item_keeper"])
    response = client.post(
        f"/api/v1/items/{item.number}/media",
        {"file": SimpleUploadedFile("a.png", png_bytes()), "caption": "c" * (SHORT_TEXT + 1)},
    )
    assert response.status_code == 422
    [detail] = response.json()["error"]["details"]
    assert detail["loc"][-1] == "caption" and detail["type"] == "string_too_long"
    assert not item.media.exists()
    assert _stored_files(item_media_root) == []
    kept = item_media_add(
        item=item, upload=upload, actor=cast["item_keeper"], caption="c" * SHORT_TEXT
    )
    assert kept.caption == "c" * SHORT_TEXT
