"""Background jobs of the lab: one computation at a time in a worker thread, counted and cancellable.

A :class:`Jobs` runner (one daemon worker thread fed by a ``queue.Queue``: queued jobs wait their
turn, a queued one cancelled never starts) runs ``work()`` inside :func:`lattice_lab.train.watching`,
so every optimizer step of whatever the work trains counts towards the job's progress and checks
its cancel flag: :meth:`Job.cancel` stops a training at its next step (:class:`JobCancelled`). The
calling thread never waits, so the notebook's controls stay usable while a job runs. (Not
``concurrent.futures``: its worker threads are joined when the interpreter exits, so closing a
kernel would wait for a training to end; a daemon thread is not.)

Must not import: cli, compare, widgets.lab, widgets.state, widgets.plots.

Examples
--------
>>> jobs = Jobs()
>>> job = jobs.submit("square", lambda: 7 * 7)
>>> job.wait().result, job.cancelled, job.error
(49, False, None)
>>> jobs.shutdown()
"""
from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable
from typing import Any

from .. import train


class JobCancelled(Exception):
    """Raised inside a job's training when :meth:`Job.cancel` was called."""


class Job:
    """One background computation: ``key`` names what it computes; ``steps`` counts its optimizer steps.

    After it ends (:meth:`wait`), exactly one of ``result`` (its value), ``error`` (an exception it
    raised) or ``cancelled`` tells how.
    """

    def __init__(self, key: Hashable, work: Callable[[], Any], total_steps: int | None,
                 on_step: Callable[[Job], None] | None, on_done: Callable[[Job], None] | None):
        self.key, self.total_steps = key, total_steps
        self.steps = 0
        self.result: Any = None
        self.error: BaseException | None = None
        self.cancelled = False
        self._work, self._on_step, self._on_done = work, on_step, on_done
        self._cancel = threading.Event()
        self._ended = threading.Event()

    @property
    def done(self) -> bool:
        """True once the job has ended (finished, failed or cancelled)."""
        return self._ended.is_set()

    def cancel(self) -> None:
        """Stop the job: before it starts (it never runs), or at its next optimizer step."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> Job:
        """Block until the job has ended (at most ``timeout`` seconds); returns the job."""
        self._ended.wait(timeout)
        return self

    def _step(self) -> None:
        if self._cancel.is_set():
            raise JobCancelled(f"{self.key} was cancelled")
        self.steps += 1
        if self._on_step is not None:
            self._on_step(self)

    def _run(self) -> None:
        try:
            if self._cancel.is_set():
                raise JobCancelled(f"{self.key} was cancelled before it started")
            with train.watching(self._step):
                self.result = self._work()
        except JobCancelled:
            self.cancelled = True
        except Exception as error:  # noqa: BLE001 - kept on the job, shown by its owner
            self.error = error
        self._finish()

    def _finish(self) -> None:
        try:
            if self._on_done is not None:
                self._on_done(self)
        finally:
            self._work = self._on_step = self._on_done = None  # an ended job keeps no owner (a lab) alive
            self._ended.set()


IDLE_S = 10.0
"""Seconds the worker thread waits for another job before it ends (the next submit starts a new one)."""


class Jobs:
    """Runs :class:`Job` s one at a time in one worker thread, in the order submitted.

    The thread starts with the first job and ends after :data:`IDLE_S` idle seconds, so a lab that
    is dropped (a notebook cell run again) leaves no thread behind; ``submitted`` keeps the jobs
    not yet ended and the last one submitted.
    """

    def __init__(self) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.submitted: list[Job] = []

    def submit(self, key: Hashable, work: Callable[[], Any], *, total_steps: int | None = None,
               on_step: Callable[[Job], None] | None = None, on_done: Callable[[Job], None] | None = None) -> Job:
        """Queue ``work()`` as a job named ``key``; returns it at once."""
        job = Job(key, work, total_steps, on_step, on_done)
        with self._lock:
            self.submitted = [j for j in self.submitted if not j.done] + [job]
            self._queue.put(job)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="lattice-lab-job", daemon=True)
                self._worker.start()
        return job

    def _serve(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:  # a submit either sees no worker (and starts one) or put its job first
                    if self._queue.empty():
                        self._worker = None
                        return
                continue
            if job is None:
                return
            job._run()

    def active(self) -> list[Job]:
        """The jobs not yet ended, oldest first."""
        return [job for job in self.submitted if not job.done]

    def find(self, key: Hashable) -> Job | None:
        """The job computing ``key`` that has not ended, or None."""
        return next((job for job in self.active() if job.key == key), None)

    def cancel_all(self) -> int:
        """Cancel every job not yet ended; returns how many."""
        active = self.active()
        for job in active:
            job.cancel()
        return len(active)

    def wait(self, timeout: float | None = None) -> None:
        """Block until every submitted job has ended."""
        for job in list(self.submitted):
            job.wait(timeout)

    def shutdown(self) -> None:
        """Cancel what is left and stop the worker thread (after the job it runs has stopped)."""
        self.cancel_all()
        with self._lock:
            worker, self._worker = self._worker, None
            if worker is not None:
                self._queue.put(None)
        if worker is not None:
            worker.join()
