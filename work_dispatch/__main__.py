"""Command line: ``python -m work_dispatch migrate|demo|check``."""

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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

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
