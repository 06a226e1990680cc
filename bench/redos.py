"""Is drsparse linear on hostile input? Growing pathological texts, timed.

    .venv/bin/python bench/redos.py            # about a minute
    .venv/bin/python bench/redos.py --quick    # seconds
    .venv/bin/python bench/redos.py --only quotes --scale 2

drsparse reads e-mail from the internet, unattended, with regular expressions (the block
finder, the lexer's terminals, the quote stripper) and a parser. A regular expression with
nested or overlapping quantifiers can take quadratic or exponential time on a crafted line: a
mail pipe that hangs on one message is a denial of service. Each case below builds an input
of size n, 2n, 4n and 8n and times ``drsparse.parse_all`` (and, where the mail stage exists,
``parse_message``) on it. Linear code takes about twice as long per doubling; the growth
exponent (log2 of the time ratio per doubling, fitted from n to 8n) is about 1 for linear
code and 2 for quadratic. Above 1.25 a case is flagged: SUPER-LINEAR when the last doubling
still more than 2.6-folds the time, STEP when one doubling jumps and the next is about 2
again (a regex backtracking stack or a buffer outgrowing the CPU caches: linear, but a
constant factor worth removing; ``--scale 2`` shows whether it stays linear beyond).

The limits are raised out of the way by default (``--default-limits`` keeps them): a line or
pair limit would stop a big input early and hide the cost of the code behind it, and users
may raise the limits. The time until drsparse returns *or raises* its own error is what
counts; any other exception is a bug and makes the exit status 1. Slowness never does.

Imports nothing but drsparse and the stdlib, so it runs wherever drsparse is installed.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import drsparse

__all__ = ["CASES", "Case", "main"]

H = "### DRS Response\n###\n"
#: A growth exponent above this is flagged (linear is 1, quadratic 2; timing noise ~0.1).
SUPER_LINEAR = 1.25

GENEROUS = drsparse.Limits(
    max_message_bytes=1 << 34,
    max_parts=1 << 30,
    max_line_length=1 << 34,
    max_pairs=1 << 30,
    max_responses=1 << 30,
)


@dataclass(frozen=True)
class Case:
    """One pathological input shape: ``make(n)`` is the input of size n."""

    name: str
    what: str
    make: Callable[[int], str | bytes]
    #: n for the full run; the largest input is 8n units.
    n: int
    #: ``text``: drsparse.parse_all; ``mail``: parse_message (bytes); ``quoted``: the same
    #: with include_quoted=True.
    via: str = "text"


def _message(body: str, headers: str = "", subtype: str = "plain") -> bytes:
    return (headers + f"Content-Type: text/{subtype}; charset=us-ascii\n\n" + body).encode()


def _many_parts(n: int) -> bytes:
    parts = "".join(
        f"--b\nContent-Type: text/plain\n\nresult.{k}.code: 20206\n\n" for k in range(n)
    )
    block = f"--b\nContent-Type: text/plain\n\n{H}result.code: 10000\n\n"
    return ("Content-Type: multipart/mixed; boundary=b\n\n" + parts + block + "--b--\n").encode()


def _nested_2231(lines: int) -> bytes:
    """Multiparts 100 deep, their boundaries spelled as RFC 2231 parameters, around n lines.

    Beyond max_depth (which the generous limits keep): the time until the refusal."""
    head, tail = "", ""
    for level in range(100):
        head += f"Content-Type: multipart/mixed; boundary*=''b{level}\n\n--b{level}\n"
        tail = f"\n--b{level}--\n" + tail
    return (head + "Content-Type: text/plain\n\n" + "x\n" * lines + tail).encode()


def _quotes(depth: int) -> str:
    q = ">" * depth + " "
    return f"{q}### DRS Response\n{q}###\n{q}result.code: 10000\n{q}domain.name: a.de\n"


CASES: tuple[Case, ...] = (
    Case("spaces-before-colon", "one key, n blanks, then ': value'",
         lambda n: f"{H}result.code{' ' * n}: 10000\n", 125_000),
    Case("spaces-in-prose", "a prose line 'a' + n blanks + 'b' after a pair",
         lambda n: f"{H}result.code: 1\na{' ' * n}b\n", 125_000),
    Case("spaces-then-nothing", "a line of n blanks before the last pair",
         lambda n: f"{H}result.code: 1\n{' ' * n}\ndomain.name: a.de\n", 125_000),
    Case("spaces-lines", "n lines of blanks and tabs",
         lambda n: H + " \t \n" * n + "result.code: 1\n", 30_000),
    Case("key-repeat", "'result.' n times in one key",
         lambda n: f"{H}result.code: 1\n{'result.' * n}code: 1\n", 18_000),
    Case("key-repeat-no-colon", "'result.' n times, then no colon",
         lambda n: f"{H}result.code: 1\n{'result.' * n}code x\n", 18_000),
    Case("hashes", "a comment line of n '#'",
         lambda n: f"{H}result.code: 1\n{'#' * n}\n", 125_000),
    Case("hashes-header", "'###' + n '#' + ' DRS Response' (no header)",
         lambda n: f"###{'#' * n} DRS Response\n###\nresult.code: 1\n", 125_000),
    Case("header-blanks", "'###' + n blanks + 'DRS' + n blanks + 'Response'",
         lambda n: f"###{' ' * n}DRS{' ' * n}Response\n###\nresult.code: 1\n", 60_000),
    Case("header-blanks-fail", "the same, ending 'Responsx' (not a header)",
         lambda n: f"###{' ' * n}DRS{' ' * n}Responsx\n###\nresult.code: 1\n", 60_000),
    Case("huge-value", "reference: + n characters",
         lambda n: f"{H}result.code: 1\nreference: {'x' * n}\n", 125_000),
    Case("dotted-line", "one line 'a.a.a...a' of n dots, no colon",
         lambda n: f"{H}result.code: 1\n{'a.' * n}a\n", 60_000),
    Case("dotted-lines", "n lines of 'a.a....a' (50 dots), no colon",
         lambda n: H + "result.code: 1\n" + ("a." * 50 + "a\n") * n, 2_000),
    Case("pair-run-then-dotted", "n pair lines, then 'a.a....a' (500 dots), no colon",
         lambda n: H + "result.code: 1\n" + "x.y: z\n" * n + "a." * 500 + "a\n", 8_000),
    Case("pair-run-blanks", "n pair lines, each followed by a line of blanks",
         lambda n: H + "result.code: 1\n" + "x.y: z\n  \n" * n, 8_000),
    Case("quotes", "a block behind n '>' markers, as text",
         _quotes, 125_000),
    Case("many-blocks", "n blocks one after the other",
         lambda n: (H + "result.code: 10000\n") * n, 2_000),
    Case("many-groups", "n sub-results result.1 ... result.n",
         lambda n: H + "result.code: 20001\n" + "".join(
             f"result.{k}.code: 20206\nresult.{k}.key: x\n" for k in range(1, n + 1)), 1_500),
    Case("many-duplicates", "the same pair n times",
         lambda n: H + "result.code: 1\n" + "reference: x\n" * n, 8_000),
    Case("many-unknown-cr", "n unknown keys, bare CR line endings",
         lambda n: (H + "result.code: 1\n" + "x.y: z\n" * n).replace("\n", "\r"), 8_000),
    Case("drs-prose", "n lines of prose full of 'DRS' and '###', no block",
         lambda n: "### DRS DRS DRS Responses ### DRS\n" * n, 8_000),
    Case("mail-quotes", "a quoted block behind n '>' markers, include_quoted",
         lambda n: _message(_quotes(n)), 125_000, via="quoted"),
    Case("mail-quote-lines", "n quoted lines of rising depth 1..50, include_quoted",
         lambda n: _message("".join(">" * (k % 50 + 1) + f" x{k}: y\n" for k in range(n))
                            + _quotes(3)), 3_000, via="quoted"),
    Case("mail-quote-blanks", "a line of n blanks and 'x' before a quoted block",
         lambda n: _message(" " * n + "x\n" + _quotes(1)), 125_000, via="quoted"),
    Case("mail-html-blockquotes", "a block inside n nested <blockquote>, include_quoted",
         lambda n: _message("<blockquote>" * n + H.replace("\n", "<br>") + "result.code: 1<br>"
                            + "</blockquote>" * n, subtype="html"), 10_000, via="quoted"),
    Case("mail-html-quote-lines", "n lines inside n nested <blockquote>, include_quoted",
         lambda n: _message("<blockquote>" * n + "x<br>" * n + H.replace("\n", "<br>")
                            + "result.code: 1<br>" + "</blockquote>" * n, subtype="html"),
         5_000, via="quoted"),
    Case("mail-html-open-tags", "n unclosed '<a x=' in an HTML part",
         lambda n: _message("DRS ###" + "<a x=" * n, subtype="html"), 20_000, via="mail"),
    Case("mail-html-open-comments", "n unclosed '<!--' and '<a x=\"' in an HTML part",
         lambda n: _message("DRS ###" + "<!--" * n + '<a x="' * n, subtype="html"), 20_000,
         via="mail"),
    Case("mail-many-parts", "a multipart of n small text parts",
         _many_parts, 300, via="mail"),
    Case("mail-empty-parts", "a multipart of n empty parts",
         lambda n: ("Content-Type: multipart/mixed; boundary=b\n\n" + "--b\n\n" * n
                    + "--b--\n").encode(), 20_000, via="mail"),
    Case("mail-nested-rfc2231", "n lines in multiparts 100 deep, boundary*= (refused)",
         _nested_2231, 50_000, via="mail"),
    Case("mail-encoded-subject", "a Subject of n encoded words",
         lambda n: _message(H + "result.code: 1\n",
                            "Subject: " + "=?utf-8?q?gr=C3=BC=C3=9Fe?= " * n + "\n"),
         8_000, via="mail"),
    Case("mail-received", "n Received headers",
         lambda n: _message(H + "result.code: 1\n",
                            "Received: from a.example (a [192.0.2.1]) by b; Mon, 1 Jan 2024\n"
                            * n), 4_000, via="mail"),
)  # fmt: skip


def _runner(case: Case, limits: drsparse.Limits) -> Callable[[str | bytes], str]:
    """The call for the case, returning a short outcome."""
    if case.via == "text":

        def text(data: str | bytes) -> str:
            assert isinstance(data, str)
            return f"{len(drsparse.parse_all(data, limits=limits))} responses"

        return text
    quoted = case.via == "quoted"

    def mail(data: str | bytes) -> str:
        found = drsparse.parse_message(data, include_quoted=quoted, limits=limits)
        return f"{len(found)} responses"

    return mail


@dataclass
class Result:
    case: Case
    sizes: list[int]
    seconds: list[float]
    outcome: str

    @property
    def exponent(self) -> float:
        """The fitted growth exponent: log2 of the mean ratio per doubling."""
        first, last = max(self.seconds[0], 1e-7), max(self.seconds[-1], 1e-7)
        return math.log2(last / first) / (len(self.seconds) - 1)

    @property
    def verdict(self) -> str:
        if self.seconds[-1] < 0.002:
            return "linear (too fast to tell)"
        if self.exponent <= SUPER_LINEAR:
            return "linear"
        # One jump between two doublings and about 2 again after it is a step, not a power: a
        # regex backtracking stack or a buffer that outgrows the CPU caches. Still worth a
        # look (possessive quantifiers avoid the stack), and at larger n (--scale) too.
        last = self.seconds[-1] / max(self.seconds[-2], 1e-9)
        return "STEP" if last < 2.6 else "SUPER-LINEAR"


def measure(case: Case, n: int, repeats: int, limits: drsparse.Limits) -> Result:
    """Time the case at n, 2n, 4n, 8n (best of ``repeats``)."""
    run = _runner(case, limits)
    sizes, seconds, outcome = [], [], ""
    for size in (n, 2 * n, 4 * n, 8 * n):
        data = case.make(size)
        best = math.inf
        for _ in range(repeats):
            gc.collect()
            start = time.perf_counter()
            try:
                outcome = run(data)
            except drsparse.DrsParseError as exc:  # an expected outcome on hostile input
                outcome = type(exc).__name__
            best = min(best, time.perf_counter() - start)
        sizes.append(len(data))
        seconds.append(best)
    return Result(case, sizes, seconds, outcome)


def render(results: Sequence[Result]) -> str:
    head = ("case", "input 8n", "t(n)", "t(2n)", "t(4n)", "t(8n)", "ratios", "exp", "verdict")
    rows: list[tuple[str, ...]] = [head]
    for r in results:
        ratios = "/".join(
            f"{b / max(a, 1e-9):.1f}" for a, b in zip(r.seconds, r.seconds[1:], strict=False)
        )
        rows.append(
            (
                r.case.name,
                f"{r.sizes[-1] / 1000:,.0f} KB",
                *(f"{t * 1000:.1f} ms" for t in r.seconds),
                ratios,
                f"{r.exponent:.2f}",
                r.verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            cell.ljust(w) if i in (0, 6, 8) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/redos.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="inputs a tenth of the size")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size by this")
    parser.add_argument("--only", metavar="TEXT", help="only the cases whose name contains TEXT")
    parser.add_argument(
        "--default-limits", action="store_true", help="keep drsparse's default limits"
    )
    args = parser.parse_args(argv)
    limits = drsparse.DEFAULT_LIMITS if args.default_limits else GENEROUS
    repeats = 2 if args.quick else 3
    print(f"drsparse {drsparse.__version__}, Python {sys.version.split()[0]}: "
          f"{'default' if args.default_limits else 'generous'} limits, best of {repeats}, "
          f"exponent > {SUPER_LINEAR} is flagged\n")  # fmt: skip

    results, bugs = [], []
    for case in CASES:
        if args.only and args.only not in case.name:
            continue
        n = max(int((case.n // 10 if args.quick else case.n) * args.scale), 1)
        try:
            result = measure(case, n, repeats, limits)
        except Exception as exc:  # a foreign exception escaping drsparse is a bug
            bugs.append(f"{case.name}: {type(exc).__name__}: {exc}")
            continue
        results.append(result)
        print(f"  {case.name:<22} {case.what}  ->  {result.outcome}", flush=True)
    print()
    if args.quick:
        # A tenth of the sizes is too small and too noisy to judge growth: quick mode only
        # checks that every case runs and ends in a response or one of our errors.
        print(f"quick mode: {len(results)} cases ran; run without --quick to judge their growth")
    else:
        print(render(results) + "\n")
        flagged = [r for r in results if r.verdict in ("SUPER-LINEAR", "STEP")]
        for r in flagged:
            print(f"{r.verdict}: {r.case.name} (exponent {r.exponent:.2f})")
        print(f"{len(results) - len(flagged)} of {len(results)} cases linear")
    for line in bugs:
        print(f"BUG (not a DrsParseError) {line}", file=sys.stderr)
    return 1 if bugs else 0


if __name__ == "__main__":
    sys.exit(main())
