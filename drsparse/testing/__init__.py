"""A fake DRS robot, for testing the scripts that read its mail.

    >>> import drsparse
    >>> from drsparse import testing
    >>> mail = testing.robot_mail(testing.response(10320, domain="acme.de", reference="ORD-1"))
    >>> [r.result.code for r in drsparse.parse_message(mail)]
    [10320]

What it makes, from the robot's documentation (Knipp's "Robot Responses" page):

* responses: :func:`response` (your values), :func:`documented` (one of the page's examples,
  :data:`DOCUMENTED`, with your values), :func:`not_delegated` and :func:`outgoing_deadline`
  (the sub-results that carry dates), :func:`block` (the text the robot writes);
* e-mails: :func:`robot_mail` (bytes) and :func:`make_mail` (a :class:`Mail`: the bytes and
  what drsparse must read from them), in every shape the robot and mail programs produce
  (:data:`SHAPES`) and with every kind of authenticity evidence (:data:`AUTHS`);
  :func:`foreign_mail` (:data:`FOREIGN`) for the mail that is not the robot's;
* conversations: :func:`conversation` plays one documented flow (:data:`FLOWS`) with
  realistic delays; :func:`portfolio` a reseller's mailbox of N domains; :func:`mail_stream`
  an endless stream for corpora; :func:`write_maildir` and :func:`write_mbox` store them;
* :mod:`drsparse.testing.strategies`: Hypothesis strategies for blocks, responses and
  e-mails (needs ``pip install 'drsparse[testing]'``; the rest of this package does not).

Everything is deterministic: what varies is drawn from the ``random.Random`` (or seed) you
pass, never from the global generator, so the same seed gives the same bytes.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from drsparse.testing._flows import FLOWS, Flow, conversation
    from drsparse.testing._foreign import FOREIGN, Foreign, foreign_mail
    from drsparse.testing._mailboxes import write_maildir, write_mbox
    from drsparse.testing._mails import (
        AUTHS,
        DEFAULT_DATE,
        SHAPES,
        Auth,
        Mail,
        Shape,
        make_mail,
        robot_mail,
    )
    from drsparse.testing._portfolio import mail_stream, portfolio
    from drsparse.testing._responses import (
        DOCUMENTED,
        block,
        documented,
        not_delegated,
        outgoing_deadline,
        response,
    )

__all__ = [
    "AUTHS",
    "DEFAULT_DATE",
    "DOCUMENTED",
    "FLOWS",
    "FOREIGN",
    "SHAPES",
    "Auth",
    "Flow",
    "Foreign",
    "Mail",
    "Shape",
    "block",
    "conversation",
    "documented",
    "foreign_mail",
    "mail_stream",
    "make_mail",
    "not_delegated",
    "outgoing_deadline",
    "portfolio",
    "response",
    "robot_mail",
    "write_maildir",
    "write_mbox",
]

# The names are imported at their first use (PEP 562): the ``drsparse`` command registers
# ``drsparse sample`` from ``drsparse.testing._cli`` at every start, and a mail pipe that
# starts once per e-mail must not pay for the fake robot it does not run.
_MODULES = {
    **dict.fromkeys(("FLOWS", "Flow", "conversation"), "_flows"),
    **dict.fromkeys(("FOREIGN", "Foreign", "foreign_mail"), "_foreign"),
    **dict.fromkeys(("write_maildir", "write_mbox"), "_mailboxes"),
    **dict.fromkeys(
        ("AUTHS", "DEFAULT_DATE", "SHAPES", "Auth", "Mail", "Shape", "make_mail", "robot_mail"),
        "_mails",
    ),
    **dict.fromkeys(("mail_stream", "portfolio"), "_portfolio"),
    **dict.fromkeys(
        ("DOCUMENTED", "block", "documented", "not_delegated", "outgoing_deadline", "response"),
        "_responses",
    ),
}

if not TYPE_CHECKING:  # type checkers see the imports above

    def __getattr__(name: str) -> object:
        module = _MODULES.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
