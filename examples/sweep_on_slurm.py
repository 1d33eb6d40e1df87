"""A sweep on SLURM through submitit: every cell of the grid is one SLURM job running ``run_cell``.

    pip install submitit                 # not a lattice_lab dependency; lattice_lab on every node
    python examples/sweep_on_slurm.py --partition cpu            # on a SLURM login node
    python examples/sweep_on_slurm.py --cluster local            # the same, as local processes

``submitit.AutoExecutor.submit(fn, *args)`` returns a job with ``result()`` and ``done()``, which
is all ``compare.sweep`` needs from an executor: it polls ``done()`` and stores every finished
cell in ``--cache-dir`` (put it on the shared filesystem), so a grid cut short by the time limit
resumes where it stopped when you run the script again. The checkpoint must be a shipped name or
a path every node can read; each job limits itself to one torch thread on its one CPU.

One job per cell pays SLURM's scheduling, an interpreter start and loading the data for every
cell: right for grids of few, long cells. For a large grid of short cells, run Dask workers as
SLURM jobs instead (dask-jobqueue's ``SLURMCluster``) and give its scheduler to
``lattice-lab compare --scheduler`` or ``python -m benchmarks.quality --scheduler``: each worker
then loads the data once and computes many cells (see benchmarks/README.md, "sweep_scaling").
"""
from __future__ import annotations

import argparse

import submitit

from lattice_lab import compare


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cluster", default=None, help="submitit's cluster: default SLURM when there is one; "
                                                        "'local' runs the jobs as processes here")
    parser.add_argument("--partition", default=None, help="the SLURM partition")
    parser.add_argument("--logs", default="submitit_logs", help="submitit's folder for job files and logs")
    parser.add_argument("--timeout-min", type=int, default=60, help="each job's time limit in minutes")
    parser.add_argument("--checkpoint", default="mnist-lstm", help="a shipped name or a path every node can read")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--methods", nargs="+", default=["magnitude", "random", "magnitude-units", "spectral"])
    parser.add_argument("--amounts", nargs="+", type=float, default=[0.5, 0.75, 0.9])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--finetune-epochs", type=int, default=1)
    parser.add_argument("--train-subset", type=int, default=10000)
    parser.add_argument("--cache-dir", default="sweep_cache", help="finished cells, kept as JSON (resumable)")
    parser.add_argument("--out", default="slurm_rows.json")
    args = parser.parse_args(argv)
    executor = submitit.AutoExecutor(folder=args.logs, cluster=args.cluster)
    executor.update_parameters(timeout_min=args.timeout_min, cpus_per_task=1, mem_gb=4, name="lattice_lab-sweep",
                               slurm_partition=args.partition)
    checkpoint = compare.checkpoint_spec(args.checkpoint)
    test = compare.data_spec(args.dataset, "test")
    train = compare.data_spec(args.dataset, "train", subset=args.train_subset)
    rows = compare.sweep(checkpoint, test, methods=args.methods, amounts=args.amounts, seeds=args.seeds,
                         finetune_epochs=args.finetune_epochs, train_data=train, executor=executor,
                         cache_dir=args.cache_dir)
    compare.save_rows(rows, args.out)
    print(compare.format_table(rows))
    return rows


if __name__ == "__main__":
    main()
