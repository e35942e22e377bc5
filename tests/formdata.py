"""What a browser sends when a person submits a form on a rendered page without touching it: every
named input with its value, checked boxes only, each select's selected option (or its first),
textareas as shown. Tests change one value of it and post it back, so they exercise the page's real
form (a field the page does not render is not sent, as in a browser)."""

from html.parser import HTMLParser

SKIPPED_INPUTS = {"submit", "button", "image", "reset", "file"}


class _FormReader(HTMLParser):
    def __init__(self, form_id: str | None):
        super().__init__(convert_charrefs=True)
        self.form_id, self.depth, self.done = form_id, 0, False
        self.pairs: list[tuple[str, str]] = []
        self.select: dict | None = None
        self.option: dict | None = None
        self.textarea: dict | None = None

    def _wanted(self, attrs: dict) -> bool:
        if self.form_id is not None:
            return attrs.get("id") == self.form_id
        return (attrs.get("method") or "").lower() == "post" and "action" not in attrs

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if not self.done and self.depth == 0 and self._wanted(a):
                self.depth = 1
            return
        if self.depth == 0 or "disabled" in a:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.pairs.append((name, a.get("value", "on")))
            elif kind not in SKIPPED_INPUTS:
                self.pairs.append((name, a.get("value", "")))
        elif tag == "select" and name:
            self.select = {"name": name, "multiple": "multiple" in a, "options": []}
        elif tag == "option" and self.select is not None:
            self.option = {"value": a.get("value"), "text": "", "selected": "selected" in a}
            self.select["options"].append(self.option)
        elif tag == "textarea" and name:
            self.textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self.option is not None:
            self.option["text"] += data
        if self.textarea is not None:
            self.textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.depth:
            self.depth, self.done = 0, True
        elif tag == "option":
            self.option = None
        elif tag == "select" and self.select is not None:
            options = self.select["options"]
            chosen = [o for o in options if o["selected"]] or ([] if self.select["multiple"] else options[:1])
            for o in chosen:
                self.pairs.append((self.select["name"], o["text"].strip() if o["value"] is None else o["value"]))
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            text = self.textarea["text"]
            text = text[1:] if text.startswith("\n") else text  # as browsers read <textarea>\n…
            self.pairs.append((self.textarea["name"], text.replace("\n", "\r\n")))  # and send CRLF
            self.textarea = None


def form_data(html: str | bytes, form_id: str | None = None) -> dict[str, list[str]]:
    """The values the form (by id, else the page's first post form without an action) would send,
    as {name: [values]}, which Django's test client posts as a browser would."""
    reader = _FormReader(form_id)
    reader.feed(html.decode() if isinstance(html, bytes) else html)
    assert reader.done, f"no form {form_id or '(post)'} on the page"
    data: dict[str, list[str]] = {}
    for name, value in reader.pairs:
        data.setdefault(name, []).append(value)
    return data
