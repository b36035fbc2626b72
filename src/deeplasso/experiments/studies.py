"""The paper's studies as tasks: the budgets that size them, and the settings of every task."""

from __future__ import annotations

from dataclasses import dataclass, field

from .settings import FitSettings

__all__ = ["STUDIES", "Budget", "BUDGETS", "tasks", "lambda_name", "budget_from_json"]

STUDIES = ("baselines", "lambda_start", "selection")


@dataclass(frozen=True)
class Budget:
    """Sizes and settings of one reproduction; see :data:`BUDGETS`."""

    name: str
    seeds: tuple[int, ...]
    cifar_per_class: tuple | None  # (train, val, test) images per class of the paper split; None: all
    mnist_per_class: tuple | None  # same, for MNIST's official split (val: 10% of train)
    selection_datasets: tuple[str, ...] = ("cifar10", "mnist")
    bodies: tuple = (("deep", (80, 100)), ("shallow", (100,)))
    lambda_start: float | str = "auto"
    path_multiplier: float = 1.3  # the paper's 1 + eps
    max_epochs: int = 100
    patience: int = 5
    batch_size: int = 64
    M: float = 10.0
    dense_lr: float | str | None = None  # the paper's protocol: the dense model at lr too
    importance: str = "lambda"  # the paper's: a feature's importance is the lambda at which it leaves
    retrain_max_epochs: int = 100
    fractions: tuple[float, ...] = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)
    lambda_grid: tuple = (0.01, 0.1, 1.0, 10.0, 100.0, 500.0, "auto")
    lambda_study_hidden: tuple[int, ...] = (80, 100)
    lambda_study_classes: tuple = (1, 4)
    baseline_options: dict = field(default_factory=dict)


BUDGETS = {
    "smoke": Budget(
        name="smoke", seeds=(0, 1), cifar_per_class=(60, 15, 15), mnist_per_class=(60, 15, 15),
        selection_datasets=("cifar10",), max_epochs=4, patience=2, retrain_max_epochs=8,
        path_multiplier=1.5, lambda_grid=(1.0, 100.0, "auto"),
        baseline_options={"knn": {"grid": [1, 3, 5, 7]}, "svm": {"solver": "sgd", "grid": [1e-3, 1e-2, 1e-1]},
                          "pca_lr": {"grid": [10, 20, 50]}},
    ),
    "paper": Budget(name="paper", seeds=(0, 1, 2), cifar_per_class=None, mnist_per_class=None),
}


def _dataset_settings(budget: Budget, dataset: str) -> dict:
    if dataset == "cifar10":  # the paper's protocol: pooled 80:10:10, ImageNet statistics
        return dict(dataset="cifar10", split="paper", normalize="imagenet", per_class=budget.cifar_per_class)
    return dict(dataset=dataset, split="official", normalize="train", per_class=budget.mnist_per_class)


def _fit_settings(budget: Budget, data_dir, dataset: str, hidden, seed: int, **kw) -> FitSettings:
    base = dict(data_dir=data_dir, hidden_dims=tuple(hidden), batch_size=budget.batch_size, M=budget.M,
                lambda_start=budget.lambda_start, path_multiplier=budget.path_multiplier, dense_lr=budget.dense_lr,
                importance=budget.importance,
                max_epochs=budget.max_epochs, patience=budget.patience, fractions=budget.fractions,
                retrain_max_epochs=budget.retrain_max_epochs, seed=seed, split_seed=0, verbose=0)
    base.update(_dataset_settings(budget, dataset))
    base.update(kw)
    return FitSettings(**base)


def lambda_name(v) -> str:
    """A starting lambda as it names its task's folder: ``"auto"`` or ``"{v:g}"``."""
    return "auto" if v == "auto" else f"{float(v):g}"


def tasks(budget: Budget, data_dir, studies=STUDIES) -> list[tuple[str, str, object]]:
    """The run's tasks in order: ``(study, relative output, settings)``. The deep
    CIFAR-10 path of the first seed comes early (Table 2 and Figure 4 need it) and the
    short lambda_start paths last, so that on several workers they fill the gaps the
    long paths leave at the end."""
    out: list[tuple[str, str, object]] = []
    sel = []
    for seed in budget.seeds:  # every data set and body at one seed before the next seed
        for ds in budget.selection_datasets:
            for body, hidden in budget.bodies:
                sel.append(("selection", f"selection/{ds}/{body}/seed{seed}",
                            _fit_settings(budget, data_dir, ds, hidden, seed)))
    if "selection" in studies and sel:
        out.append(sel.pop(0))
    if "baselines" in studies:
        out.append(("baselines", "baselines/cifar10.json",
                    _fit_settings(budget, data_dir, "cifar10", (), 0,
                                  extra={"baseline_options": budget.baseline_options})))
    if "selection" in studies:
        out += sel
    if "lambda_start" in studies:
        for v in budget.lambda_grid:
            s = _fit_settings(budget, data_dir, "mnist", budget.lambda_study_hidden, 0, lambda_start=v,
                              classes=tuple(budget.lambda_study_classes), fractions=())
            out.append(("lambda_start", f"lambda_start/{lambda_name(v)}", s))
    return out


def budget_from_json(b: dict) -> Budget:
    """The :class:`Budget` a ``reproduce.json`` file holds (its lists read back as tuples)."""

    def tup(v):
        return tuple(tup(x) for x in v) if isinstance(v, list) else v

    return Budget(**{k: v if k == "baseline_options" else tup(v) for k, v in b.items()})
