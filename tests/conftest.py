"""Fixtures shared by several test modules."""
import pytest

from lattice_lab import checkpoints
from lattice_lab.data import load


@pytest.fixture(scope="module")
def digits():
    """The digits train and test splits (bundled with scikit-learn: always available)."""
    return load("digits", "train"), load("digits", "test")


@pytest.fixture(scope="module")
def model():
    """The shipped digits LSTM (97.8% test accuracy; tests/test_shipped.py checks it)."""
    return checkpoints.load("digits-lstm")[0]


# --------------------------------------------------------------------------- hostile inputs under limits

LIMIT_ADDRESS_SPACE = 6 << 30   # bytes: a hostile input must be refused well inside this
LIMIT_SECONDS = 60              # the kill; a pass must answer within ANSWER_SECONDS
ANSWER_SECONDS = 30
GROWTH_LIMIT = 1 << 30          # bytes of peak-memory growth a refusal may cost

_WRAPPER = r"""
import resource, sys, time, traceback
resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
import lattice_lab, torch, numpy                      # the imports are not the input's cost
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
code = 0
try:
    exec(compile(sys.argv[1], "<hostile case>", "exec"), {{"__name__": "__main__"}})
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
    if not isinstance(stop.code, int) and stop.code is not None:
        print(stop.code, file=sys.stderr)
except BaseException as error:
    print(f"RAISED {{type(error).__name__}}: {{error}}", file=sys.stderr)
    code = 3
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) * 1024
print(f"\nLIMITS seconds={{time.perf_counter() - start:.3f}} growth={{growth}}", file=sys.stderr)
sys.exit(code)
"""


class Outcome:
    """What a hostile case did in its own process: exit code, output, seconds and peak-memory growth."""

    def __init__(self, completed):
        self.returncode = completed.returncode
        self.stdout = completed.stdout
        body, _, tail = completed.stderr.rpartition("\nLIMITS ")
        self.stderr = body if tail else completed.stderr
        fields = dict(item.split("=", 1) for item in tail.split() if "=" in item)  # none when it never got there
        self.seconds = float(fields.get("seconds", "inf"))
        self.growth = int(fields.get("growth", str(1 << 62)))

    def __repr__(self):
        return (f"Outcome(returncode={self.returncode}, seconds={self.seconds:.1f}, "
                f"growth={self.growth >> 20} MiB, stderr={self.stderr[-600:]!r}, stdout={self.stdout[-300:]!r})")


@pytest.fixture
def under_limits(tmp_path):
    """Run Python source in a fresh process under RLIMIT_AS and a kill; return its :class:`Outcome`.

    ``refused(source, *words, files=())`` runs it and asserts the four things a hostile input must meet
    (issue 29): peak-memory growth (``ru_maxrss``) under 1 GiB, an answer within 30 s, a message holding
    every one of ``words`` (case-insensitive) and no traceback, and every file in ``files`` unchanged.
    The process's working folder is ``tmp_path``.
    """
    import hashlib
    import os
    import subprocess
    import sys

    def digest(paths):
        return {str(p): hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths}

    def run(source: str) -> Outcome:
        env = dict(os.environ, OMP_NUM_THREADS="1", LATTICE_LAB_QUIET="1")
        try:
            completed = subprocess.run(
                [sys.executable, "-c", _WRAPPER.format(limit=LIMIT_ADDRESS_SPACE), source],
                capture_output=True, text=True, timeout=LIMIT_SECONDS, cwd=tmp_path, env=env)
        except subprocess.TimeoutExpired:
            pytest.fail(f"no answer within {LIMIT_SECONDS} s: {source[:200]}")
        return Outcome(completed)

    def refused(source: str, *words: str, files=()) -> Outcome:
        before = digest(files)
        outcome = run(source)
        message = (outcome.stderr + outcome.stdout).lower()
        assert outcome.returncode != 0, outcome
        assert outcome.seconds <= ANSWER_SECONDS, outcome
        assert outcome.growth < GROWTH_LIMIT, outcome
        assert "traceback" not in message and "memoryerror" not in message, outcome
        for word in words:
            assert word.lower() in message, (word, outcome)
        assert digest(files) == before, "a file changed"
        return outcome

    run.refused = refused
    return run
