"""``trigger-bot serve``: run the decision server on the local policy files.

The token comes from an environment variable (``--token-env``, default ``TRIGGER_BOT_TOKEN``),
never from the command line, where ``ps`` would show it. Without it the command refuses to
start. A missing policy directory is refused too; a directory whose files are broken starts the
server unready (health and decisions answer 503, every problem is printed with file and line)
and it becomes ready as soon as the files are fixed.

The server cuts slow clients: the headers of a request must arrive within ``--header-timeout``
seconds and its body within ``--body-timeout`` (else 408 and the connection is closed), idle
kept-alive connections close after ``--keep-alive-timeout``, and beyond ``--max-connections``
requests get 503 (see :mod:`openai_trigger_bot.server.limits`). ``--help`` states every default.

With ``--run-store PATH`` (or ``$TRIGGER_BOT_RUN_STORE``) it also serves the approvals and
runs of that run store (list, show, approve, deny); the file must exist, as for
``trigger-bot approvals``. ``--bot module:attribute`` (imported as ``trigger-bot runs resume``
imports it) makes the server resume a run once its approvals are decided.

``--port`` takes 0 to 65535; 0 lets the system pick a free port, which uvicorn's startup line
names. Before the server is built, the command checks that it can listen on ``--host`` and
``--port`` (:mod:`._listen`): a port in use is refused in the CLI's error style.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ..exceptions import ConfigurationError
from ..server.limits import ServerLimits
from ._errors import CliError, print_error
from ._listen import listen_problem, port_problem

__all__ = ["add_serve_command"]

Runner = Callable[..., None]

_MIN_TOKEN_LENGTH = 16
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


def _error(what: str, fix: str) -> int:
    return print_error("trigger-bot serve", CliError(what, fix))


def _serve(args: argparse.Namespace, runner: Runner | None) -> int:
    if not _ENV_NAME.fullmatch(args.token_env):
        return _error(
            "--token-env takes the NAME of an environment variable, not the token",
            "put the token in a variable and pass its name (the default is TRIGGER_BOT_TOKEN)",
        )
    token = os.environ.get(args.token_env, "").strip()
    if not token:
        return _error(
            f"refusing to start without a token in the environment variable {args.token_env}",
            f"set {args.token_env} to the token clients must send (or name another variable "
            "with --token-env)",
        )
    if len(token) < _MIN_TOKEN_LENGTH:
        print(
            f"trigger-bot serve: warning: the token in {args.token_env} is shorter than "
            f"{_MIN_TOKEN_LENGTH} characters; use a long random one",
            file=sys.stderr,
        )
    policies = Path(args.policies)
    if not policies.is_dir():
        return _error(
            f"the policy directory {policies} does not exist",
            "pass one with --policies (the default is policies), or create it with: "
            f"trigger-bot policy init {policies}",
        )
    if args.reload_interval < 0:
        return _error(
            f"--reload-interval {args.reload_interval} is negative",
            "pass 0 to turn reloading off, or the seconds between checks",
        )
    try:
        limits = ServerLimits(
            header_timeout=args.header_timeout,
            body_timeout=args.body_timeout,
            keep_alive_timeout=args.keep_alive_timeout,
            max_connections=args.max_connections,
        )
    except ConfigurationError as exc:
        name, _, rest = str(exc).partition(" ")
        return _error(f"--{name.replace('_', '-')} {rest}", "pass a value above 0")
    problem = port_problem(args.port)
    if problem is not None:
        return print_error("trigger-bot serve", problem)
    try:
        import uvicorn

        from ..server import create_app, uvicorn_options
    except ImportError:
        return _error(
            "the server's packages are not installed",
            "install them with: pip install 'openai-trigger-bot[serve]'",
        )
    if runner is None:  # uvicorn will bind: check first, before the report database is made
        problem = listen_problem(args.host, args.port)
        if problem is not None:
            return print_error("trigger-bot serve", problem)
    import sqlite3

    from ..runs.errors import RunStoreError

    try:
        run_store, bot = _run_store_and_bot(args)
    except CliError as exc:
        return print_error("trigger-bot serve", exc)
    # The command imported the bot: it closes it when the server stopped (or never started).
    with _closing(bot):
        try:
            app = create_app(
                policies,
                token=token,
                db_path=args.db,
                reload_interval=args.reload_interval,
                public_url=args.public_url,
                run_store=run_store,
                bot=bot,
            )
        except ConfigurationError as exc:
            what, _, fix = str(exc).replace("public_url", "--public-url").partition("; ")
            return _error(what, fix or "check the value")
        except (OSError, sqlite3.Error) as exc:
            return _error(
                f"cannot open the report database {args.db} ({exc})",
                "pass a writable file with --db (the default is decision-reports.db)",
            )
        except RunStoreError as exc:
            what, _, fix = str(exc).partition("; ")
            return _error(what, fix or "pass the file your bot's run_store= names with --run-store")
        state = app.state.policies.state
        if state.problems:
            print(
                f"trigger-bot serve: warning: the policies in {policies} are broken; the server "
                "stays unready (503) until they are fixed:",
                file=sys.stderr,
            )
            for problem in state.problems:
                print(f"  {problem}", file=sys.stderr)
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            print(
                f"trigger-bot serve: note: listening on {args.host}; the token travels in clear "
                "text unless a TLS proxy sits in front",
                file=sys.stderr,
            )
        run: Runner = runner if runner is not None else uvicorn.run
        run(
            app,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            server_header=False,
            **uvicorn_options(limits),
        )
        return 0


@contextlib.contextmanager
def _closing(bot: object) -> Iterator[None]:
    try:
        yield
    finally:
        close = getattr(bot, "close", None)
        if callable(close):
            close()


def _run_store_and_bot(args: argparse.Namespace) -> tuple[str | None, object]:
    """The run store to serve (``--run-store`` or the environment) and the bot to import.

    Raises:
        CliError: ``--bot`` without a run store, a missing store file, or a bot that does
            not import.
    """
    from ._run_store import STORE_ENV

    path = args.run_store or os.environ.get(STORE_ENV) or None
    if path is None:
        if args.bot is not None:
            raise CliError(
                "--bot needs the run store the bot keeps its runs in",
                f"pass --run-store PATH (or set {STORE_ENV})",
            )
        return None, None
    if not os.path.isfile(path):
        what = "is a directory" if os.path.isdir(path) else "does not exist"
        raise CliError(
            f"the run store {path} {what}",
            f"pass the file your bot's run_store= names (--run-store PATH or {STORE_ENV})",
        )
    if args.bot is None:
        return path, None
    from .runs import import_bot

    return path, import_bot(args.bot)


def add_serve_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], *, runner: Runner | None = None
) -> None:
    """Add ``serve`` to the CLI.

    Args:
        sub: The ``trigger-bot`` sub-command parsers.
        runner: Runs the app (default ``uvicorn.run``; called as ``runner(app, host=, port=,
            log_level=, server_header=, **uvicorn_options(limits))``, see
            :func:`~openai_trigger_bot.server.uvicorn_options`). Tests pass their own. With
            the default, the command first checks that it can listen on the host and port
            (a runner of one's own binds nothing, so nothing is checked).
    """
    serve = sub.add_parser(
        "serve",
        allow_abbrev=False,  # `--token SECRET` must not be taken for `--token-env`
        help="run the decision server (native protocol + AuthZEN) on local policy files",
        description="Serve the policy files over the openai-trigger-bot.decision/v1 protocol "
        "and OpenID AuthZEN 1.0. The token is read from an environment variable.",
    )
    serve.add_argument(
        "--policies", default="policies", help="policy directory (default: %(default)s)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface (default: %(default)s)")
    serve.add_argument(
        "--port",
        type=int,
        default=8787,
        help="TCP port, 1-65535; 0 lets the system pick a free one, named in the startup log "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--token-env",
        default="TRIGGER_BOT_TOKEN",
        metavar="NAME",
        help="environment variable holding the token clients must send (default: %(default)s)",
    )
    serve.add_argument(
        "--db",
        default="decision-reports.db",
        metavar="FILE",
        help="SQLite file for outcome reports (default: %(default)s)",
    )
    serve.add_argument(
        "--reload-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="seconds between checks of the policy files; 0 turns reloading off "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the base URL clients reach the server at (e.g. https://pdp.example.com), "
        "advertised in the AuthZEN discovery document (default: the local address each "
        "connection arrived on; the Host header is never used)",
    )
    limits = ServerLimits()
    serve.add_argument(
        "--header-timeout",
        type=float,
        default=limits.header_timeout,
        metavar="SECONDS",
        help="a request's line and headers must arrive within this, else 408 and the "
        "connection is closed (default: %(default)s)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=limits.body_timeout,
        metavar="SECONDS",
        help="a request's body must arrive within this after its headers, else 408 and the "
        "connection is closed (default: %(default)s)",
    )
    serve.add_argument(
        "--keep-alive-timeout",
        type=float,
        default=limits.keep_alive_timeout,
        metavar="SECONDS",
        help="an idle kept-alive connection is closed after this (default: %(default)s)",
    )
    serve.add_argument(
        "--max-connections",
        type=int,
        default=limits.max_connections,
        metavar="N",
        help="open connections and requests in progress beyond which requests get 503 "
        "(default: %(default)s)",
    )
    serve.add_argument(
        "--run-store",
        metavar="PATH",
        help="serve the approvals and runs of this run store (the bot's run_store=): "
        "/v1/approvals, /v1/runs (default: $TRIGGER_BOT_RUN_STORE; none: not served)",
    )
    serve.add_argument(
        "--bot",
        metavar="MODULE:ATTRIBUTE",
        help="the bot definition (mybots:bot); the server resumes its runs once their "
        "approvals are decided (needs --run-store)",
    )
    serve.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="server log level (default: %(default)s)",
    )

    def run(args: argparse.Namespace) -> int:
        return _serve(args, runner)

    serve.set_defaults(func=run)
