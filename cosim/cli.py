"""The `cosim` command: parses arguments, calls the library, turns user errors into exit status 2.

Each command group lives in `cosim.commands.<name>` and exposes `register(subparsers)`, which adds its
parser and sets `func` to a callable taking the parsed namespace and returning an exit status.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import sys
import unicodedata

from cosim import __version__
from cosim.errors import CosimError

COMMAND_MODULES = ("run", "validate", "schema", "hw", "data", "train", "codec", "sweep", "plot", "report")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every command group registered."""
    parser = argparse.ArgumentParser(
        prog="cosim",
        description="Discrete-event co-simulator of SemanticNN offloading from STM32 fleets.",
    )
    parser.add_argument("--version", action="version", version=f"cosim {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"cosim.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"cosim.commands.{name}":
                continue
            raise
        module.register(subparsers)
    return parser


def one_line(text: str) -> str:
    """`text` with control, format and line-separator characters escaped: an error message quoting a
    user's key or value (say a stray carriage return) stays on one line and cannot rewrite the terminal."""
    return "".join(c.encode("unicode_escape").decode("ascii")
                   if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the process exit status."""
    if argv is None:  # the console script: `kill` (SIGTERM) stops as cleanly as Ctrl-C
        signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        parser = build_parser()  # imports the command modules: Ctrl-C may land here
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        print("cosim: interrupted", file=sys.stderr)
        return 130
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CosimError as exc:
        print(f"cosim: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cosim: interrupted; outputs already written are complete, nothing partial was kept",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
