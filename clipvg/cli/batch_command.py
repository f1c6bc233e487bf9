"""``clipvg batch JOBS -o OUT_DIR [--prompt TEXT] [edit options] [--workers N | --ray]``: many edits,
resumable, on every GPU of this machine or on a Ray cluster.

JOBS is a JSON Lines file (one ``clipvg edit`` job per line) or a folder of pictures. Every
``clipvg edit`` option can be given here too: it applies to every job that does not set its own.
Exit status: 0 when every job is done, 1 when some failed (see OUT_DIR/manifest.json), 2 for a bad
batch, 130 after Ctrl-C (run the same command again to continue).
"""
from __future__ import annotations

import argparse
import sys

EXCLUDED = ("output",)  # set per job (the --max-<limit> flags come with every command)


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from ..edit.flat import LIMIT_OPTIONS, add_arguments, all_options

    parser = sub.add_parser("batch", help="run many edits (a JSON Lines file or a folder) on every GPU or a Ray cluster",
                            description=__doc__.split("\n\n")[1].replace("``", ""))
    parser.add_argument("jobs", metavar="JOBS",
                        help="JSON Lines file, one edit per line ({\"input\": ..., \"prompt\": ..., \"roi\": [...], "
                             "\"iterations\": ..., \"seed\": ..., \"output\": [...]}; any clipvg edit option), "
                             "or a folder of pictures edited with --prompt")
    parser.add_argument("-o", "--out-dir", required=True, metavar="OUT_DIR",
                        help="folder for the outputs (relative job outputs start here), manifest.json and "
                             "checkpoints; running again skips finished jobs")
    parser.add_argument("--formats", default="svg", metavar="svg,png,pdf",
                        help="files written for a job without outputs: OUT_DIR/<id>.<format> (default svg)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes (default: one per visible GPU, else 1) or, with Ray, actors "
                             "(default: as many as the cluster fits)")
    parser.add_argument("--threads", type=int, metavar="N",
                        help="torch threads per worker on the CPU (default: the cores shared out between the "
                             "workers); CPU results are bit-identical to clipvg edit run with as many threads")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary table")
    ray = parser.add_argument_group("Ray (pip install -e '.[ray]')")
    ray.add_argument("--ray", action="store_true", help="run the jobs with Ray (started on this machine "
                                                       "unless --ray-address names a cluster)")
    ray.add_argument("--ray-address", metavar="ADDRESS", help="Ray cluster to use, e.g. auto or ray://head:10001 "
                                                              "(implies --ray)")
    ray.add_argument("--gpus-per-job", type=_float, metavar="F",
                     help="GPU share of each Ray worker (default 1 when the cluster has GPUs, else 0; 0.5 "
                          "runs two per GPU)")
    ray.add_argument("--cpus-per-job", type=_float, default=1.0, metavar="F",
                     help="CPUs of each Ray worker (default 1)")
    ray.add_argument("--ray-timeout", type=_float, default=30.0, metavar="S",
                     help="seconds to reach the Ray cluster before giving up (default 30)")
    ray.add_argument("--ray-files", choices=("auto", "shared", "bytes"), default="auto",
                     help="shared: every node sees the inputs and OUT_DIR at the same paths; bytes: inputs "
                          "and outputs travel with the jobs; auto: shared on a one-machine cluster, else "
                          "bytes (default)")
    edit = parser.add_argument_group("edit options (for every job that does not set its own; see clipvg edit -h)")
    add_arguments(edit, [name for name, option in all_options().items()
                        if name not in EXCLUDED and option not in LIMIT_OPTIONS], defaults=False)
    return parser


def run(args: argparse.Namespace) -> int:
    from ..batch import BatchInterrupted
    from ..batch import run as run_batch
    from ..edit.flat import all_options

    edit_options = {name: getattr(args, name) for name in all_options() if hasattr(args, name)}
    try:
        summary = run_batch(args.jobs, args.out_dir, executor="ray" if args.ray or args.ray_address else "local",
                            workers=args.workers, threads=args.threads, ray_address=args.ray_address, gpus_per_job=args.gpus_per_job,
                            cpus_per_job=args.cpus_per_job, ray_files=args.ray_files, ray_timeout=args.ray_timeout,
                            formats=args.formats.split(","), quiet=args.quiet, **edit_options)
    except BatchInterrupted as stop:
        print(f"interrupted with {len(stop.summary.pending)} jobs pending; run the same command again to "
              "continue", file=sys.stderr)
        raise KeyboardInterrupt from None
    if summary.ok:
        return 0
    print(f"clipvg batch: {len(summary.failed)} of {len(summary.records)} jobs failed; their errors are in "
          f"the table above and in {summary.manifest}", file=sys.stderr)
    return 1
