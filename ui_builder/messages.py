"""Field problems in the user's language. The records service explains a problem in English
with its details ("'lots' is not a number"); a user reading another language gets the problem's
stable code said in theirs instead (validation rules carry their own messages per language)."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

BY_CODE = {
    "required": _("This field is required."),
    "invalid_type": _("This value has the wrong kind."),
    "invalid_number": _("Enter a number."),
    "not_integer": _("Enter a whole number."),
    "out_of_range": _("This value is out of range."),
    "below_min": _("This value is too small."),
    "above_max": _("This value is too large."),
    "too_many_digits": _("This number has too many digits."),
    "too_long": _("This text is too long."),
    "too_short": _("This text is too short."),
    "invalid_email": _("Enter an e-mail address."),
    "invalid_phone": _("Enter a telephone number."),
    "invalid_url": _("Enter an http(s) address."),
    "invalid_date": _("Enter a date."),
    "invalid_datetime": _("Enter a date and time."),
    "unknown_option": _("Choose one of the options."),
    "invalid_reference": _("Choose a record that exists and that you may see."),
    "not_unique": _("Another record already has this value."),
    "read_only": _("This field cannot be changed here."),
    "invalid_currency": _("Choose a currency."),
    "currency_not_allowed": _("This currency is not allowed here."),
    "file_too_large": _("This file is too large."),
    "file_type_refused": _("This kind of file is not accepted here."),
    "file_empty": _("This file is empty."),
    "file_missing": _("This file is no longer kept: choose it again."),
    "invalid_upload": _("This upload has expired: choose the file again."),
    "invalid_file": _("This is not a file uploaded here."),
}


def in_language(code: str, message: str) -> str:
    """The problem in the active language: the service's English message for English, else
    the code's message where there is one."""
    language = (get_language() or "en").lower()
    if language.startswith("en") or code not in BY_CODE:
        return message
    return str(BY_CODE[code])


def problem_message(entity, problem) -> str:
    """A field problem of the records service for the user: a broken validation rule in its
    own words in the user's language, anything else by its code (``in_language``)."""
    from ui_builder.display import label_of

    message = in_language(problem.code, problem.message)
    if problem.code.startswith("rule:"):
        rule = next((r for r in entity.rules if r.key == problem.code.split(":", 1)[1]), None)
        if rule is not None:
            message = label_of(rule.message, message)
    return message
