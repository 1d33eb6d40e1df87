"""A sweep on Ray: every cell of the grid is one Ray task running ``lattice_lab.compare.cell.run_cell``.

    pip install ray                      # not a lattice_lab dependency; lattice_lab on every node
    python examples/sweep_on_ray.py                      # a local Ray on this machine's cores
    python examples/sweep_on_ray.py --address auto       # the Ray cluster this node belongs to

``compare.sweep`` takes any object with the ``concurrent.futures`` interface. Ray's core API has
what that needs: a remote function returns an ``ObjectRef``, and ``ObjectRef.future()`` is a
``concurrent.futures.Future``; :class:`RayExecutor` below is those two lines. (Where your Ray has
an executor of its own under ``ray.util`` with ``submit``, pass that instead: nothing else changes.)
Each task asks for one CPU, and each cell runs with one torch thread. The workers load the
checkpoint and the data once each (they get a few hundred bytes per cell, never a tensor); the
rows are the serial run's, in grid order, and each finished cell is kept in ``--cache-dir``.
A method registered in your own module must be importable on the workers (see
``lattice_lab.compare.cell.ensure_method``).
"""
from __future__ import annotations

import argparse

import ray

from lattice_lab import compare


class RayExecutor:
    """``submit(fn, *args)`` as a Ray task of ``cpus`` CPUs, returning a ``concurrent.futures.Future``."""

    def __init__(self, cpus: float = 1):
        self.cpus = cpus
        self._remote = {}

    def submit(self, fn, *args):
        if fn not in self._remote:
            self._remote[fn] = ray.remote(num_cpus=self.cpus)(fn)
        return self._remote[fn].remote(*args).future()


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--address", default=None, help="a Ray cluster ('auto', 'ray://head:10001'); default: local")
    parser.add_argument("--checkpoint", default="mnist-lstm", help="a checkpoint file or shipped name")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--methods", nargs="+", default=["magnitude", "random", "magnitude-units", "spectral"])
    parser.add_argument("--amounts", nargs="+", type=float, default=[0.5, 0.75, 0.9])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--train-subset", type=int, default=10000)
    parser.add_argument("--cache-dir", default="sweep_cache", help="finished cells, kept as JSON (resumable)")
    parser.add_argument("--out", default="ray_rows.json")
    args = parser.parse_args(argv)
    ray.init(address=args.address)
    checkpoint = compare.checkpoint_spec(args.checkpoint)
    test = compare.data_spec(args.dataset, "test")
    train = compare.data_spec(args.dataset, "train", subset=args.train_subset)
    rows = compare.sweep(checkpoint, test, methods=args.methods, amounts=args.amounts, seeds=args.seeds,
                         finetune_epochs=args.finetune_epochs, train_data=train, executor=RayExecutor(),
                         cache_dir=args.cache_dir)
    compare.save_rows(rows, args.out)
    print(compare.format_table(rows))
    return rows


if __name__ == "__main__":
    main()
