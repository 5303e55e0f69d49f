"""Command line: ``python -m work_dispatch migrate|demo|check|addresses``."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from work_dispatch.i18n import LOCALES, normalize_locale, translate
from work_dispatch.settings import PROJECT_ROOT, settings


def cli_locale(explicit: str | None = None) -> str:
    """The language of this command's messages: ``--locale``, else the environment.

    Args:
        explicit: The ``--locale`` value, if given.

    Returns:
        A supported locale: from ``explicit``, else the first of ``LC_ALL``, ``LC_MESSAGES``
        and ``LANG`` that is set (``zh_CN.UTF-8`` gives ``zh-CN``); English otherwise.
    """
    if explicit:
        return normalize_locale(explicit)
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return normalize_locale(value.split(".")[0])
    return normalize_locale(None)


def migrate(url: str | None = None, revision: str = "head") -> None:
    """Apply Alembic migrations up to a revision.

    Args:
        url: Database URL; default the configured one.
        revision: Target revision; default the newest.
    """
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", (url or settings.database_url).replace("%", "%%"))
    command.upgrade(config, revision)


def check_services(locale: str | None = None) -> list[str]:
    """Problems with the configured database and Redis, as sentences (empty when both answer).

    Args:
        locale: Language of the sentences (default: the environment's, see :func:`cli_locale`).
    """
    from sqlalchemy import text

    from work_dispatch.db import make_engine

    locale = locale or cli_locale()
    problems = []
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        where = settings.database_url.split("@")[-1]
        problems.append(translate("cli.database_down", locale, where=where, error=str(error)))
    finally:
        engine.dispose()
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
        except Exception as error:
            problems.append(translate("cli.redis_down", locale, url=settings.redis_url, error=str(error)))
    return problems


QR_BLACK, QR_WHITE = 30, 97
HALF_BLOCKS = {(True, True): " ", (False, True): "\u2580", (True, False): "\u2584", (False, False): "\u2588"}


def terminal_qr(url: str, colours: bool) -> str:
    """A QR code drawn with half blocks, two modules per character cell.

    Args:
        url: What the code encodes.
        colours: Paint black on white with ANSI colours, so the code scans on light and dark
            terminals alike; without them, dark modules are the terminal's background.

    Returns:
        The lines of the code.
    """
    import segno

    rows = [[bool(bit) for bit in row] for row in segno.make(url, error="m").matrix_iter(border=2)]
    if len(rows) % 2:  # a last half row: white on paper, the terminal's own background without colours
        rows.append([not colours] * len(rows[0]))
    lines = []
    for top, bottom in zip(rows[::2], rows[1::2], strict=True):
        if colours:
            cells = (
                f"\033[{QR_BLACK if t else QR_WHITE};{(QR_BLACK if b else QR_WHITE) + 10}m\u2580"
                for t, b in zip(top, bottom, strict=True)
            )
            lines.append("".join(cells) + "\033[0m")
        else:
            lines.append("".join(HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True)))
    return "\n".join(lines)


def print_addresses(out=None, locale: str | None = None) -> None:
    """Print the addresses tablets should open, each with a QR code for the terminal.

    Args:
        out: Where to write; default standard output.
        locale: Language of the text (default: the environment's, see :func:`cli_locale`).
    """
    from work_dispatch.services.connect import pairing_urls

    out = out or sys.stdout
    locale = locale or cli_locale()
    addresses, names = pairing_urls(settings)
    if not addresses:
        print(translate("cli.no_address", locale, port=settings.port), file=out)
        return
    source = translate("cli.origins_own" if settings.automatic_origins else "cli.origins_configured", locale)
    print(translate("cli.open_on_tablet", locale, source=source), file=out)
    for address in addresses:
        interface = f"  ({address.interface})" if address.interface else ""
        print(f"\n  {address.url}{interface}", file=out)
        print(terminal_qr(address.url, colours=out.isatty()), file=out)
    if names:
        print(translate("cli.names_work_too", locale, names=", ".join(names)), file=out)
    print(translate("cli.on_this_pc", locale, port=settings.port), file=out)


def main(argv: list[str] | None = None) -> int:
    """Run a maintenance command.

    Args:
        argv: Arguments; default ``sys.argv[1:]``.

    Returns:
        Process exit code.
    """
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["simulate"]:
        from work_dispatch.simulation.cli import main as simulate

        return simulate(argv[1:])
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--locale")
    locale = cli_locale(pre.parse_known_args(argv)[0].locale)

    def say(key: str, **params) -> str:
        return translate(key, locale, **params)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--locale", metavar="LOCALE", help=say("cli.help.locale", locales=", ".join(LOCALES)))
    parser = argparse.ArgumentParser(prog="python -m work_dispatch", parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", parents=[common], help=say("cli.help.migrate"))
    sub.add_parser("demo", parents=[common], help=say("cli.help.demo"))
    sub.add_parser("check", parents=[common], help=say("cli.help.check"))
    sub.add_parser("addresses", parents=[common], help=say("cli.help.addresses"))
    sub.add_parser("simulate", parents=[common], help=say("cli.help.simulate"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "addresses":
        print_addresses(locale=locale)
        return 0
    if args.command == "check":
        problems = check_services(locale)
        if problems:
            for problem in problems:
                print(say("cli.error", problem=problem), file=sys.stderr)
            return 1
    migrate()
    if args.command == "demo":
        from work_dispatch.db import session_scope
        from work_dispatch.services.demo import load_demo

        # The shop's language comes from --locale only: the environment picks the messages' language.
        shop_locale = normalize_locale(args.locale) if args.locale else "en"
        with session_scope() as db:
            counts = load_demo(db, shop_locale)
        print(say("cli.demo_ready", **counts))
    else:
        print(say("cli.migrated", where=settings.database_url.split("@")[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
