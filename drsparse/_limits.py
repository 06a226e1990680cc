"""Limits on untrusted input, on by default.

drsparse reads e-mail from the internet, unattended. Every limit bounds the memory or time one
input can cost; beyond it a :class:`~drsparse.LimitExceededError` names the limit, and a batch
goes on with the next message.
"""

from __future__ import annotations

from typing import Any

from attrs import Attribute, field, frozen

__all__ = ["DEFAULT_LIMITS", "Limits", "check_limits"]


def _count(_: object, attribute: Attribute[int], value: object) -> None:
    """A limit is a whole number from 1 up (``max_depth`` from 0): checked where it is made,
    not deep inside a parse, where a negative bound would silently refuse everything."""
    lowest = 0 if attribute.name == "max_depth" else 1
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"Limits({attribute.name}=...) takes a whole number (int), not {type(value).__name__}"
        )
    if value < lowest:
        raise ValueError(f"Limits({attribute.name}=...) must be {lowest} or more, not {value}")


@frozen
class Limits:
    """Bounds on one input. Pass ``Limits(max_pairs=...)`` to change one, keep the others.

    Each is a whole number from 1 up (``max_depth`` from 0); anything else raises
    ``TypeError`` or ``ValueError`` naming the limit.
    """

    #: A raw message larger than this is refused before it is parsed (bytes).
    max_message_bytes: int = field(default=32 * 1024 * 1024, validator=_count)
    #: MIME parts in one message, all levels counted; counted before the parts are built.
    max_parts: int = field(default=1000, validator=_count)
    #: Nesting of multiparts and attached messages.
    max_depth: int = field(default=20, validator=_count)
    #: Characters in one ``key: value`` line of a block.
    max_line_length: int = field(default=64 * 1024, validator=_count)
    #: ``key: value`` lines in one block.
    max_pairs: int = field(default=10_000, validator=_count)
    #: The largest index of a group (``result.N``, ``ns.N``, ``data.M``, ...). Indexes are
    #: kept in dictionaries, never as list positions, so this bounds nonsense, not memory.
    max_index: int = field(default=100_000, validator=_count)
    #: Responses in one message (or one text given to ``parse_all``). The robot sends one per
    #: mail; a digest or a forward holds a few.
    max_responses: int = field(default=1000, validator=_count)


DEFAULT_LIMITS = Limits()


def check_limits(function: str, limits: Any) -> None:
    """A ``TypeError`` naming the argument when ``limits`` is no :class:`Limits`."""
    if not isinstance(limits, Limits):
        raise TypeError(f"{function}() takes limits=Limits(...), not {type(limits).__name__}")
