"""Run one contender as a process tree and measure its wall time and peak memory.

Peak RSS comes from GNU ``/usr/bin/time -v`` ("Maximum resident set size": the largest single
process of the tree, as the kernel's ``ru_maxrss`` counts it). Without it, a fresh Python wrapper
runs the command and reports ``getrusage(RUSAGE_CHILDREN).ru_maxrss``, which is the same number.
On Linux a sampler also sums the RSS of every process in the run's session every 0.2 s, so a
contender that forks workers cannot hide memory in them ("tree peak", sampled, so a short spike
can be missed).

The machine may be shared, so each run also reports the CPU time that neither the contender, nor the
bench server, nor this process used while it ran (``other_cpu_s``, from ``/proc/stat``): well above
zero means someone else's work competed for the cores and the timing is pessimistic.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"
SAMPLE_EVERY_S = 0.2
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024 if hasattr(os, "sysconf") else 4

_WRAPPER = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[2:])\n"
    "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "open(sys.argv[1], 'w').write('Maximum resident set size (kbytes): %d\\nUser time (seconds): %f\\n"
    "System time (seconds): %f\\n' % (u.ru_maxrss, u.ru_utime, u.ru_stime))\n"
    "sys.exit(rc)\n"
)


@dataclass
class Measurement:
    returncode: int | None
    """``None`` when the timeout was hit and the run was killed."""
    seconds: float
    max_rss_kb: int | None
    tree_peak_kb: int | None
    stdout: str
    stderr: str
    timed_out: bool
    cpu_s: float | None = None
    """User + system CPU seconds of the contender's process tree."""
    other_cpu_s: float | None = None
    """CPU seconds the machine spent on anything else than the contender, the server and this process."""

    @property
    def ok(self) -> bool:
        return not self.timed_out and self.returncode == 0


def has_gnu_time() -> bool:
    if not os.access(GNU_TIME, os.X_OK):
        return False
    probe = subprocess.run([GNU_TIME, "-v", "true"], capture_output=True, text=True)
    return "Maximum resident set size" in probe.stderr


class _TreeSampler(threading.Thread):
    """Peak of the summed RSS of every process whose session id is ``sid``."""

    def __init__(self, sid: int):
        super().__init__(daemon=True)
        self.sid = sid
        self.peak_kb = 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_EVERY_S):
            self.peak_kb = max(self.peak_kb, self.sample())

    def sample(self) -> int:
        total = 0
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            # after "pid (comm)": state ppid pgrp session ... rss is field 24 (index 21 here)
            if int(fields[3]) == self.sid:
                total += int(fields[21]) * PAGE_KB
        return total


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def machine_busy_s() -> float | None:
    """CPU seconds all cores spent busy since boot (``/proc/stat``), or None off Linux."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def process_cpu_s(pid: int | None) -> float:
    """User + system CPU seconds of one running process (0 if unknown)."""
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_measured(cmd: list[str], *, env: dict[str, str], cwd: str | Path, timeout_s: float, log: Path,
                 server_pid: int | None = None) -> Measurement:
    """Run ``cmd`` in its own session; kill the whole session if ``timeout_s`` passes."""
    with tempfile.NamedTemporaryFile("r", suffix=".rusage", delete=False) as rusage:
        report = rusage.name
    if has_gnu_time():
        wrapped = [GNU_TIME, "-v", "-o", report, *cmd]
    else:
        wrapped = [sys.executable, "-c", _WRAPPER, report, *cmd]
    log.parent.mkdir(parents=True, exist_ok=True)
    busy0, server0, own0 = machine_busy_s(), process_cpu_s(server_pid), sum(os.times()[:2])
    started = time.perf_counter()
    with open(log, "w") as err:
        proc = subprocess.Popen(wrapped, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=err, text=True,
                                start_new_session=True)
        sampler = _TreeSampler(proc.pid) if os.path.isdir("/proc") else None
        if sampler is not None:
            sampler.start()
        timed_out = False
        try:
            stdout, _ = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, _ = proc.communicate()
        except BaseException:  # Ctrl+C: the run is in its own session, so it would not get the signal
            os.killpg(proc.pid, signal.SIGKILL)
            raise
        seconds = time.perf_counter() - started
        if sampler is not None:
            sampler.stopped.set()
            sampler.join()
    busy1, server1, own1 = machine_busy_s(), process_cpu_s(server_pid), sum(os.times()[:2])
    text = Path(report).read_text() if os.path.exists(report) else ""
    os.unlink(report)
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    cpu = float(user.group(1)) + float(system.group(1)) if user and system else None
    other = None
    if busy0 is not None and busy1 is not None and cpu is not None:
        other = max(0.0, (busy1 - busy0) - cpu - (server1 - server0) - (own1 - own0))
    return Measurement(
        returncode=None if timed_out else proc.returncode,
        seconds=seconds,
        max_rss_kb=int(match.group(1)) if match else None,
        tree_peak_kb=sampler.peak_kb if sampler is not None else None,
        stdout=stdout or "",
        stderr=log.read_text(errors="replace"),
        timed_out=timed_out,
        cpu_s=cpu,
        other_cpu_s=other,
    )
