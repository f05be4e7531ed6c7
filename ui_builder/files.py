"""Files on the end-user pages: the uploads of a record form, kept through the records service
before the save, and the download of a record's file, for users who may read the record and
the field (anyone else gets a 404, as for a record that does not exist)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_safe

from records import files
from records.errors import RecordError
from records.service import RecordService
from tenants.views import tenant_required


def url_of(entity_key: str, record_id: int, field_key: str) -> str:
    return reverse("records:file", args=[entity_key, record_id, field_key])


class FileLink(str):
    """A file's name that pages draw as its download link (CSV exports write the name)."""

    url: str

    def __new__(cls, name: str, url: str):
        link = super().__new__(cls, name)
        link.url = url
        return link

    def __html__(self) -> str:
        return format_html('<a href="{}" download>{}</a>', self.url, str(self))


def link(entity_key: str, record_id: int, field_key: str, value: dict) -> FileLink:
    return FileLink(value["name"], url_of(entity_key, record_id, field_key))


class FormUploads:
    """The files chosen in a record form's file inputs, kept before the record is saved.

    ``values()`` keeps each one through the records service (the field's size and type checks
    refuse it with its error, nothing kept) and gives the values to save. When the save is
    refused for another reason, ``pending()`` names the kept files by upload id, so that the
    form shown again keeps them without asking for them again; a file never saved with a record
    is deleted by ``clean_files``."""

    def __init__(self, service: RecordService, entity, uploaded):
        self.service = service
        self.entity = entity
        self.uploaded = uploaded  # request.FILES
        self.kept: dict[str, dict] = {}

    def values(self) -> dict[str, dict]:
        for key, field in self.entity.fields.items():
            upload = self.uploaded.get(key)
            if field.options["type"] == "file" and upload is not None:
                self.kept[key] = self.service.store_file(self.entity.key, key, upload)
        return dict(self.kept)

    def pending(self, posted):
        """``posted`` (a QueryDict) with the kept files as upload ids (``upload_<key>``)."""
        if not self.kept:
            return posted
        posted = posted.copy()
        for key, value in self.kept.items():
            posted[f"upload_{key}"] = files.upload_id(self.service.tenant.pk, value)
            posted.pop(f"remove_{key}", None)
        return posted


@tenant_required
@require_safe
def download(request, entity: str, record_id: int, field: str):
    """The file a record holds in ``field``, as an attachment under the name it was uploaded
    with; a 404 when the user may not read the record or the field, or there is no file."""
    try:
        value = RecordService(request.tenant, request.user).file_value(entity, record_id, field)
        handle = files.open_file(request.tenant.pk, value)
    except (RecordError, OSError) as error:
        raise Http404("No such file.") from error
    response = FileResponse(
        handle, as_attachment=True, filename=value["name"], content_type=value["content_type"]
    )
    # Never drawn by the browser, whatever it holds: no script of it runs in the app's origin.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
