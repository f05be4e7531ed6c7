"""What a browser sends when the user submits a page's record form (tests that post forms as
a user would, without a browser)."""

from html.parser import HTMLParser


class FormFields(HTMLParser):
    """What a browser sends for the page's record form when the user changes nothing: each
    named input's value (a checkbox or radio only when checked, no file chosen), a select's
    chosen options, a textarea's text."""

    def __init__(self):
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == "record-form":
            self._in_form = True
        if not self._in_form or "name" not in attrs and tag != "option":
            return
        if tag == "input":
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("file", "submit", "button", "reset"):
                self.fields.append((attrs["name"], attrs.get("value", "on")))
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and "selected" in attrs:
            self.fields.append((self._select, attrs.get("value", "")))
        elif tag == "textarea":
            self._textarea, self._text = attrs["name"], ""

    def handle_data(self, data):
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def as_sent(response) -> dict[str, list[str]]:
    """The record form of ``response`` as the browser posts it when nothing is changed."""
    fields = FormFields()
    fields.feed(response.content.decode())
    data: dict[str, list[str]] = {}
    for name, value in fields.fields:
        data.setdefault(name, []).append(value)
    return data
