"""Running ``writer_proc`` children for the fault tests: kill trials and racing writers."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn(*args: str) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.writer_proc", *args],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


@dataclass
class Acks:
    """What a writer acknowledged: complete ``"<seq> <value>"`` lines only."""

    lines: list[str] = field(default_factory=list)

    def pairs(self) -> list[tuple[int, str]]:
        out = []
        for line in self.lines:
            if line.endswith("\n"):
                seq, value = line.split()
                out.append((int(seq), value))
        return out


def _drain(proc: subprocess.Popen[str], acks: Acks, started: threading.Event) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:  # keep the pipe empty so the writer never blocks on it
        acks.lines.append(line)
        started.set()
    started.set()


def kill_during_appends(kind: str, path: str, rng: random.Random, *, batch: int,
                        pad: int = 0) -> Acks:
    """Start a 10,000-append writer, SIGKILL it 10-200 ms after its first ack."""
    proc = spawn("append", "--store", kind, "--path", path, "--count", "10000",
                 "--batch", str(batch), "--pad", str(pad))
    acks = Acks()
    started = threading.Event()
    reader = threading.Thread(target=_drain, args=(proc, acks, started), daemon=True)
    reader.start()
    if not started.wait(timeout=60):
        proc.kill()
        raise AssertionError("writer never acknowledged an append")
    time.sleep(rng.uniform(0.01, 0.2))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    reader.join(timeout=30)
    assert proc.returncode == -signal.SIGKILL or proc.returncode == 0, proc.stderr.read() \
        if proc.stderr else proc.returncode
    return acks


def race_writers(kind: str, path: str, writers: int, count: int) -> list[Acks]:
    """``writers`` processes appending ``count`` events each to one stream, started together."""
    procs = [spawn("append", "--store", kind, "--path", path, "--count", str(count),
                   "--tag", f"w{w}", "--wait-go") for w in range(writers)]
    time.sleep(0.3)  # let them import and open the store before the start signal
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(Acks(out.splitlines(keepends=True)))
    return results
