"""``drsparse sample``: a mailbox of the fake robot's mail, to try every command on.

In: the command line (``--maildir DIR`` or ``--mbox FILE``, ``--domains N``, ``--seed S``).
Out: a Maildir or an mbox holding a reseller's portfolio (:func:`drsparse.testing.portfolio`),
and one line on standard output saying what it holds. The kit itself is imported only when
the command runs: every other command starts without it.
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["add_sample_command"]

#: ``drsparse sample``: written, or a usage error (an existing target, a bad number).
OK = 0
USAGE_ERROR = 2

_EPILOG = """\
examples:
  drsparse sample --maildir ~/drs-sample     a Maildir of 20 domains' robot mail
  drsparse parse ~/drs-sample --format table what drsparse reads from it
  drsparse sample --mbox big.mbox --domains 2000 --seed 7

The same seed always writes the same bytes. The mail is made up, in the shapes robot mail
reaches a mailbox in (multipart, base64, HTML, forwards and replies quoting it, a spoofed one
now and then) with newsletters, bounces and colleagues' mail between.
"""


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = -1
    if not 0 <= number <= 1_000_000:
        raise argparse.ArgumentTypeError(f"not a number of domains (0 to 1000000): {text!r}")
    return number


def _seed(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def add_sample_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``drsparse sample`` on the ``drsparse`` command's subparsers."""
    from drsparse._cli import HelpFormatter

    sample = commands.add_parser(
        "sample",
        help="a mailbox of made-up robot mail, to try drsparse on",
        description="Write a Maildir or an mbox of made-up robot mail for N domains, in the "
        "documented flows,\nwith foreign mail between.",
        epilog=_EPILOG,
        formatter_class=HelpFormatter,
    )
    target = sample.add_mutually_exclusive_group(required=True)
    target.add_argument("--maildir", metavar="DIR", help="a Maildir to create (new or empty)")
    target.add_argument("--mbox", metavar="FILE", help="an mbox file to create (must not exist)")
    sample.add_argument(
        "--domains", metavar="N", type=_count, default=20, help="how many domains (default: 20)"
    )
    sample.add_argument(
        "--seed", metavar="S", type=_seed, default=0, help="what to draw from (default: 0)"
    )
    sample.set_defaults(run=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> int:
    # Never over a user's mail: a sample goes only where nothing is.
    target: str = args.maildir or args.mbox
    if args.mbox is not None and os.path.lexists(target):
        return _refuse(f"{target} exists; give a new file")
    if args.maildir is not None and os.path.lexists(target):
        if not os.path.isdir(target):
            return _refuse(f"{target} exists and is not a directory")
        if os.listdir(target):
            return _refuse(f"{target} is not empty; give a new or empty directory")

    from drsparse.testing import portfolio, write_maildir, write_mbox

    mails = portfolio(args.domains, seed=args.seed)
    try:
        if args.maildir is not None:
            write_maildir(mails, target)
        else:
            write_mbox(mails, target)
    except OSError as exc:
        return _refuse(f"cannot write {target}: {exc.strerror or exc}")
    robot = [mail for mail in mails if mail.responses]
    responses = sum(len(mail.responses) for mail in robot if not mail.quoted)
    print(
        f"{target}: {len(mails)} messages, {len(robot)} from the robot or quoting it "
        f"({responses} responses for {args.domains} domains), {len(mails) - len(robot)} others"
    )
    return OK


def _refuse(message: str) -> int:
    print(f"drsparse sample: error: {message}", file=sys.stderr)
    return USAGE_ERROR
