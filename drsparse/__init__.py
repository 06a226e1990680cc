"""drsparse: the e-mails of the Knipp DRS robot as typed, trustworthy data.

    >>> import drsparse
    >>> r = drsparse.parse(text)           # exactly one response in a text
    >>> r.result.code, r.status, r.domain
    (10000, 'succeeded', 'ixpos.com')

The public names are re-exported here; everything else lives in private modules named after
the stages of the pipeline: _blocks (find blocks) -> _grammar (Lark) -> _build (typed model).
"""

from drsparse._codes import CATEGORIES, CodeInfo, explain, load_codes, reset_codes
from drsparse._errors import (
    DrsParseError,
    DuplicateKeyError,
    InvalidValueError,
    LimitExceededError,
    MalformedLineError,
    MissingKeyError,
    NoResponseError,
    SeveralResponsesError,
    UnreadableInputError,
)
from drsparse._format import format_response as format
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mail import DEFAULT_TRUST, Trust, parse_message
from drsparse._mailbox import MailItem, parse_messages, read_messages
from drsparse._model import (
    Contact,
    Field,
    Nameserver,
    Origin,
    Response,
    Result,
    Status,
    SubResult,
)
from drsparse._parse import parse, parse_all

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "DEFAULT_LIMITS",
    "DEFAULT_TRUST",
    "CodeInfo",
    "Contact",
    "DrsParseError",
    "DuplicateKeyError",
    "Field",
    "InvalidValueError",
    "LimitExceededError",
    "Limits",
    "MailItem",
    "MalformedLineError",
    "MissingKeyError",
    "Nameserver",
    "NoResponseError",
    "Origin",
    "Response",
    "Result",
    "SeveralResponsesError",
    "Status",
    "SubResult",
    "Trust",
    "UnreadableInputError",
    "__version__",
    "explain",
    "format",
    "load_codes",
    "parse",
    "parse_all",
    "parse_message",
    "parse_messages",
    "read_messages",
    "reset_codes",
]
