"""Read a form from a page as a browser would submit it, unchanged."""

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, line_breaks: str = "\n"):
        super().__init__(convert_charrefs=True)
        self.line_breaks = line_breaks
        self.forms: list[list[tuple[str, str]]] = []
        self.default_buttons: list[tuple[str, str] | None] = []
        self.inside = False
        self.data: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._option: dict | None = None
        self._select_chosen: list[str] = []
        self._select_first: str | None = None
        self._select_multiple = False
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = True
            self.data = []
            self.forms.append(self.data)
            self.default_buttons.append(None)
            return
        if not self.inside:
            return
        name = attrs.get("name")
        is_button = (tag == "button" and attrs.get("type", "submit") == "submit") or (
            tag == "input" and attrs.get("type") == "submit"
        )
        if is_button and self.default_buttons[-1] is None:
            # Enter in a field submits with the form's first button, as if it were pressed.
            self.default_buttons[-1] = (name, attrs.get("value", "")) if name else ("", "")
        if tag == "input" and name and "disabled" not in attrs:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.data.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                self.data.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._select_chosen, self._select_first = name, [], None
            self._select_multiple = "multiple" in attrs
        elif tag == "option" and self._select:
            self._option, self._text = attrs, []

    def handle_data(self, data):
        if self._textarea is not None or self._option is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            # A browser reads every line break of a page as "\n", and drops one that
            # starts a textarea's content.
            text = "".join(self._text).replace("\r\n", "\n").replace("\r", "\n")
            text = text[1:] if text.startswith("\n") else text
            self.data.append((self._textarea, text.replace("\n", self.line_breaks)))
            self._textarea = None
        elif tag == "option" and self._option is not None:
            value = self._option.get("value", "".join(self._text).strip())
            if self._select_first is None:
                self._select_first = value
            if "selected" in self._option:
                self._select_chosen.append(value)
            self._option = None
        elif tag == "select" and self._select:
            chosen = self._select_chosen
            if not chosen and not self._select_multiple and self._select_first is not None:
                chosen = [self._select_first]
            self.data.extend((self._select, value) for value in chosen)
            self._select = None


def form_fields(
    html: str, *, containing: str, pressing_enter: bool = False, line_breaks: str = "\n"
) -> list[tuple[str, str]]:
    """The (name, value) pairs that the first form with a `containing` field submits as
    it stands; with `pressing_enter`, also its first button's, as a browser sends them.

    A browser sends a textarea's line breaks as "\\r\\n": `line_breaks="\\r\\n"` does too.
    """
    reader = _FormReader(line_breaks)
    reader.feed(html)
    for data, button in zip(reader.forms, reader.default_buttons, strict=True):
        if any(name == containing for name, _ in data):
            if pressing_enter and button and button[0]:
                return [*data, button]
            return data
    raise AssertionError(f"no form on the page has a field named {containing!r}")


def as_post(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The pairs as the test client's `post` takes them (several values for one name)."""
    data: dict[str, list[str]] = {}
    for name, value in pairs:
        data.setdefault(name, []).append(value)
    return data


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.ids += [value for name, value in attrs if name == "id" and value]


def repeated_ids(html: str) -> list[str]:
    """The ids that more than one element of the page has: a label, an error link or
    `aria-describedby` pointing at such an id reaches only the first of them."""
    reader = _Ids()
    reader.feed(html)
    return sorted({i for i in reader.ids if reader.ids.count(i) > 1})
