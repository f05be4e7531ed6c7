"""Values as an end user reads them: option labels in their language, localized numbers and
dates, the title of the record a lookup points at, Yes / No."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _


def label_of(label: dict | None, fallback: str = "") -> str:
    """A label object in the active language (zh-hans → zh-Hans), else English, else any."""
    if not label:
        return fallback
    language = (get_language() or "en").lower()
    for key, text in label.items():
        if key.lower() == language:
            return text
    return label.get("en") or next(iter(label.values()), fallback)


def title_field_of(entity) -> str | None:
    """The field that names an entity's records: its title field, else its first text field."""
    key = entity.options.get("title_field")
    if key is None:
        key = next((k for k, f in entity.fields.items() if f.options["type"] == "text"), None)
    return key


def title_of(entity, values: dict, record_id: int) -> str:
    """A record's name: its title field, else its first text field, else the entity and id."""
    key = title_field_of(entity)
    value = values.get(key) if key else None
    return (
        str(value)
        if value not in (None, "")
        else f"{label_of(entity.options.get('label'), entity.key)} {record_id}"
    )


def shown(field, value, titles: dict | None = None) -> str:
    """One field's value as text for the page (``titles``: lookup id -> title)."""
    if value is None or value == "" or value == []:
        return ""
    kind = field.options["type"]
    if kind in ("formula", "rollup"):
        kind = field.options.get("result_type", kind)
    if kind in ("choice", "multi_choice"):
        options = {
            o["value"]: label_of(o.get("label"), o["value"])
            for o in field.options.get("options", [])
        }
        values = value if isinstance(value, list) else [value]
        return ", ".join(options.get(v, v) for v in values)
    if kind == "boolean":
        return _("Yes") if value else _("No")
    if kind in ("lookup", "multi_lookup"):
        ids = value if isinstance(value, list) else [value]
        return ", ".join((titles or {}).get(i, f"#{i}") for i in ids)
    if kind == "currency" and isinstance(value, dict):
        amount = formats.number_format(value["amount"], use_l10n=True, force_grouping=True)
        return f"{amount} {value['currency']}"
    if isinstance(value, Decimal):
        return formats.number_format(value, use_l10n=True, force_grouping=True)
    if kind == "date":
        return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT")
    if kind == "datetime":
        moment = value
        if not isinstance(moment, dt.datetime):
            moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return formats.date_format(moment, "SHORT_DATETIME_FORMAT")
    if kind == "file" and isinstance(value, dict):
        return str(value.get("name", ""))
    if kind == "address" and isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v)
    return str(value)
