"""Databases for campaign tests: a SQLite file, or a PostgreSQL server started here from the
Debian `postgresql` package (initdb in a temporary folder, loopback only)."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from voicebot.sim.baresip import free_port

_names = itertools.count()


class PostgresServer:
    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise RuntimeError(
                "PostgreSQL is not installed: apt-get install postgresql "
                "(scripts/setup.sh does this)"
            )
        self.bin = Path(found[-1]).parent
        self.data, self.port = root / "pgdata", free_port(socket.SOCK_STREAM)
        self.socket_dir = root / "pgsock"
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # postgres refuses to run as root
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(root, "postgres")
            shutil.chown(self.socket_dir, "postgres")

    def start(self) -> None:
        self._run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
            ]
        )
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=50"
        )
        self._run(
            [
                str(self.bin / "pg_ctl"),
                "-D",
                str(self.data),
                "-o",
                options,
                "-w",
                "-l",
                str(self.data / "server.log"),
                "start",
            ]
        )

    def stop(self) -> None:
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])

    def new_database(self) -> str:
        name = f"voicebot_{os.getpid()}_{next(_names)}"
        self._run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                name,
            ]
        )
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(
            [*self.as_user, *command], capture_output=True, text=True, timeout=120, cwd="/"
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)}: {done.stderr or done.stdout}")


def postgres(root: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(root)
    server.start()
    try:
        yield server
    finally:
        server.stop()
