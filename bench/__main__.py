"""``python -m bench run|graphql-http|workflows [--quick]``: the harness (bench/README.md)."""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import os
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="generate the dataset if needed, measure, report")
    run.add_argument(
        "--quick", action="store_true", help="a small dataset (3 tenants, 20,000 records)"
    )
    run.add_argument(
        "--bulk-budget",
        type=float,
        metavar="SECONDS",
        help="time the platform's bulk insert may take (default: 300 full, 45 quick)",
    )
    commands.add_parser(
        "graphql-schema", help="GraphQL schema build time and memory (no database needed)"
    )
    http = commands.add_parser(
        "graphql-http",
        help="the GraphQL API over HTTP (gunicorn) against a hand-written graphene-django API",
    )
    http.add_argument(
        "--quick", action="store_true", help="a small dataset (3 tenants, 20,000 records)"
    )
    http.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        metavar="SECONDS",
        help="the server's DATABASE_CONN_MAX_AGE (default 60, the platform's default; 0 opens "
        "a database connection per request)",
    )
    http.add_argument(
        "--resolvers",
        action="store_true",
        help="serve the platform with GRAPHQL_COMPILED=0: every query through the resolvers",
    )
    flows = commands.add_parser(
        "workflows",
        help="workflow delivery with 1 and 2 real Celery workers: events/s, commit-to-action delay",
    )
    flows.add_argument("--quick", action="store_true", help="200 events and 10 s steady")
    flows.add_argument(
        "--polling-interval",
        type=float,
        metavar="SECONDS",
        help="the workers' kombu polling_interval (default: the settings', else kombu's 1 s)",
    )
    flows.add_argument(
        "--db-reuse-max",
        type=int,
        metavar="N",
        help="the workers' CELERY_DB_REUSE_MAX (Celery otherwise reconnects for every task)",
    )
    flows.add_argument(
        "--profile-worker",
        action="store_true",
        help="instead: one worker under cProfile through a burst, time per step",
    )
    args = parser.parse_args(argv)

    # Before Django reads its settings: the benchmark has a database of its own.
    os.environ.setdefault("DATABASE_NAME", "crm_bench")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Publishing (create_tenant) enqueues index tasks: keep them in this process, where no
    # worker of another database can pick them up; the harness syncs the indexes itself.
    # (workflows: workers in other processes need the environment's real broker)
    if args.command != "workflows":
        os.environ["CELERY_BROKER_URL"] = "memory://"
    if importlib.util.find_spec("matplotlib") is None:
        sys.stdout.write(
            "matplotlib is missing: the results will be written without the plot. "
            "Install it with `.venv/bin/pip install matplotlib`.\n"
        )
    import django

    django.setup()
    if args.command == "graphql-schema":
        from bench import graphql_schema
        from bench.report import say

        graphql_schema.run(say)
        return 0
    if args.command == "workflows":
        from bench import workflows_bench
        from bench.report import say

        workflows_bench.run(
            "quick" if args.quick else "full",
            say,
            polling_interval=args.polling_interval,
            profile=args.profile_worker,
            db_reuse_max=args.db_reuse_max,
        )
        return 0
    from bench.profiles import FULL, QUICK
    from bench.run import DatasetMismatch

    profile = QUICK if args.quick else FULL
    if args.command == "graphql-http":
        from bench import graphql_http

        try:
            graphql_http.run(profile, conn_max_age=args.conn_max_age, compiled=not args.resolvers)
        except graphql_http.GraphQLFailure as failure:
            sys.stderr.write(f"graphql-http stopped: a request failed. {failure}\n")
            return 1
        except DatasetMismatch as mismatch:
            sys.stderr.write(f"graphql-http stopped before measuring: {mismatch}\n")
            return 1
        return 0
    from bench.run import run as run_benchmark

    if args.bulk_budget is not None:
        profile = dataclasses.replace(profile, bulk_budget_s=args.bulk_budget)
    try:
        run_benchmark(profile)
    except DatasetMismatch as mismatch:
        sys.stderr.write(f"bench run stopped before measuring: {mismatch}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
