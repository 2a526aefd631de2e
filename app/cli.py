"""The ``fengqiao`` command: dev, serve, worker, migrate, seed-demo, rollup, createuser."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace

from app.settings import Settings

log = logging.getLogger("fengqiao")


def _setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr
    )


def _need_database(settings: Settings) -> None:
    if not settings.database_url:
        sys.exit("DATABASE_URL is not set (use `fengqiao dev` for the embedded servers)")


async def _with_db(settings: Settings, coro_fn) -> None:
    from app import db

    db.configure(settings.database_url, max_size=4)
    await db.open_pool()
    try:
        await coro_fn()
    finally:
        await db.close_pool()


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    """Apply the checked-in migrations."""
    _need_database(settings)
    from app import db
    from app.db.migrate import migrate

    db.configure(settings.database_url)
    asyncio.run(migrate(verbose=args.verbose))
    print("migrations applied")


def cmd_seed_demo(args: argparse.Namespace, settings: Settings) -> None:
    """Create the demo district, its accounts and its history (idempotent)."""
    _need_database(settings)
    from app.services import demo

    async def run() -> None:
        created = await demo.seed(history=not args.no_history)
        print("demo district created" if created else "demo district already present")

    asyncio.run(_with_db(settings, run))


def cmd_createuser(args: argparse.Namespace, settings: Settings) -> None:
    """Create an account."""
    _need_database(settings)
    from app.services import org

    password = args.password or os.environ.get("FENGQIAO_NEW_PASSWORD")
    if not password:
        password = getpass.getpass("Password: ")

    async def run() -> None:
        unit_id = args.unit_id
        if unit_id is None and args.role != "department":
            root = await org.root_unit()
            unit_id = root["id"] if root else None
        try:
            user_id = await org.create_user(
                None,
                org.UserInput(
                    username=args.username,
                    full_name=args.full_name or "",
                    role=args.role,
                    unit_id=unit_id,
                    department_id=args.department_id,
                    password=password,
                ),
            )
        except org.OrgError as e:
            sys.exit(f"{e.field}: {e.message}")
        print(f"user {args.username} created (id {user_id})")

    asyncio.run(_with_db(settings, run))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    """Serve the web app (production: a secret key is required)."""
    if not settings.secret_key:
        sys.exit("FENGQIAO_SECRET_KEY is required for `fengqiao serve`")
    _need_database(settings)
    import uvicorn

    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FENGQIAO_TRUSTED_PROXIES", "127.0.0.1"),
        log_level="info",
        access_log=not args.no_access_log,
    )


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    """Run the arq worker (``--burst``: until the queue is empty)."""
    _need_database(settings)
    if not settings.redis_url:
        sys.exit("REDIS_URL is not set")
    from arq.worker import Worker

    from worker.main import worker_settings

    worker = Worker(**worker_settings(settings, burst=args.burst))
    worker.run()


def cmd_rollup(args: argparse.Namespace, settings: Settings) -> None:
    """Recompute roll-ups: ``--rebuild`` for a date range (default: all history)."""
    _need_database(settings)
    from app.services import rollups

    async def run() -> None:
        result = await rollups.rebuild(args.date_from, args.date_to)
        print(result)

    asyncio.run(_with_db(settings, run))


def cmd_analyze(args: argparse.Namespace, settings: Settings) -> None:
    """Emotion analysis: ``--backfill`` analyses every record that has none (or was edited)."""
    _need_database(settings)
    from app.services import text_analysis

    async def run() -> None:
        print(f"{await text_analysis.backfill(args.limit)} records analysed")

    asyncio.run(_with_db(settings, run))


def cmd_forecast(args: argparse.Namespace, settings: Settings) -> None:
    """Forecasts: ``--backtest`` prints MASE of the model vs seasonal naive; else recompute."""
    _need_database(settings)
    from app.services import forecast

    async def run() -> None:
        if not args.backtest:
            print(f"{await forecast.compute()} forecast rows stored")
            return
        rows, overall = await forecast.backtest_all()
        print(
            f"{'street':<10} {'category':<9} {'MASE model':>10} {'MASE snaive':>11} {'cover95':>7}"
        )
        for r in rows:
            print(
                f"{r.street_name:<10} {r.category:<9} {r.model_mase:>10.3f}"
                f" {r.naive_mase:>11.3f} {r.coverage95:>7.0%}"
            )
        print(
            f"overall ({int(overall['series'])} series, 13 origins each, 8-week horizon):"
            f" MASE model {overall['model_mase']:.3f} vs seasonal naive"
            f" {overall['naive_mase']:.3f}; 95% interval coverage {overall['coverage95']:.0%}"
        )

    asyncio.run(_with_db(settings, run))


def _start_child(argv: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "app.cli", *argv], env=env)


def cmd_dev(args: argparse.Namespace, settings: Settings) -> None:
    """Embedded servers (unless URLs are set), migrate, seed on first start, web + worker."""
    from app.embedded import EmbeddedServers

    settings = settings.with_dev_secret()
    servers = EmbeddedServers(
        settings.data_dir, postgres=not settings.database_url, redis=not settings.redis_url
    )
    children: list[subprocess.Popen] = []
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        # A second signal (Ctrl-C twice, or SIGTERM to the whole process group) must not
        # interrupt the shutdown below: only the first one stops the loop.
        nonlocal stopping
        if stopping:
            return
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        db_url, redis_url = servers.start()
        settings = replace(
            settings,
            database_url=settings.database_url or db_url or "",
            redis_url=settings.redis_url or redis_url or "",
        )
        env = dict(os.environ)
        env.update(
            DATABASE_URL=settings.database_url,
            REDIS_URL=settings.redis_url,
            FENGQIAO_SECRET_KEY=settings.secret_key,
            FENGQIAO_DATA_DIR=str(settings.data_dir),
        )
        cmd_migrate(argparse.Namespace(verbose=False), settings)
        cmd_seed_demo(argparse.Namespace(no_history=False), settings)
        children.append(_start_child(["worker"], env))
        children.append(
            _start_child(["serve", "--host", settings.host, "--port", str(settings.port)], env)
        )
        print(
            f"Fengqiao is running on http://{settings.host}:{settings.port}  (Ctrl-C stops it)",
            flush=True,
        )
        while True:
            for child in children:
                if child.poll() is not None:
                    raise SystemExit(f"a child process exited with {child.returncode}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        servers.stop()
        print("Fengqiao stopped", flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fengqiao", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("dev", help="what `make run` runs: embedded servers + web + worker")
    p.set_defaults(fn=cmd_dev)

    p = sub.add_parser("serve", help="serve the web app (needs FENGQIAO_SECRET_KEY)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=1, help="web processes")
    p.add_argument("--no-access-log", action="store_true")
    p.set_defaults(fn=cmd_serve)

    p = sub.add_parser("worker", help="run the arq worker")
    p.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    p.set_defaults(fn=cmd_worker)

    p = sub.add_parser("migrate", help="apply database migrations")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(fn=cmd_migrate)

    p = sub.add_parser("seed-demo", help="create the demo district (idempotent)")
    p.add_argument("--no-history", action="store_true", help="only the organisation and accounts")
    p.set_defaults(fn=cmd_seed_demo)

    p = sub.add_parser("rollup", help="recompute roll-ups")
    p.add_argument("--rebuild", action="store_true", required=True)
    p.add_argument("--from", dest="date_from", default=None, help="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", default=None, help="YYYY-MM-DD")
    p.set_defaults(fn=cmd_rollup)

    p = sub.add_parser("analyze", help="emotion analysis of stored free text")
    p.add_argument("--backfill", action="store_true", required=True)
    p.add_argument("--limit", type=int, default=None, help="at most this many records")
    p.set_defaults(fn=cmd_analyze)

    p = sub.add_parser("forecast", help="recompute forecasts, or --backtest them")
    p.add_argument("--backtest", action="store_true", help="print MASE vs seasonal naive")
    p.set_defaults(fn=cmd_forecast)

    p = sub.add_parser("createuser", help="create an account")
    p.add_argument("--username", required=True)
    p.add_argument(
        "--role",
        required=True,
        choices=[
            "admin",
            "front_desk",
            "district_leader",
            "supervisor",
            "department",
            "street_leader",
            "community_staff",
            "grid_worker",
        ],
    )
    p.add_argument("--unit-id", type=int, default=None, help="default: the district")
    p.add_argument("--department-id", type=int, default=None)
    p.add_argument("--full-name", default="")
    p.add_argument("--password", default=None, help="default: prompt (or FENGQIAO_NEW_PASSWORD)")
    p.set_defaults(fn=cmd_createuser)
    return parser


def main(argv: list[str] | None = None) -> None:
    _setup_logging(os.environ.get("FENGQIAO_LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    args.fn(args, Settings.from_env())


if __name__ == "__main__":
    main()
