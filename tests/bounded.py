"""Run a piece of Python or a command in a child process bounded in time and memory, so a regression to a hang
or a memory blow-up fails its test instead of stalling the suite or the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

_PREAMBLE = """
import json as _json, resource as _resource, sys as _sys
_resource.setrlimit(_resource.RLIMIT_AS, ({limit}, {limit}))
"""
# The peak is VmHWM, this process image's own: ru_maxrss carries the parent's size over fork and exec (the
# pytest process, hundreds of MB late in a run).
_EPILOGUE = """
_hwm = [ln.split()[1] for ln in open("/proc/self/status") if ln.startswith("VmHWM:")][0]
_sys.stdout.write("\\n" + _json.dumps({{"peak_mb": int(_hwm) / 1024}}))
"""


@dataclass
class Run:
    """What a bounded child did: its exit code, output, wall time and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def _code_root() -> str:
    """PYTHONPATH for a child that imports the same rag package as the tests."""
    import rag

    root = str(Path(rag.__file__).resolve().parent.parent)
    return os.pathsep.join([root, *filter(None, [os.environ.get("PYTHONPATH")])])


def python(code: str, timeout: float, memory_mb: int, env: dict[str, str] | None = None) -> Run:
    """Run code in a fresh interpreter with at most memory_mb of address space; fails the test after timeout s."""
    limit = memory_mb * 2**20
    source = _PREAMBLE.format(limit=limit) + textwrap.dedent(code) + _EPILOGUE.format()
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", source],  # -P: not the current folder's rag, the one under test
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": _code_root(), **(env or {})},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {timeout:.0f} s")
    seconds = time.monotonic() - started
    out, _, last = done.stdout.rpartition("\n")
    peak = json.loads(last)["peak_mb"] if last.startswith("{") else float("nan")
    return Run(done.returncode, out if last.startswith("{") else done.stdout, done.stderr, seconds, peak)


def command(args: list[str], timeout: float, env: dict[str, str] | None = None) -> Run:
    """Run a command (a console script); fails the test after timeout s (its peak memory is not measured)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args[:3])} did not finish within {timeout:.0f} s")
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started, float("nan"))
