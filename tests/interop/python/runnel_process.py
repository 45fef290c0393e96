"""A Runnel server of a test module's own, for settings the shared server cannot have: AWS's throughput
limits on (the shared server runs with --limits off), a visible UPDATING state, a small shard limit.

The server is the Release build of this checkout (<repo>/src/Runnel/bin/Release/net10.0/runnel.dll, as
scripts/test.sh builds it) on a free port with a fresh data directory. `stop()` is idempotent and also runs
at interpreter exit and on SIGTERM (run.sh's timeout); the kernel stops the server if the runner dies
outright (PR_SET_PDEATHSIG). Starting waits for GET /health at most START_SECONDS.
"""

import atexit
import ctypes
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request

# This file is <repo>/tests/interop/python/runnel_process.py.
REPO_ROOT = pathlib.Path(__file__).resolve().parents[3]
RUNNEL_DLL = REPO_ROOT / "src" / "Runnel" / "bin" / "Release" / "net10.0" / "runnel.dll"
START_SECONDS = 30.0
STOP_SECONDS = 10.0
# What scripts/test.sh counts as an internal failure in a server log.
FAILURE_MARKERS = ("Unhandled exception", "InternalFailure", "fail:")

_running = set()
_previous_sigterm = None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent():
    """In the child before exec: the kernel sends SIGTERM when the process that started us dies."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux or no libc: atexit and the SIGTERM handler still stop the server
        pass


def _stop_all_and_reraise(signum, frame):
    for server in list(_running):
        server.stop()
    signal.signal(signum, _previous_sigterm if callable(_previous_sigterm) else signal.SIG_DFL)
    os.kill(os.getpid(), signum)


class RunnelProcess:
    """One Runnel server: `start()` returns its endpoint URL once /health answers; `stop()` ends it and
    deletes its data directory."""

    def __init__(self, *flags):
        self.flags = [str(f) for f in flags]
        self.endpoint = None
        self.process = None
        self._root = None
        self._log = None

    def start(self):
        global _previous_sigterm
        dotnet = shutil.which("dotnet")
        if dotnet is None:
            raise RuntimeError("dotnet is not on PATH; cannot start a Runnel server of our own")
        if not RUNNEL_DLL.is_file():
            raise RuntimeError(f"{RUNNEL_DLL} not found: build first (dotnet build -c Release src/Runnel)")
        self._root = tempfile.mkdtemp(prefix="interop-py-runnel-")
        port = _free_port()
        self.endpoint = f"http://127.0.0.1:{port}"
        self._log = open(os.path.join(self._root, "server.log"), "wb")
        command = [dotnet, str(RUNNEL_DLL), "serve", "--port", str(port),
                   "--data-dir", os.path.join(self._root, "data"), *self.flags]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                                        cwd=self._root, preexec_fn=_die_with_parent)
        _running.add(self)
        atexit.register(self.stop)
        if _previous_sigterm is None:
            _previous_sigterm = signal.getsignal(signal.SIGTERM)
            signal.signal(signal.SIGTERM, _stop_all_and_reraise)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self.endpoint

    def _wait_healthy(self):
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + START_SECONDS
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Runnel ({' '.join(self.flags)}) exited with {self.process.returncode} "
                                   f"before answering /health:\n{self.log_text()[-2000:]}")
            try:
                with opener.open(self.endpoint + "/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Runnel did not answer {self.endpoint}/health within {START_SECONDS}s:\n"
                                   f"{self.log_text()[-2000:]}")
            time.sleep(0.1)

    def log_text(self):
        if self._root is None:
            return ""
        try:
            with open(os.path.join(self._root, "server.log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def internal_failures(self):
        """The log lines scripts/test.sh would count as an internal failure of the server."""
        return [line for line in self.log_text().splitlines() if any(m in line for m in FAILURE_MARKERS)]

    def stop(self):
        """Stops the server (SIGTERM, then SIGKILL after STOP_SECONDS) and deletes its directory. Returns
        the log lines that show an internal failure, read before the directory goes."""
        failures = []
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(STOP_SECONDS)
            self.process = None
            failures = self.internal_failures()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None
        _running.discard(self)
        return failures
