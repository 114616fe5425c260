"""A Redis Cluster of our own on free loopback ports, for the cluster tests and benchmark.

``LocalRedisCluster(root).start()`` runs ``masters * (1 + replicas)`` ``redis-server``
processes in cluster mode, each with its own directory under ``root``, joins them with
``redis-cli --cluster create`` and waits until every node says ``cluster_state:ok``
and every replica is in sync. :meth:`kill` sends SIGKILL to one node (the fault
tests), :meth:`restart` starts it again on its port and directory (it rejoins as a
replica of whoever took over). :meth:`close` kills every process and removes the
directories; the fixture in each test module calls it whatever happened.

Nothing here uses the shared Redis on 6379.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

NODE_TIMEOUT_MS = 1000
"""Short, so a killed master's replica takes over within a few seconds."""


def binaries_problem() -> str | None:
    """Why a cluster cannot start here (None when ``redis-server`` and ``redis-cli`` exist)."""
    missing = [b for b in ("redis-server", "redis-cli") if shutil.which(b) is None]
    if missing:
        return f"{' and '.join(missing)} not found on PATH (Debian: apt-get install redis-server)"
    return None


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports(count: int) -> list[int]:
    """Ports P with P and its cluster bus port P + 10000 both free."""
    chosen: list[int] = []
    while len(chosen) < count:
        port = random.randrange(20_000, 45_000)
        if port in chosen or port + 10_000 in chosen:
            continue
        if _port_free(port) and _port_free(port + 10_000):
            chosen.append(port)
    return chosen


@dataclass
class ClusterNode:
    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5,
                           socket_connect_timeout=2)


@dataclass
class LocalRedisCluster:
    root: Path
    masters: int = 3
    replicas: int = 1
    node_timeout_ms: int = NODE_TIMEOUT_MS
    nodes: list[ClusterNode] = field(default_factory=list)

    # ── lifecycle ──

    def start(self, attempts: int = 3) -> LocalRedisCluster:
        """Start and join the nodes; a port taken meanwhile by someone else: try new ones."""
        for attempt in range(attempts):
            try:
                self._start_once()
                return self
            except (OSError, RuntimeError, redis.RedisError, subprocess.SubprocessError):
                self._stop_processes()
                shutil.rmtree(self.root, ignore_errors=True)
                self.nodes.clear()
                if attempt == attempts - 1:
                    raise
        return self

    def _start_once(self) -> None:
        count = self.masters * (1 + self.replicas)
        self.root.mkdir(parents=True, exist_ok=True)
        for port in free_ports(count):
            node = ClusterNode(port, self.root / str(port))
            node.directory.mkdir()
            self.nodes.append(node)
            self._spawn(node)
        for node in self.nodes:
            self._wait_answers(node)
        create = subprocess.run(
            ["redis-cli", "--cluster", "create",
             *(f"127.0.0.1:{n.port}" for n in self.nodes),
             "--cluster-replicas", str(self.replicas), "--cluster-yes"],
            capture_output=True, timeout=60, check=False)
        if create.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: "
                               f"{create.stdout.decode(errors='replace')[-500:]}"
                               f"{create.stderr.decode(errors='replace')[-500:]}")
        self.wait_healthy()

    def _spawn(self, node: ClusterNode) -> None:
        log = open(node.directory / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        try:
            node.process = subprocess.Popen(
                ["redis-server", "--port", str(node.port), "--bind", "127.0.0.1",
                 "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", str(self.node_timeout_ms),
                 "--dir", str(node.directory), "--save", "", "--appendonly", "no",
                 "--protected-mode", "no", "--daemonize", "no"],
                stdout=log, stderr=subprocess.STDOUT, cwd=node.directory)
        finally:
            log.close()

    def _wait_answers(self, node: ClusterNode, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"redis-server on port {node.port} exited "
                                   f"({node.process.returncode}); see {node.directory}")
            try:
                with node.client() as client:
                    client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        """Kill every node and remove the directories (safe to call twice)."""
        self._stop_processes()
        shutil.rmtree(self.root, ignore_errors=True)

    def _stop_processes(self) -> None:
        for node in self.nodes:
            proc = node.process
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)

    # ── what the tests ask ──

    @property
    def url(self) -> str:
        """The store URL naming every node as a seed."""
        seeds = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)
        return f"redis+cluster://{seeds}/"

    def seed_url(self, count: int = 2) -> str:
        """A URL with only the first ``count`` nodes as seeds (the rest is discovered)."""
        seeds = ",".join(f"127.0.0.1:{n.port}" for n in self.nodes[:count])
        return f"redis+cluster://{seeds}/"

    def live_nodes(self) -> list[ClusterNode]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def primary_port_of(self, key: str) -> int:
        """The port of the master serving ``key``'s slot right now."""
        for node in self.live_nodes():
            with node.client() as client:
                slot = int(client.execute_command("CLUSTER", "KEYSLOT", key))
                for start, end, primary, *_ in client.execute_command("CLUSTER", "SLOTS"):
                    if start <= slot <= end:
                        return int(primary[1])
        raise RuntimeError(f"no live node serves {key!r}")

    def role(self, port: int) -> str:
        with self._node(port).client() as client:
            return str(client.execute_command("ROLE")[0], "ascii")

    def _node(self, port: int) -> ClusterNode:
        return next(n for n in self.nodes if n.port == port)

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port``: no shutdown, no last write."""
        node = self._node(port)
        assert node.process is not None
        node.process.send_signal(signal.SIGKILL)
        node.process.wait(timeout=10)

    def restart(self, port: int) -> None:
        """Start the node on ``port`` again with its directory (it rejoins the cluster)."""
        node = self._node(port)
        self._spawn(node)
        self._wait_answers(node)

    def wait_healthy(self, timeout: float = 60) -> None:
        """Every live node sees the cluster ok, all slots served, every replica in sync."""
        deadline = time.monotonic() + timeout
        problem = ""
        while time.monotonic() < deadline:
            problem = self._health_problem()
            if not problem:
                return
            time.sleep(0.1)
        raise RuntimeError(f"cluster not healthy after {timeout} s: {problem}")

    def wait_primary_changed(self, key: str, old_port: int, timeout: float = 60) -> int:
        """Wait until another node serves ``key``'s slot (a replica took over)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                port = self.primary_port_of(key)
                if port != old_port:
                    with self._node(port).client() as client:
                        if "cluster_state:ok" in client.execute_command(
                                "CLUSTER", "INFO").decode():
                            return port
            except (redis.RedisError, RuntimeError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no replica took over from port {old_port} in {timeout} s")

    def _health_problem(self) -> str:
        live = self.live_nodes()
        for node in live:
            try:
                with node.client() as client:
                    info = client.execute_command("CLUSTER", "INFO").decode()
                    if "cluster_state:ok" not in info:
                        return f"port {node.port}: cluster_state not ok"
                    if f"cluster_known_nodes:{len(self.nodes)}" not in info:
                        return f"port {node.port}: does not know every node yet"
                    replication = client.info("replication")
                    if replication.get("role") == "slave" and (
                            replication.get("master_link_status") != "up"
                            or replication.get("master_sync_in_progress")):
                        return f"port {node.port}: replica not in sync"
            except redis.RedisError as exc:
                return f"port {node.port}: {exc}"
        masters = 0
        for node in live:
            with node.client() as client:
                if client.info("replication").get("role") == "master":
                    masters += 1
        if masters < self.masters:
            return f"{masters} masters of {self.masters}"
        return ""
