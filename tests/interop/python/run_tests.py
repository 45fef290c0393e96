"""Runs the boto3 interop suite against one endpoint and ends with the line 'N passed, M failed'.

Usage: run_tests.py ENDPOINT [PATTERN]   (PATTERN: only test ids containing it)
"""

import sys
import time
import traceback
import unittest

import kinesis_support


class SummaryResult(unittest.TestResult):
    """Prints each failure as it happens, with its reason, and counts passes."""

    def __init__(self):
        super().__init__()
        self.failed_ids = set()
        self.durations = []
        self._started = 0.0

    def startTest(self, test):
        super().startTest(test)
        self._started = time.monotonic()

    def stopTest(self, test):
        super().stopTest(test)
        self.durations.append((time.monotonic() - self._started, test.id()))

    @property
    def passed(self):
        return self.testsRun - len(self.failed_ids)

    def _report(self, kind, test, err):
        exc_type, exc, tb = err
        if issubclass(exc_type, AssertionError):
            reason = str(exc)
        else:
            # The line of the test that raised, then the exception: enough to see which call failed.
            frames = [f for f in traceback.extract_tb(tb) if "/test_" in f.filename]
            where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
            reason = f"{exc_type.__name__}{where}: {exc}"
        print(f"FAIL {test.id()}: {kind}: {reason}", flush=True)

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.failed_ids.add(test.id())
            self._report("assertion" if issubclass(err[0], test.failureException) else "error", subtest, err)

    def addFailure(self, test, err):
        self.failed_ids.add(test.id())
        super().addFailure(test, err)
        self._report("assertion", test, err)

    def addError(self, test, err):
        self.failed_ids.add(test.id())
        super().addError(test, err)
        self._report("error", test, err)


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def main():
    if len(sys.argv) < 2 or not sys.argv[1]:
        print("usage: run_tests.py ENDPOINT [PATTERN]\n0 passed, 1 failed")
        return 2
    kinesis_support.set_endpoint(sys.argv[1])
    pattern = sys.argv[2] if len(sys.argv) > 2 else ""
    loader = unittest.TestLoader()
    loaded = loader.discover(start_dir=sys.path[0], pattern="test_*.py", top_level_dir=sys.path[0])
    tests = [t for t in flatten(loaded) if pattern in t.id()]
    result = SummaryResult()
    started = time.monotonic()
    unittest.TestSuite(tests).run(result)
    left = kinesis_support.sweep_streams()
    if left:
        print(f"note: deleted {len(left)} stream(s) left behind: {', '.join(left)}")
    failed = len(result.failed_ids)
    print(f"python: ran {result.testsRun} tests in {time.monotonic() - started:.1f}s against {kinesis_support.ENDPOINT}; the slowest:")
    for seconds, test_id in sorted(result.durations, reverse=True)[:12]:
        print(f"  {seconds:6.1f}s {test_id}")
    print(f"{result.passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
