"""``python -m benchmarks [names...]``: run all benchmarks (or the named ones), then update the README.

Each named benchmark's ``main([])`` runs with its defaults (full mode unless
``LATTICE_LAB_FAST=1``); for options, run one benchmark directly:
``python -m benchmarks.<name> --help``. After a full run the block between the results markers
of the top-level README is regenerated from ``benchmarks/results/*.json``; a fast run leaves the
README alone.
"""
from __future__ import annotations

import argparse
import importlib
import sys
import time

from lattice_lab.settings import fast

from . import BENCHMARKS
from .common import ROOT, update_readme


def main(argv: list[str] | None = None) -> list[str]:
    """Run the named benchmarks (default: all, in :data:`BENCHMARKS` order); return the names run."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {' '.join(BENCHMARKS)})")
    parser.add_argument("--no-readme", action="store_true", help="do not regenerate the README tables")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {list(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    for name in names:
        start = time.perf_counter()
        print(f"== benchmarks.{name}", flush=True)
        importlib.import_module(f"benchmarks.{name}").main([])
        print(f"== benchmarks.{name} done in {time.perf_counter() - start:.0f} s", flush=True)
    readme = ROOT / "README.md"
    if not fast() and not args.no_readme and readme.is_file():
        try:
            changed = update_readme(readme)
        except ValueError as error:
            print(f"README not updated: {error}")
        else:
            print(f"README tables {'updated' if changed else 'already up to date'}")
    return names


if __name__ == "__main__":
    main(sys.argv[1:])
