"""The ``deeplasso`` command. Parses arguments and calls the layers below; no logic."""

from __future__ import annotations

import argparse
import sys


def _dims(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(t) for t in text.split(",") if t.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated ints such as 80,100, got {text!r}") from None
    if any(h <= 0 for h in dims):
        raise argparse.ArgumentTypeError(f"hidden widths must be positive, got {text!r}")
    return dims


def _lambda(text: str):
    return text if text == "auto" else float(text)


def _batch(text: str):
    return None if text.lower() in ("none", "full") else int(text)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="deeplasso", description="LassoNet feature selection for deep networks.")
    p.add_argument("--threads", type=int, default=None,
                   help="CPU threads for torch (default: torch's choice; 1 is faster on a busy machine)")
    sub = p.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="train a LassoNet path on a data set and evaluate the selected features")
    f.add_argument("--dataset", default="digits", help="digits (embedded, default), mnist, fashion-mnist, cifar10")
    f.add_argument("--data-dir", default=None, help="folder holding one folder per data set (e.g. ../shared/data)")
    f.add_argument("--out", default="runs/digits", help="run directory for results (default runs/digits)")
    f.add_argument("--overwrite", action="store_true", help="replace the results of an earlier run in --out")
    f.add_argument("--resume", action="store_true",
                   help="continue an interrupted run in --out from its last finished lambda step")
    f.add_argument("--hidden-dims", type=_dims, default=(32,), help="hidden widths, e.g. 80,100 (default 32)")
    f.add_argument("--batch-size", type=_batch, default=64, help="mini-batch size or 'full' (default 64)")
    f.add_argument("--M", type=float, default=10.0, help="hierarchy coefficient M (default 10)")
    f.add_argument("--lambda-start", type=_lambda, default="auto", help="'auto' (default) or a number")
    f.add_argument("--path-multiplier", type=float, default=1.1, help="lambda ratio per step (default 1.1)")
    f.add_argument("--max-epochs", type=int, default=100)
    f.add_argument("--patience", type=int, default=5)
    f.add_argument("--lr", type=float, default=1e-3)
    f.add_argument("--normalize", default="train", choices=["train", "imagenet", "none"],
                   help="per-channel standardisation statistics (default: the training split's)")
    f.add_argument("--max-train", type=int, default=None, help="subsample the training split (quick runs)")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--quiet", action="store_true", help="no progress bar")

    rp = sub.add_parser("reproduce", help="run the paper's studies (every table and figure) and write a report")
    rp.add_argument("--budget", default="smoke", choices=["smoke", "paper"],
                    help="smoke: subsets and few epochs, a few minutes on 2 cores (default); paper: the paper's protocol")
    rp.add_argument("--data-dir", default=None, help="folder holding one folder per data set (e.g. ../shared/data)")
    rp.add_argument("--out", default=None, help="run directory (default runs/reproduce-BUDGET)")
    rp.add_argument("--resume", action="store_true", help="continue an interrupted reproduction in --out")
    rp.add_argument("--only", default=None,
                    help="comma-separated studies to run: baselines, lambda_start, selection (default all)")
    rp.add_argument("--quiet", action="store_true", help="no progress lines")

    r = sub.add_parser("report", help="redraw the figures and report.md of a run directory from its saved results")
    r.add_argument("run_dir", help="a run directory written by 'deeplasso fit' or 'deeplasso reproduce'")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads is not None:
        import torch

        torch.set_num_threads(max(1, args.threads))
    if args.command == "fit":
        from .experiments.fit import FitSettings, RunExistsError, run_fit, summary

        settings = FitSettings(
            dataset=args.dataset, data_dir=args.data_dir,
            normalize=None if args.normalize == "none" else args.normalize,
            hidden_dims=args.hidden_dims, batch_size=args.batch_size, M=args.M,
            lambda_start=args.lambda_start, path_multiplier=args.path_multiplier, max_epochs=args.max_epochs,
            patience=args.patience, lr=args.lr, seed=args.seed, max_train=args.max_train,
            verbose=0 if args.quiet else 1,
        )
        try:
            results = run_fit(settings, args.out, overwrite=args.overwrite, resume=args.resume)
        except (RunExistsError, ValueError, FileNotFoundError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        print(summary(results))
        print(f"\nresults written to {args.out}/ (report.md, config.json, path.npz, results.json, importance.png, "
              "accuracy.png)")
        return 0
    if args.command == "reproduce":
        from .experiments.fit import RunExistsError
        from .experiments.reproduce import STUDIES, reproduce

        studies = STUDIES if args.only is None else tuple(t.strip() for t in args.only.split(",") if t.strip())
        out = args.out or f"runs/reproduce-{args.budget}"
        try:
            reproduce(args.budget, out, data_dir=args.data_dir, resume=args.resume, studies=studies,
                      verbose=0 if args.quiet else 1)
        except (RunExistsError, ValueError, FileNotFoundError) as exc:
            print(f"deeplasso: error: {exc}", file=sys.stderr)
            return 2
        print(f"report written to {out}/report.md")
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
    return 1  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
