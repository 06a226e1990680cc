"""HTML to text, for the HTML-only e-mails that some mail programs make of a robot response.

HTML in, the text a browser would show out, in lines, with the warnings of the conversion.
A module of its own, imported only when such a part turns up: the mail pipe that reads the
robot's plain-text mail never pays for it.

Not ``html.parser``: on markup left open (runs of ``<a x=`` or ``<!--``) it searches the rest
of the document again for every ``<``, and 80 KB of such markup took minutes. The tokenizer
here looks at every character a bounded number of times: a tag is read only up to the next
``<`` (a ``<`` that does not start a tag there is text), and the end of a comment, a
declaration or a marked section is found by a search that never goes back (:class:`_Next`).
Its time is linear in the size of the part, and its output is at most a small multiple of it
(the quote markers of nested ``<blockquote>`` are bounded, see :data:`MAX_QUOTE_DEPTH`).
"""

from __future__ import annotations

import html
import re

from drsparse._errors import UnreadableInputError
from drsparse._text import normalize_newlines

__all__ = ["MAX_QUOTE_DEPTH", "html_text"]


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
# Their content is raw text up to their end tag: a "<" in a script starts no tag.
_RAW_TEXT_TAGS = frozenset({"script", "style"})
_PRE_TAGS = frozenset({"pre", "textarea", "listing", "plaintext", "xmp"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f\xa0]+")

#: Nested ``<blockquote>`` deeper than this are shown at this depth (with a warning): each
#: line carries two characters of quote marker per level, and 15,000 levels around 15,000
#: lines made 1.8 GB of text out of a 255 KB mail.
MAX_QUOTE_DEPTH = 8

# A start or end tag: a name, then anything but "<" and ">" outside quotes (a quote not
# closed before the next "<" is an ordinary character). Possessive throughout: an attempt
# reads at most up to the next "<", so the attempts at all the "<" of a text read it about
# twice.
_TAG = re.compile(r"""<(/?)([a-zA-Z][^\s/>\x00<]*+)((?:[^<>"']++|"[^"<]*+"|'[^'<]*+'|["'])*+)>""")
# A marked section, "<![CDATA[" or "<![if !mso]>": its keyword.
_MARKED = re.compile(r"<!\[([a-zA-Z][-_.a-zA-Z0-9]*+)")
_MARKED_CLOSE = {
    **dict.fromkeys(("temp", "cdata", "ignore", "include", "rcdata"), "]]>"),
    **dict.fromkeys(("if", "else", "endif"), "]>"),
}


class _Next:
    """The next place of one string in a text, from positions that only grow: each search
    starts where the last one ended, so all of them together read the text once."""

    def __init__(self, text: str, needle: str) -> None:
        self.text = text
        self.needle = needle
        self.since = -1  # where the last search started (-1: none yet)
        self.found = -1  # what it found (-1: nothing after ``since``)

    def after(self, start: int) -> int:
        """The first place at or after ``start``, or -1."""
        if 0 <= self.since <= start and (self.found == -1 or self.found >= start):
            return self.found  # nothing between the last start and what it found
        self.since = start
        self.found = self.text.find(self.needle, start)
        return self.found


class _HtmlText:
    """The text of an HTML document as a browser lays it out, in lines.

    Block elements and ``<br>`` break lines; other white space collapses to one space except
    in ``<pre>``; entities are unescaped; scripts and styles are dropped. The lines of a
    ``<blockquote>`` are prefixed with ``> `` per level, so that an HTML reply quotes the
    way a plain-text one does.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.warnings: list[str] = []
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
            depth = min(self._quote, MAX_QUOTE_DEPTH)
            self.lines.append(f"{'> ' * depth}{text}" if text else ">" * depth)
        self._line = []
        self._after_blank = True

    def starttag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self._break(always=True)
        elif tag in ("td", "th"):
            self.data(" ")  # cells of a row stand side by side
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self._quote += 1
                if self._quote == MAX_QUOTE_DEPTH + 1:
                    self.warnings.append(
                        f"<blockquote> nested deeper than {MAX_QUOTE_DEPTH} levels: the "
                        f"deeper ones are read as level {MAX_QUOTE_DEPTH}"
                    )
            self._pre += tag in _PRE_TAGS

    def endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(self._hidden - 1, 0)
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "blockquote":
                self._quote = max(self._quote - 1, 0)
            elif tag in _PRE_TAGS:
                self._pre = max(self._pre - 1, 0)

    def data(self, data: str) -> None:
        if self._hidden or not data:
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

    def feed(self, markup: str) -> None:
        """Read the whole document, calling the three handlers above in order."""
        end = len(markup)
        next_lt = _Next(markup, "<")
        next_gt = _Next(markup, ">")
        closers = {needle: _Next(markup, needle) for needle in ("-->", "]]>", "]>")}
        position = 0
        while position < end:
            lt = next_lt.after(position)
            if lt < 0:
                self.data(html.unescape(markup[position:]))
                return
            self.data(html.unescape(markup[position:lt]))
            position = lt + 1  # a "<" that starts nothing is text
            if markup.startswith("<!--", lt):
                close = closers["-->"].after(lt + 4)
                position = end if close < 0 else close + 3  # open to the end: hidden
                continue
            tag = _TAG.match(markup, lt)
            if tag is not None:
                position = self._tag(markup, tag)
                continue
            kind = markup[lt + 1 : lt + 2]
            if markup.startswith("<![", lt):
                close = self._marked_section(markup, lt, closers)
            elif kind in ("!", "?", "/") and lt + 2 < end:
                # A declaration (<!DOCTYPE html>), a processing instruction, or an end tag
                # without a name: skipped up to their ">".
                close = next_gt.after(lt + 2)
                close = close + 1 if close >= 0 else -1
            else:
                close = -1
            if close < 0:
                self.data("<")
            else:
                position = close

    def _tag(self, markup: str, tag: re.Match[str]) -> int:
        """Handle a start or end tag; return where the text goes on."""
        closing, name, attributes = tag.groups()
        name = name.lower()
        if closing:
            self.endtag(name)
            return tag.end()
        self.starttag(name)
        if attributes.endswith("/"):  # <br/>, <p/>
            self.endtag(name)
        elif name in _RAW_TEXT_TAGS:
            # The content is dropped (the element is hidden) up to the end tag, or to the end.
            found = re.compile(rf"</{name}(?=[\s/>]|\Z)", re.IGNORECASE).search(markup, tag.end())
            if found is None:
                return len(markup)
            self.endtag(name)
            gt = markup.find(">", found.end())
            return len(markup) if gt < 0 else gt + 1
        return tag.end()

    @staticmethod
    def _marked_section(markup: str, lt: int, closers: dict[str, _Next]) -> int:
        """Where the marked section at ``lt`` ends (-1: not closed, it is text)."""
        keyword = _MARKED.match(markup, lt)
        if keyword is None:
            if lt + 3 >= len(markup):
                return -1
            raise ValueError(f"expected a name after '<![' at {markup[lt : lt + 20]!r}")
        closer = _MARKED_CLOSE.get(keyword.group(1).lower())
        if closer is None:
            raise ValueError(f"unknown keyword {keyword.group(1)!r} of a marked section")
        close = closers[closer].after(keyword.end())
        return close + len(closer) if close >= 0 else -1


def html_text(markup: str, path: str | None) -> tuple[str, list[str]]:
    """The text of an HTML part, and the warnings of its conversion.

    Raises :class:`~drsparse.UnreadableInputError` for a marked section (``<![...``) that
    HTML does not know, which a browser would show as nothing of what it holds.
    """
    converter = _HtmlText()
    try:
        converter.feed(markup)
    except ValueError as exc:
        raise UnreadableInputError(
            f"the HTML of MIME part {path or 'body'} cannot be read: {exc}"
        ) from exc
    where = f"MIME part {path}" if path else "the message body"
    return converter.text(), [f"{where}: {warning}" for warning in converter.warnings]
