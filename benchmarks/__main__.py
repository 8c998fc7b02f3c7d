"""`python -m benchmarks` (or `make bench`): every benchmark, figures with anchors and ratios."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from benchmarks import sending, shared_sending

POSTGRES_ENV = ("LUNCHBOT_BENCH_POSTGRES_URL", "LUNCHBOT_TEST_POSTGRES_URL")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--recipients", type=int, default=3000, help="people in the broadcast")
    parser.add_argument("--reminders", type=int, default=2000, help="reminders due together")
    parser.add_argument(
        "--writers-per-second", type=float, default=2.0, help="people writing during it"
    )
    parser.add_argument(
        "--no-anchor-reminders",
        action="store_true",
        help="skip timing AIORateLimiter sending as many messages as there are reminders",
    )
    parser.add_argument(
        "--postgres",
        default=next((os.environ[k] for k in POSTGRES_ENV if os.environ.get(k)), None),
        help="a PostgreSQL server URL to make scratch databases on, for two instances sharing "
        f"one (default: ${POSTGRES_ENV[0]} or ${POSTGRES_ENV[1]}; without it, not run)",
    )
    parser.add_argument(
        "--only-shared", action="store_true", help="only the two instances on PostgreSQL"
    )
    args = parser.parse_args()
    # Only what goes wrong: the figures are the output.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(logging.ERROR)
    tables = []
    if not args.only_shared:
        tables.append(
            asyncio.run(
                sending.run(
                    recipients=args.recipients,
                    reminders=args.reminders,
                    writers_per_second=args.writers_per_second,
                    anchor_reminders=not args.no_anchor_reminders,
                )
            )
        )
    if args.postgres:
        tables.append(
            asyncio.run(
                shared_sending.run(
                    args.postgres,
                    recipients=args.recipients,
                    writers_per_second=args.writers_per_second,
                )
            )
        )
    else:
        tables.append(f"(two instances on PostgreSQL not run: set ${POSTGRES_ENV[0]})")
    for table in tables:
        print()  # noqa: T201 - the figures are this program's output
        print(table)  # noqa: T201


if __name__ == "__main__":
    main()
