"""drsparse: the e-mails of the Knipp DRS robot as typed, trustworthy data.

    >>> import drsparse
    >>> r = drsparse.parse(text)           # exactly one response in a text
    >>> r.result.code, r.status, r.domain
    (10000, 'succeeded', 'ixpos.com')

The public names are re-exported here; everything else lives in private modules named after
the stages of the pipeline, as a message travels: _mailbox (paths to messages) -> _mail (one
message to the texts of its parts) -> _text (a text to blocks of pairs, with the Lark grammar)
-> _typed (pairs to a Response, its codes interpreted by _codes) -> _records and _writers
(responses to records and output).
"""

from drsparse._codes import CATEGORIES, DEFAULT_CODES, CodeInfo, CodeTable, explain, load_codes
from drsparse._errors import (
    DrsParseError,
    DuplicateKeyError,
    InternalError,
    InvalidValueError,
    LimitExceededError,
    MalformedLineError,
    MissingKeyError,
    NoResponseError,
    SeveralResponsesError,
    UnreadableInputError,
)
from drsparse._limits import DEFAULT_LIMITS, Limits
from drsparse._mail import DEFAULT_TRUST, Trust, parse_message
from drsparse._mailbox import MailItem, parse_messages, read_messages
from drsparse._model import (
    Contact,
    Data,
    Field,
    Nameserver,
    Origin,
    Response,
    Result,
    Status,
    SubResult,
)
from drsparse._typed import parse, parse_all
from drsparse._unparse import format_response as format

__version__ = "0.1.0"

__all__ = [
    "CATEGORIES",
    "DEFAULT_CODES",
    "DEFAULT_LIMITS",
    "DEFAULT_TRUST",
    "CodeInfo",
    "CodeTable",
    "Contact",
    "Data",
    "DrsParseError",
    "DuplicateKeyError",
    "Field",
    "InternalError",
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
]
