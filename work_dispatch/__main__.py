"""Command line: ``python -m work_dispatch migrate|demo|check|addresses``."""

from __future__ import annotations

import argparse
import logging
import sys

from work_dispatch.settings import PROJECT_ROOT, settings


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


def check_services() -> list[str]:
    """Problems with the configured database and Redis, as sentences (empty when both answer)."""
    from sqlalchemy import text

    from work_dispatch.db import make_engine

    problems = []
    engine = make_engine(settings.database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:
        problems.append(f"the database at {settings.database_url.split('@')[-1]} does not answer ({error})")
    finally:
        engine.dispose()
    if settings.redis_url:
        import redis

        try:
            redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
        except Exception as error:
            problems.append(f"Redis at {settings.redis_url} does not answer ({error}); workers need it")
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


def print_addresses(out=None) -> None:
    """Print the addresses tablets should open, each with a QR code for the terminal.

    Args:
        out: Where to write; default standard output.
    """
    from work_dispatch.services.connect import pairing_urls

    out = out or sys.stdout
    addresses, names = pairing_urls(settings)
    if not addresses:
        print(
            f"No network address found: connect this PC to the shop network, then run "
            f"`python -m work_dispatch addresses`. On this PC: http://localhost:{settings.port}",
            file=out,
        )
        return
    source = "this PC's own addresses" if settings.automatic_origins else "WD_ALLOWED_ORIGINS"
    print(f"Open one of these on a tablet on the shop network (allowed origins: {source}):", file=out)
    for address in addresses:
        interface = f"  ({address.interface})" if address.interface else ""
        print(f"\n  {address.url}{interface}", file=out)
        print(terminal_qr(address.url, colours=out.isatty()), file=out)
    if names:
        print(f"Where the network resolves names, these work too: {', '.join(names)}", file=out)
    print(f"On this PC: http://localhost:{settings.port}", file=out)


def main(argv: list[str] | None = None) -> int:
    """Run a maintenance command.

    Args:
        argv: Arguments; default ``sys.argv[1:]``.

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m work_dispatch")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("demo", help="migrate, then load the demo print shop (idempotent)")
    sub.add_parser("check", help="check that the configured database and Redis answer, then migrate")
    sub.add_parser("addresses", help="print the addresses tablets should open, with QR codes")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    if args.command == "addresses":
        print_addresses()
        return 0
    if args.command == "check":
        problems = check_services()
        if problems:
            for problem in problems:
                print(f"error: {problem}", file=sys.stderr)
            return 1
    migrate()
    if args.command == "demo":
        from work_dispatch.db import session_scope
        from work_dispatch.services.demo import load_demo

        with session_scope() as db:
            counts = load_demo(db)
        print("Demo shop ready:", ", ".join(f"{k}={v}" for k, v in counts.items()))
    else:
        print(f"Database migrated: {settings.database_url.split('@')[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
