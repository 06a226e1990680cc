"""Limits on untrusted input, on by default.

drsparse reads e-mail from the internet, unattended. Every limit bounds the memory or time one
input can cost; beyond it a :class:`~drsparse.LimitExceededError` names the limit, and a batch
goes on with the next message.
"""

from __future__ import annotations

from attrs import frozen

__all__ = ["DEFAULT_LIMITS", "Limits"]


@frozen
class Limits:
    """Bounds on one input. Pass ``Limits(max_pairs=...)`` to change one, keep the others."""

    #: A raw message larger than this is refused before it is parsed (bytes).
    max_message_bytes: int = 32 * 1024 * 1024
    #: MIME parts in one message, all levels counted.
    max_parts: int = 1000
    #: Nesting of multiparts and attached messages.
    max_depth: int = 20
    #: Characters in one ``key: value`` line of a block.
    max_line_length: int = 64 * 1024
    #: ``key: value`` lines in one block.
    max_pairs: int = 10_000
    #: The largest index of a group (``result.N``, ``ns.N``, ``data.M``, ...). Indexes are
    #: kept in dictionaries, never as list positions, so this bounds nonsense, not memory.
    max_index: int = 100_000


DEFAULT_LIMITS = Limits()
