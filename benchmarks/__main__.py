"""Command line of the benchmark suite (see benchmarks/README.md).

python -m benchmarks run --task sphere-f1 --quick     # seconds
python -m benchmarks run --all --seeds 5              # hours; resumes where it stopped
python -m benchmarks omp --problems 10                # NP = OMP on diagonal linear nets
python -m benchmarks report --readme docs/results.md  # figures + results table
python -m benchmarks compare OLD_DIR/full NEW_DIR/full  # the same fits before and after
python -m benchmarks compare DIR/full DIR/full --methods np np-momentum  # two methods
python -m benchmarks realdata                         # NP's defaults on real tabular data
python -m benchmarks converge --datasets digits       # NP's network vs a minimiser near it
python -m benchmarks corpus --out F.csv               # NP's defaults on 22 public datasets
python -m benchmarks corpus --small --out F.csv       # ... on 24 regressions of 21-120 rows
python -m benchmarks corpus --outside --out F.csv     # ... on 25 regressions outside both
python -m benchmarks scale --sizes 10000 100000       # one process vs a 2-worker Dask fit
python -m benchmarks rows --sizes 100000              # defaults vs MLP and HGB: time, memory
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from .methods import DEFAULT_METHODS, METHODS
from .tasks import TASKS
from .threads import add_threads_option, apply_threads

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def _positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1; got {value}")
    return value


def _at_least_two(text):
    value = int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"at least 2 folds; got {value}")
    return value


def _run(args):
    from .runner import run

    apply_threads(args)
    names = list(TASKS) if args.all else args.task
    if not names:
        sys.exit("name a task with --task, or use --all")
    if args.paper_max_iter is not None and "np-paper" not in args.methods:
        sys.exit("--paper-max-iter caps np-paper's iterations: add np-paper to --methods")
    mode = "quick" if args.quick else "full"
    for name in names:
        run(
            [name],
            args.methods,
            args.seeds,
            args.quick,
            args.results / mode / f"{name}.csv",
            models=None if args.quick else args.results / "models",
            sizes=args.sizes,
            paper_max_iter=args.paper_max_iter,
        )


def _omp(args):
    from .theory import omp_check

    results = omp_check(args.problems)
    matched = sum(np_order == omp_order for _, np_order, omp_order in results)
    for seed, np_order, omp_order in results:
        verdict = "match" if np_order == omp_order else "DIFFER"
        print(f"problem {seed}: NP {np_order}  OMP {omp_order}  {verdict}")
    print(f"OMP check: {matched}/{len(results)} problems select the same coordinates in order")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            "problem,np_order,omp_order,match\n"
            + "".join(f'{s},"{a}","{b}",{a == b}\n' for s, a, b in results)
        )
    return 0 if matched == len(results) else 1


def _report(args):
    from .report import NoRows

    try:
        _write_report(args)
    except NoRows as error:
        sys.exit(f"report: {error}; nothing written")


def _write_report(args):
    from .report import (
        PAPER_TABLE_END,
        PAPER_TABLE_START,
        load,
        paper_table,
        results_table,
        save_figures,
        update_readme,
    )

    if args.paper:  # the paper's protocol: rows of np-paper, straight in the folder
        table = paper_table(load(args.results))
        print(table)
        if args.readme:
            update_readme(args.readme, table, PAPER_TABLE_START, PAPER_TABLE_END)
        return
    frame = load(args.results / args.mode)
    table = results_table(frame, args.results / "models")
    print(table)
    save_figures(frame, args.results / "models", args.figures)
    if args.readme:
        update_readme(args.readme, table)
        print(f"table written into {args.readme}")


def _compare(args):
    from .report import NoRows, compare_table, load

    try:
        print(compare_table(load(args.before), load(args.after), methods=args.methods))
    except NoRows as error:
        sys.exit(f"compare: {error} (folders of the runner's CSVs, e.g. DIR/full)")


def _seeds_said(seeds):
    if len(seeds) == 1:
        return f"seed {seeds[0]}, ± the standard deviation over the folds"
    listed = " ".join(map(str, seeds))
    return f"seeds {listed}, the mean over them ± the standard deviation of their means"


def _write_rows(out, rows, heading, table):
    """The rows as the CSV ``out`` (every key a column) and ``heading`` with ``table`` beside
    it, as ``out`` with the suffix .md."""
    import csv

    out.parent.mkdir(parents=True, exist_ok=True)
    fields = list(dict.fromkeys(key for row in rows for key in row))
    with out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fields)
        writer.writeheader()
        writer.writerows(rows)
    out.with_suffix(".md").write_text(f"{heading}\n\n{table}\n")


def _realdata(args):
    from .realdata import DATASETS, TABLE_END, TABLE_START, evaluate, parse_settings, summary_table
    from .report import check_readme, update_readme

    apply_threads(args)
    np_params = parse_settings(args.np)
    if args.readme:
        check_readme(args.readme, TABLE_START, TABLE_END)  # before the fits, not after
    rows = []
    for name in args.datasets:
        for method in args.methods:
            found = [
                row
                for seed in args.seed
                for row in evaluate(DATASETS[name], method, np_params, seed=seed)
            ]
            rows.extend(found)
            print(
                f"{name:>13} {method:>7}: "
                f"{np.mean([r['score'] for r in found]):.3f} "
                f"({np.median([r['fit_seconds'] for r in found]):.2f} s a fit)",
                flush=True,
            )
    table = summary_table(rows, args.methods)
    print(table)
    if args.out:
        _write_rows(
            args.out,
            rows,
            f"NP settings: {np_params or 'defaults'}; {_seeds_said(args.seed)}",
            table,
        )
    if args.readme:
        update_readme(args.readme, table, TABLE_START, TABLE_END)
        print(f"table written into {args.readme}")


def _converge(args):
    from .converge import evaluate, summary
    from .realdata import DATASETS, parse_settings

    apply_threads(args)
    np_params = parse_settings(args.np)
    # A held-out part is not in the objective: the regressor's default holds one out.
    held_out = np_params.get("early_stopping", "auto")
    regressions = [name for name in args.datasets if not DATASETS[name].classification]
    if held_out is True or (held_out is not False and regressions):
        sys.exit("converge: fits must hold nothing out; pass --np early_stopping=False")
    rows = [
        row
        for name in args.datasets
        for seed in args.seed
        for row in evaluate(DATASETS[name], np_params, seed=seed, max_iter=args.max_iter)
    ]
    table = summary(rows)
    print(table)
    if args.out:
        seeds = " ".join(map(str, args.seed))
        _write_rows(
            args.out,
            rows,
            f"NP settings: {np_params or 'defaults'}; seeds {seeds}, means of the folds",
            table,
        )


def _scale(args):
    from .scale import measure, write

    ncf_samples = None if args.ncf_samples == 0 else args.ncf_samples
    rows = measure(args.sizes, args.workers, args.dtype, args.threads or 1, ncf_samples)
    write(rows, args.out)


def _rows(args):
    from .rows import METHODS, measure, write

    rows = []
    for seed in args.seeds:
        rows += measure(args.sizes, args.methods or METHODS, seed, args.threads)
    write(rows, args.out)


def _corpus(args):
    from .corpus import (
        DATASETS,
        OUTSIDE_REGRESSIONS,
        SMALL,
        SMALL_REGRESSIONS,
        evaluate,
        missing_message,
        summarize,
        summary_text,
        table,
    )
    from .realdata import parse_settings

    apply_threads(args)
    if args.datasets is None:
        args.datasets = list(
            SMALL_REGRESSIONS if args.small else OUTSIDE_REGRESSIONS if args.outside else DATASETS
        )
    message = missing_message(args.datasets)
    if message:
        sys.exit(message)
    np_params = parse_settings(args.np)
    folds = args.folds or (2 if args.quick else 5)
    max_rows = args.max_rows or (200 if args.quick else None)
    repeats = args.repeats or (1 if args.quick else 3)
    heading = (
        f"NP settings: {np_params or 'defaults'}; {folds}-fold cross-validation, "
        f"{repeats} repeats under {SMALL} rows, seed {args.seed}"
        + (f", at most {max_rows} rows" if max_rows else "")
    )
    rows = []
    started = time.perf_counter()
    for name in args.datasets:
        found = evaluate(name, args.learners, np_params, folds, repeats, args.seed, max_rows)
        rows.extend(found)
        seconds = sum(r["fit_seconds"] for r in found)
        print(f"{name:>16}: {len(found)} fits, {seconds:.0f} s of fitting", flush=True)
        if args.out:  # after every dataset, so that a stopped run keeps what it did
            summary = summary_text(summarize(rows))
            _write_rows(args.out, rows, heading, f"{table(rows, args.learners)}\n\n{summary}")
    print(table(rows, args.learners))
    print(summary_text(summarize(rows)))
    print(f"{time.perf_counter() - started:.0f} s in all; {len(DATASETS)} datasets known")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,  # one command a line
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="fit tasks x methods x sizes x seeds")
    run.add_argument("--task", action="append", choices=list(TASKS), default=[])
    run.add_argument("--all", action="store_true", help="every task of docs/benchmarks.md")
    run.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(DEFAULT_METHODS),
        help="default: %(default)s (np-gd: NP with solver=gd; np-momentum: NP with "
        "gd_momentum=0.9; np-paper: NP with the paper's schedule, App. C; np-lm, np-lm10: "
        "NP with solver=lm and 100 or 10 steps per neuron; np-ncf8, np-ncf4: NP with a "
        "shorter, steeper NCF ascent)",
    )
    run.add_argument("--seeds", type=int, default=None, help="default: 2 quick, 5 full")
    run.add_argument("--quick", action="store_true", help="one small size, few steps")
    add_threads_option(run)
    run.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="only these n (default: all)"
    )
    run.add_argument(
        "--paper-max-iter",
        type=_positive,
        default=None,
        help="cap np-paper's iterations (docs/paper.md's pvr rows: 10); default: the preset's",
    )
    run.add_argument("--results", type=Path, default=RESULTS)
    run.set_defaults(handler=_run)

    omp = commands.add_parser("omp", help="NP vs OrthogonalMatchingPursuit (App. D.5)")
    omp.add_argument("--problems", type=int, default=10)
    omp.add_argument("--out", type=Path, default=None, help="CSV of the selections")
    omp.set_defaults(handler=_omp)

    report = commands.add_parser("report", help="figures and the README table")
    report.add_argument("--mode", choices=["full", "quick"], default="full")
    report.add_argument("--results", type=Path, default=RESULTS)
    report.add_argument("--figures", type=Path, default=HERE / "figures")
    report.add_argument("--readme", type=Path, default=None)
    report.add_argument(
        "--paper",
        action="store_true",
        help="the np-paper table (means ± standard deviations) of the CSVs in --results",
    )
    report.set_defaults(handler=_report)

    compare = commands.add_parser("compare", help="the same fits in two result folders")
    compare.add_argument(
        "before", type=Path, help="folder of the runner's CSVs, e.g. benchmarks/results/X/full"
    )
    compare.add_argument("after", type=Path)
    compare.add_argument(
        "--methods",
        nargs=2,
        choices=list(METHODS),
        default=None,
        metavar=("BEFORE", "AFTER"),
        help="pair BEFORE's fits in the first folder with AFTER's in the second "
        "(same task, n and seed); default: each method with itself",
    )
    compare.set_defaults(handler=_compare)

    from .realdata import DATASETS as REAL_DATASETS
    from .realdata import METHODS as REAL_METHODS

    realdata = commands.add_parser("realdata", help="NP's defaults on real tabular data")
    realdata.add_argument(
        "--datasets", nargs="+", choices=list(REAL_DATASETS), default=list(REAL_DATASETS)
    )
    realdata.add_argument(
        "--methods", nargs="+", choices=list(REAL_METHODS), default=list(REAL_METHODS)
    )
    realdata.add_argument(
        "--np", nargs="*", default=[], metavar="NAME=VALUE", help="NP settings to change"
    )
    realdata.add_argument("--out", type=Path, default=None, help="CSV of the folds (+ .md)")
    realdata.add_argument("--readme", type=Path, default=None, help="write the table there")
    realdata.add_argument(
        "--seed",
        type=int,
        nargs="+",
        default=[0],
        help="shuffles the folds and is every estimator's random_state; several: their mean",
    )
    add_threads_option(realdata, default=1)
    realdata.set_defaults(handler=_realdata)

    converge = commands.add_parser(
        "converge", help="NP's fitted network against L-BFGS run to convergence from it"
    )
    converge.add_argument("--datasets", nargs="+", choices=list(REAL_DATASETS), default=["digits"])
    converge.add_argument(
        "--np", nargs="*", default=[], metavar="NAME=VALUE", help="NP settings to change"
    )
    converge.add_argument("--seed", type=int, nargs="+", default=[0], help="as realdata's")
    converge.add_argument("--max-iter", type=int, default=5000, help="L-BFGS iterations")
    converge.add_argument("--out", type=Path, default=None, help="CSV of the folds (+ .md)")
    add_threads_option(converge, default=1)
    converge.set_defaults(handler=_converge)

    from .corpus import LEARNERS as CORPUS_LEARNERS
    from .corpus import SMALL as CORPUS_SMALL
    from .corpus import known as corpus_datasets

    corpus = commands.add_parser("corpus", help="NP's defaults on 22 packaged public datasets")
    corpus.add_argument(
        "--datasets",
        nargs="+",
        choices=list(corpus_datasets()),
        default=None,
        help="default: the corpus's 22 (with --small: the 24 small regressions; with "
        "--outside: the 25 outside regressions)",
    )
    which = corpus.add_mutually_exclusive_group()
    which.add_argument(
        "--small",
        action="store_true",
        help="the regressions of 21-120 rows instead of the corpus",
    )
    which.add_argument(
        "--outside",
        action="store_true",
        help="25 public regressions of 111-4,855 rows outside the corpus and --small",
    )
    corpus.add_argument(
        "--learners", nargs="+", choices=list(CORPUS_LEARNERS), default=list(CORPUS_LEARNERS)
    )
    corpus.add_argument(
        "--np", nargs="*", default=[], metavar="NAME=VALUE", help="NP settings to change"
    )
    corpus.add_argument("--folds", type=_at_least_two, default=None, help="default: 5 (quick: 2)")
    corpus.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"cross-validations under {CORPUS_SMALL} rows; default: 3 (quick: 1)",
    )
    corpus.add_argument("--seed", type=int, default=0, help="first shuffle and random_state")
    corpus.add_argument(
        "--max-rows", type=int, default=None, help="subsample larger datasets (quick: 200)"
    )
    corpus.add_argument(
        "--quick", action="store_true", help="200 rows, 2 folds, no repeats: a smoke test"
    )
    corpus.add_argument("--out", type=Path, default=None, help="CSV of the folds (+ .md)")
    add_threads_option(corpus, default=1)
    corpus.set_defaults(handler=_corpus)

    scale = commands.add_parser("scale", help="one process against a Dask cluster, by rows")
    scale.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    scale.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    scale.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    scale.add_argument(
        "--ncf-samples", type=int, default=4096, help="the searches' subset; 0: all rows"
    )
    scale.add_argument(
        "--out", type=Path, default=RESULTS / "scale" / "scale.csv", help="CSV (+ .md)"
    )
    add_threads_option(scale, default=1)
    scale.set_defaults(handler=_scale)

    by_rows = commands.add_parser(
        "rows", help="default fits by rows against the MLP and HGB: time, R^2, memory"
    )
    by_rows.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    by_rows.add_argument("--methods", nargs="+", choices=["np", "mlp", "hgb"], default=None)
    by_rows.add_argument("--seeds", type=int, nargs="+", default=[0])
    by_rows.add_argument(
        "--out", type=Path, default=RESULTS / "rows" / "rows.csv", help="CSV (+ .md)"
    )
    add_threads_option(by_rows, default=1)
    by_rows.set_defaults(handler=_rows)

    # No prefixes of options: "run --paper X" (an option of report) read as
    # --paper-max-iter X and capped the iterations silently.
    for command in (parser, *commands.choices.values()):
        command.allow_abbrev = False
    args = parser.parse_args(argv)
    if getattr(args, "seeds", 0) is None:
        args.seeds = 2 if args.quick else 5
    return args.handler(args) or 0


if __name__ == "__main__":
    sys.exit(main())
