"""Fuzz target for atheris: raw bytes in, responses or drsparse's own errors out.

Anything else escaping (a lark, dateutil, codec or e-mail exception, a RecursionError, ...) is
a bug, and atheris reports it with the input that triggered it. Not run by the test suite; see
fuzz/README.md.
"""

from __future__ import annotations

import contextlib
import sys

import atheris

with atheris.instrument_imports():
    import drsparse
    from drsparse._mail import parse_message


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    # Half of the inputs exercise the text parser alone, half the whole mail path.
    if provider.ConsumeBool():
        text = provider.ConsumeUnicodeNoSurrogates(len(data))
        with contextlib.suppress(drsparse.DrsParseError):
            drsparse.parse_all(text)
    else:
        with contextlib.suppress(drsparse.DrsParseError):
            parse_message(provider.ConsumeBytes(len(data)), include_quoted=True)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
