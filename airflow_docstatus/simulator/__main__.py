"""Command line: ``python -m airflow_docstatus.simulator [--host] [--port] [--scenario] [--port-file]``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
from pathlib import Path

from .app import SimulatorServer

LISTENING_LINE = "docstatus simulator listening on {url}"
WANTED_OPEN_FILES = 65536


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_docstatus.simulator",
        description="Serve simulated document-processing vendor APIs over HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port to bind; 0 picks a free one (default 8765)")
    parser.add_argument("--scenario", type=Path, help="JSON scenario merged over the shipped defaults")
    parser.add_argument("--port-file", type=Path, help="write the bound port to this file once listening")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    return parser.parse_args(argv)


def _write_port_file(path: Path, port: int) -> None:
    """Write the port atomically, so a reader never sees a half-written file."""
    fd, tmp = tempfile.mkstemp(dir=path.parent or Path("."), prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{port}\n")
    os.replace(tmp, path)


def _raise_open_file_limit() -> None:
    """Allow thousands of concurrent keep-alive connections, as far as the hard limit lets us."""
    try:
        import resource
    except ImportError:  # not on POSIX
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = WANTED_OPEN_FILES if hard == resource.RLIM_INFINITY else min(WANTED_OPEN_FILES, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError):
            pass


async def _serve(args: argparse.Namespace) -> int:
    server = SimulatorServer(args.scenario, args.host, args.port)
    await server.start()
    assert server.port is not None
    try:
        if args.port_file is not None:
            _write_port_file(args.port_file, server.port)
        print(LISTENING_LINE.format(url=server.url), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
    finally:
        await server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the simulator until SIGTERM or SIGINT; 0 on a clean stop, 2 on a bad scenario."""
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(message)s",
    )
    _raise_open_file_limit()
    try:
        return asyncio.run(_serve(args))
    except ValueError as exc:
        print(f"docstatus simulator: bad scenario: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"docstatus simulator: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
