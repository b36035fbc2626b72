"""The ``deeplasso`` command. Parses arguments and calls the layers below; no logic."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .engine.results import IMPORTANCES
from .experiments import config as _config
from .scoring import CLASSIFIER_SCORING, REGRESSOR_SCORING, SCORING


def _checked(parse):
    """An argparse type that checks a flag with a :mod:`deeplasso.experiments.config`
    parser (one truth for flags and config files) and keeps the text, which
    ``resolve_fit`` parses; a parsed ``None`` ('full') would read as 'not given'."""
    def check(text):
        try:
            parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc).split(": ", 1)[-1]) from None
        return text
    check.__name__ = parse.__name__.removeprefix("parse_")
    return check


def _add_cluster_flags(parser, what: str) -> None:
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help=f"run {what} on a local Dask cluster of N worker processes (without it: one after "
                             "another in this process; needs pip install deeplasso[distributed])")
    parser.add_argument("--address", default=None, metavar="ADDR",
                        help=f"run {what} on the running Dask cluster at ADDR (tcp://host:8786); --workers is then "
                             "ignored")


def _cluster(args) -> tuple[int | None, str | None]:
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers {args.workers}: expected a positive number of worker processes")
    return args.workers, args.address


def build_parser() -> argparse.ArgumentParser:
    from .versions import __version__

    p = argparse.ArgumentParser(prog="deeplasso", description="LassoNet feature selection for deep networks.")
    p.add_argument("--version", action="version", version=f"deeplasso {__version__}")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: torch's choice; 1 is faster on a busy machine)")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser(
        "fit", help="train a LassoNet path on a data set and evaluate the selected features",
        description="Train a LassoNet path and evaluate the selected features. Settings come from the defaults, "
                    "then --config FILE (TOML, keys named like the flags), then the flags given here.")
    # every setting defaults to None (= not given), so that a config file's value is not clobbered;
    # the defaults live in FitSettings and are named in the help texts
    f.add_argument("--config", default=None, metavar="FILE", help="TOML file of settings (see docs/cli.md)")
    f.add_argument("--print-config", action="store_true",
                   help="print the effective settings as TOML and exit (a start for a config file)")
    src = f.add_mutually_exclusive_group()
    src.add_argument("--dataset", default=None,
                     help="digits (embedded, default), mnist, fashion-mnist, cifar10")
    src.add_argument("--data", default=None, metavar="FILE",
                     help="your own data: .npz (X, y[, X_val, y_val, X_test, y_test]), .npy (with --labels, or the "
                          "label as a column), .csv (label column: --target)")
    f.add_argument("--labels", default=None, metavar="FILE", help="labels .npy for a .npy --data file")
    f.add_argument("--target", default=None, metavar="COLUMN",
                   help="label column of a .csv (name or index) or .npy (index) file (default: the last column)")
    f.add_argument("--task", default=None, choices=["classification", "regression", "auto", "reconstruct"],
                   help="default auto: classification for strings or few distinct integers, else regression; "
                        "reconstruct: unsupervised, keep the features that rebuild all of them (labels ignored; "
                        "docs/unsupervised.md)")
    f.add_argument("--image-shape", type=_checked(_config.parse_image_shape), default=None, metavar="C,H,W",
                   help="pixel layout of --data features, e.g. 1,28,28, for an importance map (default: bars)")
    f.add_argument("--data-dir", default=None, help="folder holding one folder per data set (e.g. ../shared/data)")
    f.add_argument("--out", default=None, help="run directory for results (default runs/<data set or file name>)")
    f.add_argument("--overwrite", action="store_true", default=None,
                   help="replace the results of an earlier run in --out")
    f.add_argument("--resume", action="store_true", default=None,
                   help="continue an interrupted run in --out from its last finished lambda step")
    f.add_argument("--hidden-dims", type=_checked(_config.parse_dims), default=None,
                   help="hidden widths, e.g. 80,100 (default 32)")
    f.add_argument("--body", default=None, choices=["mlp", "cnn"],
                   help="mlp (default; --hidden-dims) or cnn (a per-pixel input layer and a conv stack; image data)")
    f.add_argument("--conv-channels", type=_checked(lambda v: _config.parse_dims(v, "conv_channels")), default=None,
                   help="widths of the CNN's 3x3 conv layers, e.g. 16,32 (default)")
    f.add_argument("--batch-size", type=_checked(_config.parse_batch), default=None,
                   help="mini-batch size or 'full' (default 64)")
    f.add_argument("--M", type=float, default=None, help="hierarchy coefficient M (default 10)")
    f.add_argument("--lambda-start", type=_checked(_config.parse_lambda), default=None,
                   help="'auto' (default) or a number")
    f.add_argument("--path-multiplier", type=float, default=None, help="lambda ratio per step (default 1.1)")
    f.add_argument("--max-epochs", type=int, default=None, help="per lambda (default 100)")
    f.add_argument("--retrain-max-epochs", type=int, default=None,
                   help="epochs of the plain networks retrained on k features (default 100)")
    f.add_argument("--patience", type=int, default=None, help="early-stopping patience (default 5)")
    f.add_argument("--lr", type=float, default=None, help="learning rate (default 1e-3)")
    f.add_argument("--dense-lr", type=_checked(_config.parse_dense_lr), default=None,
                   help="learning rate of the dense model: 'auto' (lr or lr/10, whichever validates better), "
                        "'none' (lr) or a number (default auto)")
    f.add_argument("--importance", default=None, choices=["auto", *IMPORTANCES],
                   help="how features are ranked: norm (the sum of ||theta_j|| over the path's lambda steps) or "
                        "lambda (the lambda at which a feature left, the paper's) (default: the estimator's, auto: "
                        "with no k to select, lambda)")
    f.add_argument("--normalize", default=None, choices=["train", "imagenet", "none"],
                   help="standardisation statistics (default train: the training split's; per channel for the "
                        "built-in images, per feature for --data)")
    f.add_argument("--max-train", type=int, default=None, help="subsample the training split (quick runs)")
    f.add_argument("--seed", type=int, default=None, help="one seed for splits, shuffling, initialisation (default 0)")
    f.add_argument("--quiet", action="store_true", default=None,
                   help="no progress lines (data loading, the lambda steps, the retrained networks)")
    f.add_argument("--cv", type=int, default=None, metavar="K",
                   help="also cross-validate lambda over K folds of the training split: cv.json and the CV curve "
                        "(cv.png) in the report")
    f.add_argument("--choose", default=None, choices=["1se", "min"],
                   help="the CV model's lambda: 1se (default; lambda_1se, the sparsest within one standard error of "
                        "the best) or min (lambda_min)")
    f.add_argument("--cv-scoring", default=None, metavar="NAME",
                   choices=SCORING,
                   help="the held-out metric --cv chooses lambda by (default: accuracy, or R^2 for a regression): "
                        + ", ".join(CLASSIFIER_SCORING) + " (classification); " + ", ".join(REGRESSOR_SCORING)
                        + " (regression)")
    f.add_argument("--stability", type=int, default=None, metavar="N",
                   help="also run stability selection over N half-sample paths: stability.json and the stability "
                        "paths (stability.png) in the report")
    f.add_argument("--threshold", type=float, default=None,
                   help="stability selection's probability threshold (default 0.6)")
    _add_cluster_flags(f, "the --cv fold paths and --stability paths")

    rp = sub.add_parser("reproduce", help="run the paper's studies (every table and figure) and write a report")
    rp.add_argument("--budget", default="smoke", choices=["smoke", "paper"],
                    help="smoke: subsets and few epochs, a few minutes on 2 cores (default); paper: the paper's protocol")
    rp.add_argument("--data-dir", default=None, help="folder holding one folder per data set (e.g. ../shared/data)")
    rp.add_argument("--out", default=None, help="run directory (default runs/reproduce-BUDGET)")
    rp.add_argument("--resume", action="store_true", help="continue an interrupted reproduction in --out")
    rp.add_argument("--only", default=None,
                    help="comma-separated studies to run: baselines, lambda_start, selection (default all)")
    rp.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_cluster_flags(rp, "the independent tasks")

    sw = sub.add_parser(
        "sweep", help="run a grid of 'deeplasso fit' runs from a TOML file and write a summary table",
        description="Run every combination of the settings listed in the [sweep] table of SWEEP_TOML as one "
                    "'deeplasso fit' run directory OUT/<varying settings>, then summary.md and summary.csv in OUT "
                    "(docs/cli.md).")
    sw.add_argument("sweep_file", metavar="SWEEP_TOML", help="TOML file with a [sweep] table (see docs/cli.md)")
    sw.add_argument("--out", default=None, help="the sweep's folder (default: the file's out, else runs/<file stem>)")
    sw.add_argument("--resume", action="store_true",
                    help="continue a sweep in --out: finished runs are kept, interrupted ones continue, the rest run")
    sw.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_cluster_flags(sw, "the runs")

    r = sub.add_parser("report", help="redraw the figures and report.md of a run directory from its saved results")
    r.add_argument("run_dir", help="a run directory written by 'deeplasso fit' or 'deeplasso reproduce'")

    e = sub.add_parser("explore", help="write explorer.html: an interactive page over a run's lambda path",
                       description="Write explorer.html, one offline HTML file: a slider over the path's points "
                                   "with the features kept (the pixel mask for images), the scores and the linked "
                                   "plots (docs/explorer.md). For a reproduce directory, one page per path.")
    e.add_argument("run_dir", help="a run directory written by 'deeplasso fit' (or 'deeplasso reproduce')")
    e.add_argument("--out", default=None, metavar="FILE", help="the HTML file (default RUN_DIR/explorer.html)")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(max(1, args.threads))
    if args.command == "fit":
        from .experiments.fit import RunExistsError, output_files, run_fit, summary

        try:
            run = _config.resolve_fit(args.config, vars(args))
            if args.print_config:
                print(_config.to_toml(run), end="")
                return 0
            workers, address = _cluster(args)
            results = run_fit(run.settings, run.out, overwrite=run.overwrite, resume=run.resume,
                              workers=workers, address=address)
        except (RunExistsError, ValueError, FileNotFoundError, ImportError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        except FloatingPointError as exc:  # NonFiniteLossError: the training diverged
            kept = (Path(run.out) / "checkpoint.pt").exists()
            print(f"deeplasso: error: {exc}\n  On the command line: a smaller --lr (the default is 1e-3)"
                  + (f"; {run.out} keeps the interrupted run: start afresh there with --overwrite." if kept else "."),
                  file=sys.stderr)
            return 2
        print(summary(results))
        print(f"\nresults written to {run.out}/ ({', '.join(output_files(results, run.out))})")
        if results.get("warnings"):
            # the run finished but its ranking means little: say so, with the fix, and exit with 3
            for w in results["warnings"]:
                print(f"deeplasso: warning: {w}", file=sys.stderr)
            print("deeplasso: warning: the path above is degenerate (exit status 3). On the command line: a smaller "
                  "--lr, or --lambda-start auto or a smaller one; rerun with --overwrite (or another --out).",
                  file=sys.stderr)
            return 3
        return 0
    if args.command == "reproduce":
        from .experiments.fit import RunExistsError
        from .experiments.reproduce import STUDIES, reproduce

        studies = STUDIES if args.only is None else tuple(t.strip() for t in args.only.split(",") if t.strip())
        out = args.out or f"runs/reproduce-{args.budget}"
        try:
            workers, address = _cluster(args)
            reproduce(args.budget, out, data_dir=args.data_dir, resume=args.resume, studies=studies,
                      verbose=0 if args.quiet else 1, workers=workers, address=address, threads=args.threads)
        except (RunExistsError, ValueError, FileNotFoundError, ImportError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        except RuntimeError as exc:  # tasks that failed on the cluster, reported by name; the others are kept
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 1
        print(f"report written to {out}/report.md")
        return 0
    if args.command == "sweep":
        from .experiments.fit import RunExistsError
        from .experiments.sweep import read_sweep, run_sweep

        try:
            workers, address = _cluster(args)
            plan = read_sweep(args.sweep_file, out=args.out, quiet=args.quiet)
            log = None if args.quiet else (lambda key, status: print(f"[sweep] {key}: {status}", file=sys.stderr,
                                                                     flush=True))
            outcome = run_sweep(plan, workers=workers, address=address, resume=args.resume, threads=args.threads,
                                progress=log)
        except (RunExistsError, ValueError, FileNotFoundError, ImportError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        print((Path(plan.out) / "summary.md").read_text(), end="")
        print(f"\n{len(outcome['done'])} runs done, {len(outcome['skipped'])} already finished, "
              f"{len(outcome['failed'])} failed; summary written to {plan.out}/summary.md and summary.csv")
        if outcome["failed"]:
            print("deeplasso: error: these runs failed (the others' results are kept; rerun with --resume):\n"
                  + "\n".join(f"  {k}: {v}" for k, v in outcome["failed"].items()), file=sys.stderr)
            return 1
        return 0
    if args.command == "report":
        from .experiments.report import write_report

        try:
            out = write_report(args.run_dir)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        print(f"report written to {out}")
        return 0
    if args.command == "explore":
        from .explorer import explore_run_dir

        try:
            files = explore_run_dir(args.run_dir, args.out)
        except (FileNotFoundError, ValueError, KeyError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        print("\n".join(f"explorer written to {f}" for f in files))
        return 0
    return 1  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
