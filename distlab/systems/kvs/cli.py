"""The ``kvs`` and ``kvs-server`` commands.

``kvs``: Talent Plan's command-line contract over any engine.

    kvs set KEY VALUE     store (prints nothing)
    kvs get KEY           print the value, or "Key not found" (exit 0)
    kvs rm KEY            remove, or print "Key not found" and exit 1
    kvs -V | --version    print the version

``--dir`` (default: the current directory, as in the course), ``--engine`` and ``--fsync`` may
come before or after the subcommand. Keys and values are UTF-8 strings. Wrong arguments are a
usage error (exit 2); a store error prints ``error: ...`` on stderr and exits 1. Both
commands read fail points from ``FAILPOINTS`` (:mod:`distlab.fail`; a bad value is one line,
exit 2); a ``panic`` fail point ends the process at once with exit status 101.

``kvs-server`` (:func:`server_main`): a data directory served over RESP, by the asyncio
server (:mod:`~distlab.systems.kvs.aio_server`) or a thread pool
(:mod:`~distlab.systems.kvs.pools`); SIGTERM/SIGINT stop accepting, let in-flight requests
finish, then close the engine. ``--status-addr`` adds an HTTP status server
(:mod:`~distlab.systems.kvs.status`: fail points as TiKV's, Prometheus ``/metrics``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from distlab import __version__, fail
from distlab.systems.kvs.aio_server import (
    OFFLOAD_MODES,
    OFFLOAD_THREADS,
    AsyncServer,
    new_event_loop,
)
from distlab.systems.kvs.engines import (
    ENGINES,
    FSYNC_POLICIES,
    Engine,
    KeyNotFound,
    KvsError,
    open_engine,
)
from distlab.systems.kvs.pools import DEFAULT_THREADS, ThreadedServer, ThreadPool, make_pool
from distlab.systems.kvs.resp import DEFAULT_MAX_BULK_LEN

log = logging.getLogger("kvs-server")

POOLS = ("asyncio", "naive", "shared-queue", "futures")

_SETTINGS = {"help_option_names": ["-h", "--help"]}


def _store_options(top: bool) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--dir/--engine/--fsync, on the group (with defaults) and on each subcommand (overrides)."""

    def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
        f = click.option(
            "--fsync",
            type=click.Choice(FSYNC_POLICIES),
            default="always" if top else None,
            show_default=top,
            help="When writes reach the disk (see distlab.systems.kvs.store).",
        )(f)
        f = click.option(
            "--engine",
            type=click.Choice(ENGINES),
            default="kvs" if top else None,
            show_default=top,
            help="Storage engine; a data directory keeps the engine that created it.",
        )(f)
        f = click.option(
            "--dir",
            "directory",
            type=click.Path(file_okay=False, path_type=Path),
            default=Path(".") if top else None,
            show_default="current directory" if top else False,
            help="Data directory.",
        )(f)
        return f

    return decorate


@click.group(context_settings=_SETTINGS, invoke_without_command=True)
@click.version_option(
    __version__, "-V", "--version", prog_name="kvs", message="%(prog)s %(version)s"
)
@_store_options(top=True)
@click.pass_context
def main(ctx: click.Context, directory: Path, engine: str, fsync: str) -> None:
    """A log-structured key/value store (distlab's Talent Plan kvs)."""
    if ctx.invoked_subcommand is None:
        raise click.UsageError("missing command: set, get or rm", ctx)
    _setup_fail_points("kvs", "error: ")
    ctx.obj = {"directory": directory, "engine": engine, "fsync": fsync}


def _setup_fail_points(prog: str, error_prefix: str) -> None:
    """FAILPOINTS from the environment (bad: one line, exit 2, nothing run); a ``panic``
    fail point then ends the process at once with status 101, as a Rust panic would: no
    engine close, no fsync, whichever thread it fired in."""
    try:
        fail.setup_from_env()
    except fail.FailPointError as exc:
        click.echo(f"{error_prefix}{exc}", err=True)
        sys.exit(2)

    def die(name: str, message: str) -> None:
        sys.stderr.write(f"{prog}: fail point {name} panicked: {message}; exiting\n")
        sys.stderr.flush()
        os._exit(101)

    fail.set_panic_handler(die)


@contextmanager
def _opened(directory: Path | None, engine: str | None, fsync: str | None) -> Iterator[Engine]:
    obj = click.get_current_context().obj
    try:
        store = open_engine(
            directory or obj["directory"], engine or obj["engine"], fsync=fsync or obj["fsync"]
        )
    except KvsError as exc:
        _fail(exc)
    try:
        yield store
    except KeyNotFound:
        raise
    except KvsError as exc:
        _fail(exc)
    finally:
        store.close()


def _fail(exc: Exception) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(1)


@main.command("set", context_settings=_SETTINGS)
@click.argument("key")
@click.argument("value")
@_store_options(top=False)
def set_cmd(
    key: str, value: str, directory: Path | None, engine: str | None, fsync: str | None
) -> None:
    """Set KEY to VALUE."""
    with _opened(directory, engine, fsync) as store:
        store.set(os.fsencode(key), os.fsencode(value))


@main.command("get", context_settings=_SETTINGS)
@click.argument("key")
@_store_options(top=False)
def get_cmd(key: str, directory: Path | None, engine: str | None, fsync: str | None) -> None:
    """Print the value of KEY, or "Key not found"."""
    with _opened(directory, engine, fsync) as store:
        value = store.get(os.fsencode(key))
    if value is None:
        click.echo("Key not found")
        return
    try:
        click.echo(value.decode())
    except UnicodeDecodeError:  # stored by another client: print the bytes as they are
        sys.stdout.buffer.write(value + b"\n")


@main.command("rm", context_settings=_SETTINGS)
@click.argument("key")
@_store_options(top=False)
def rm_cmd(key: str, directory: Path | None, engine: str | None, fsync: str | None) -> None:
    """Remove KEY; "Key not found" and exit 1 when it is absent."""
    try:
        with _opened(directory, engine, fsync) as store:
            store.remove(os.fsencode(key))
    except KeyNotFound:
        click.echo("Key not found")
        sys.exit(1)


# --------------------------------------------------------------------------- kvs-server


def parse_addr(addr: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port``; port 0 asks the OS for a free one (logged at start)."""
    host, sep, port = addr.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {addr!r}", param_hint="--addr")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def _fmt_addr(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="kvs-server")
@click.option("--addr", default="127.0.0.1:4000", show_default=True, help="HOST:PORT to listen on.")
@click.option(
    "--engine", type=click.Choice(ENGINES), default="kvs", show_default=True, help="Storage engine."
)
@click.option(
    "--dir",
    "data_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Data directory (created if missing).",
)
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="asyncio",
    show_default=True,
    help="asyncio event loop, or a Talent Plan thread pool taking one connection per job.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help=(
        "Workers for the shared-queue and futures pools. A connection holds its worker "
        "until it closes, so this bounds concurrent clients [default: 64]."
    ),
)
@click.option(
    "--fsync",
    type=click.Choice(FSYNC_POLICIES),
    default="always",
    show_default=True,
    help="Engine durability policy; with 'always' an acknowledged write is on disk.",
)
@click.option(
    "--fsync-thread",
    is_flag=True,
    default=False,
    help=(
        "asyncio pool, --fsync always: run the group fsync in a helper thread, so reads go "
        "on while the disk hangs. By default it runs on the event loop at the end of each "
        "turn, as Redis's appendfsync always: a hanging disk then stalls every client."
    ),
)
@click.option(
    "--offload",
    type=click.Choice(OFFLOAD_MODES),
    default="off",
    show_default=True,
    help=(
        "asyncio pool: run engine calls on --threads worker threads [default threads: 32]. "
        "Measured slower here, even with --fsync always (see AsyncServer)."
    ),
)
@click.option(
    "--status-addr",
    default=None,
    help="HOST:PORT for the HTTP status server: /metrics (Prometheus) and /fail (fail points).",
)
@click.option(
    "--max-bulk-len",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_BULK_LEN,
    show_default=True,
    help="Largest bulk string accepted; larger ones close the connection.",
)
def server_main(
    addr: str,
    engine: str,
    data_dir: str,
    pool: str,
    threads: int | None,
    fsync: str,
    fsync_thread: bool,
    offload: str,
    status_addr: str | None,
    max_bulk_len: int,
) -> None:
    """Serve a kvs data directory over RESP (redis-cli, redis-py, redis-benchmark)."""
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s kvs-server %(message)s"
    )
    host, port = parse_addr(addr)
    status_at = None
    if status_addr is not None:
        try:
            status_at = parse_addr(status_addr)
        except click.BadParameter as exc:
            _usage_error(f"--status-addr: {exc.message}")
    _setup_fail_points("kvs-server", "kvs-server: error: ")
    try:
        store = open_engine(data_dir, engine, fsync=fsync)
    except Exception as exc:  # noqa: BLE001 - one line, non-zero, no traceback
        click.echo(f"kvs-server: error: {exc}", err=True)
        sys.exit(1)
    status = None
    if status_at is not None:
        status = _start_status(store, *status_at)
    try:
        if pool == "asyncio":
            n = (threads or OFFLOAD_THREADS) if offload == "on" else 0
            _serve_asyncio(
                store, host, port, engine, data_dir, max_bulk_len, fsync, n, status, fsync_thread
            )
        else:
            n = threads or DEFAULT_THREADS
            _serve_threaded(
                store,
                make_pool(pool, n),
                host,
                port,
                engine,
                data_dir,
                pool,
                n,
                max_bulk_len,
                fsync,
                status,
            )
    except OSError as exc:
        if status is not None:
            status.close()
        store.close()
        click.echo(
            f"kvs-server: error: cannot listen on {_fmt_addr(host, port)}: {exc.strerror or exc}",
            err=True,
        )
        sys.exit(1)
    except BaseException:
        store.close()
        raise
    if status is not None:
        status.close()
    store.close()
    log.info("engine closed; bye")


def _usage_error(message: str) -> None:
    """Bad input before anything ran: one line, exit 2 (as click's usage errors)."""
    click.echo(f"kvs-server: error: {message}", err=True)
    sys.exit(2)


def _start_status(store: Engine, host: str, port: int) -> Any:
    """Bind and start the status server; a busy port is one line, exit 1, as for --addr."""
    from distlab.systems.kvs.metrics import KvsMetrics
    from distlab.systems.kvs.status import StatusServer

    metrics = KvsMetrics(store)
    try:
        status = StatusServer(host, port, metrics)
    except OSError as exc:
        store.close()
        click.echo(
            f"kvs-server: error: cannot listen on {_fmt_addr(host, port)} (--status-addr): "
            f"{exc.strerror or exc}",
            err=True,
        )
        sys.exit(1)
    status.start()
    log.info("status server at %s (/metrics, /fail)", _fmt_addr(*status.address))
    return status


def _banner(engine: str, addr: tuple[str, int], pool: str, data_dir: str, fsync: str) -> None:
    log.info(
        "kvs-server %s engine=%s fsync=%s pool=%s dir=%s listening on %s",
        __version__,
        engine,
        fsync,
        pool,
        os.path.abspath(data_dir),
        _fmt_addr(*addr),
    )


def _serve_asyncio(
    store: Engine,
    host: str,
    port: int,
    engine: str,
    data_dir: str,
    max_bulk_len: int,
    fsync: str,
    offload_threads: int,
    status: Any = None,
    fsync_thread: bool = False,
) -> None:
    async def run() -> None:
        server = AsyncServer(
            store,
            host,
            port,
            max_bulk_len=max_bulk_len,
            offload_threads=offload_threads,
            fsync_thread=fsync_thread,
        )
        if status is not None:  # count and time commands for /metrics
            server.handler = status.metrics.handler(store)
        addr = await server.start()
        pool = f"asyncio+offload({offload_threads})" if offload_threads else "asyncio"
        _banner(engine, addr, pool, data_dir, fsync)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await server.serve(stop)
        log.info("stopped accepting; closing the engine")

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(run())


def _serve_threaded(
    store: Engine,
    pool: ThreadPool,
    host: str,
    port: int,
    engine: str,
    data_dir: str,
    kind: str,
    threads: int,
    max_bulk_len: int,
    fsync: str,
    status: Any = None,
) -> None:
    try:
        server = ThreadedServer(store, pool, host, port, max_bulk_len=max_bulk_len)
    except OSError:
        pool.shutdown(0.0)
        raise
    if status is not None:
        server.handler = status.metrics.handler(store)
    _banner(
        engine, server.address, f"{kind}({threads})" if kind != "naive" else kind, data_dir, fsync
    )
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: server.shutdown())
    server.serve_forever()
    log.info("stopped accepting; closing the engine")

if __name__ == "__main__":
    main()
