"""HTML to text, for the HTML-only e-mails that some mail programs make of a robot response.

A module of its own so that ``html.parser`` is imported only when such a part turns up: the
mail pipe that reads the robot's plain-text mail never pays for it.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from drsparse._errors import UnreadableInputError
from drsparse._text import normalize_newlines

__all__ = ["html_text"]


# Elements that start and end a line, the way a browser shows them.
_BLOCK_TAGS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "caption", "center", "dd"),
        *("details", "dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html"),
        *("legend", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary"),
        *("table", "tbody", "tfoot", "thead", "tr", "ul"),
    }
)
_HIDDEN_TAGS = frozenset({"script", "style", "template", "title"})
_PRE_TAGS = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")


class _HtmlText(HTMLParser):
    """The text of an HTML document as a browser lays it out, in lines.

    Block elements and ``<br>`` break lines; other white space collapses to one space except
    in ``<pre>``; entities are unescaped; scripts and styles are dropped. The lines of a
    ``<blockquote>`` are prefixed with ``> `` per level, so that an HTML reply quotes the
    way a plain-text one does.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._line: list[str] = []
        # Whether the next text starts after white space (or at the start of a line), where
        # its own leading white space collapses away.
        self._after_blank = True
        self._hidden = 0
        self._pre = 0
        self._quote = 0

    def _break(self, *, always: bool = False) -> None:
        text = "".join(self._line).rstrip(" ")
        if text or always:
            self.lines.append(f"{'> ' * self._quote}{text}" if text else ">" * self._quote)
        self._line = []
        self._after_blank = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self._break(always=True)
        elif tag in ("td", "th"):
            self.handle_data(" ")  # cells of a row stand side by side
        elif tag in _BLOCK_TAGS:
            self._break()
            self._quote += tag == "blockquote"
            self._pre += tag in _PRE_TAGS

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self._quote = max(self._quote - 1, 0)
            elif tag in _PRE_TAGS:
                self._pre = max(self._pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if self._pre:
            first, *rest = normalize_newlines(data.replace("\xa0", " ")).split("\n")
            self._line.append(first)
            for line in rest:
                self._break(always=True)
                self._line.append(line)
            self._after_blank = False
            return
        text = _HTML_SPACE.sub(" ", data)
        if self._after_blank:
            text = text.lstrip(" ")
        if text:
            self._line.append(text)
            self._after_blank = text.endswith(" ")

    def text(self) -> str:
        self._break()
        return "\n".join(self.lines) + "\n"


def html_text(html: str, path: str | None) -> str:
    converter = _HtmlText()
    try:
        converter.feed(html)
        converter.close()
    # html.parser records no errors in 3.11 but keeps asserts for states it thinks impossible.
    except (AssertionError, ValueError, IndexError, RecursionError) as exc:
        raise UnreadableInputError(
            f"the HTML of MIME part {path or 'body'} cannot be read: {exc}"
        ) from exc
    return converter.text()
