"""The `conformance` command: run a suite, serve a sandbox, certify a client, gate a release, verify a bundle.

Thin: each command lives in its own module; what is tested lives in the suites and the plugin, and the
verdict (hence the exit code) comes from the judge alone.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from .. import __version__
from ..target import ConfigurationError
from ..transport import TransportFailure
from . import certify, countersign, diff, gate, init, keygen, load, rerun, run, serve, verify
from .common import EXIT_PASS, EXIT_SUITE_BUG, EXIT_TRANSPORT, EXIT_USAGE, UsageError, printable
from .terminal import Terminal

COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Callable[[argparse.Namespace], int]]] = {
    "run": (run.add_parser, run.command),
    "serve": (serve.add_parser, serve.command),
    "gate": (gate.add_parser, gate.command),
    "verify": (verify.add_parser, verify.command),
    "certify-client": (certify.add_parser, certify.command),
    "keygen": (keygen.add_parser, keygen.command),
    "countersign": (countersign.add_parser, countersign.command),
    "init": (init.add_parser, init.command),
    "diff": (diff.add_parser, diff.command),
    "rerun": (rerun.add_parser, rerun.command),
    "load": (load.add_parser, load.command),
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own message, without echoing raw control characters
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {printable(message)}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="conformance", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add_parser, _ in COMMANDS.values():
        add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)  # argparse itself exits 2 on a usage error
    args.terminal = Terminal()  # everything the command prints is masked, and kept for its leak scan
    with args.terminal.installed():
        return _command(args)


def _command(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command][1](args)
    except (UsageError, ConfigurationError) as exc:
        print(f"conformance: error: {printable(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except TransportFailure as exc:
        print(f"conformance: target unreachable: {printable(str(exc))}", file=sys.stderr)
        return EXIT_TRANSPORT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`): nothing left to say
        sys.stderr.close()
        return 141
    except Exception as exc:  # a bug in the suite: say so in one line, keep the traceback in a file
        import tempfile
        import traceback

        with tempfile.NamedTemporaryFile("w", prefix="conformance-crash-", suffix=".txt", delete=False) as crash:
            crash.write(args.terminal.masker.text(traceback.format_exc()))  # exception texts may quote a target
        print(f"conformance: internal error ({type(exc).__name__}); details in {crash.name}", file=sys.stderr)
        return EXIT_SUITE_BUG


__all__ = ["EXIT_PASS", "build_parser", "main"]
