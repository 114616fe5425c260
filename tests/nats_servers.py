"""nats-server processes of a test's own: one node or a 3-node JetStream cluster.

Each server listens on free loopback ports, keeps its JetStream data in a directory
of its own (under the test's ``tmp_path``) and is killed when the block ends, so a
fault test can SIGKILL and restart servers without touching the shared one on
4222. ``healthz`` on the monitoring port says when JetStream is ready (for a
cluster: its meta leader is elected and its streams are current).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class NatsServer:
    """One nats-server with JetStream; ``start`` again after ``kill`` keeps its data."""

    name: str
    directory: Path
    port: int = field(default_factory=free_port)
    monitor_port: int = field(default_factory=free_port)
    cluster_port: int | None = None
    routes: list[int] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.directory / "server.log"

    def command(self) -> list[str]:
        cmd = [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-m",
               str(self.monitor_port), "-js", "-sd", str(self.directory / "js"), "-n", self.name,
               "-l", str(self.log)]
        if self.cluster_port is not None:
            routes = ",".join(f"nats://127.0.0.1:{p}" for p in self.routes)
            cmd += ["--cluster_name", "l0test", "--cluster",
                    f"nats://127.0.0.1:{self.cluster_port}", "--routes", routes]
        return cmd

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        self.proc = None

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.monitor_port}/healthz",
                                        timeout=2) as resp:
                return bool(json.loads(resp.read()).get("status") == "ok")
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def jsz(self) -> dict[str, object]:
        """The monitoring endpoint's JetStream report, streams included."""
        with urllib.request.urlopen(
                f"http://127.0.0.1:{self.monitor_port}/jsz?streams=true&config=true",
                timeout=5) as resp:
            data: dict[str, object] = json.loads(resp.read())
            return data


def wait_healthy(servers: list[NatsServer], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(s.healthy() for s in servers):
            return
        for s in servers:
            if s.proc is not None and s.proc.poll() is not None:
                tail = s.log.read_text(errors="replace")[-2000:] if s.log.exists() else ""
                pytest.fail(f"nats-server {s.name} exited ({s.proc.returncode}): {tail}")
        time.sleep(0.1)
    pytest.fail(f"nats-server(s) not healthy after {timeout}s: "
                f"{[s.name for s in servers if not s.healthy()]}")


def _require_binary() -> None:
    if not Path(NATS_SERVER).exists():
        from tests.services import _unavailable

        _unavailable(f"no nats-server binary at {NATS_SERVER}")


@contextlib.contextmanager
def nats_server(root: Path, name: str = "n1") -> Iterator[NatsServer]:
    """One JetStream server of the test's own."""
    _require_binary()
    server = NatsServer(name, root / name)
    try:
        server.start()
        wait_healthy([server])
        yield server
    finally:
        server.kill()


@contextlib.contextmanager
def nats_cluster(root: Path, size: int = 3) -> Iterator[list[NatsServer]]:
    """A JetStream cluster of ``size`` nodes on loopback (R3 streams need three)."""
    _require_binary()
    cluster_ports = [free_port() for _ in range(size)]
    servers = [NatsServer(f"c{i + 1}", root / f"c{i + 1}", cluster_port=cluster_ports[i],
                          routes=[p for j, p in enumerate(cluster_ports) if j != i])
               for i in range(size)]
    try:
        for s in servers:
            s.start()
        wait_healthy(servers)
        yield servers
    finally:
        for s in servers:
            s.kill()


def cluster_url(servers: list[NatsServer], **query: str) -> str:
    """One URL naming every node as a seed."""
    hosts = ",".join(f"127.0.0.1:{s.port}" for s in servers)
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"nats://{hosts}/" + (f"?{tail}" if tail else "")
