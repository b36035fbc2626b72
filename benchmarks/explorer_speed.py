"""Size and speed of the explorer page for a CIFAR-10-sized path (3,072 features, 300 points).

    python benchmarks/explorer_speed.py                 # CIFAR-10 size, prints one JSON line
    python benchmarks/explorer_speed.py --points 100 --shape 1,28,28 --keep out.html

Builds a synthetic path (features leave in an image-shaped order, some leave and come
back, norms spanning several decades like a real one), writes its page with test
scores, retrained top-k / random-k rows and a CV curve, and opens it in the system's
headless Chromium (``apt-get install chromium chromium-driver``, ``pip install
selenium``). Measures:

- ``file_bytes``: the page's size;
- ``load_ms``: navigation start to the page's ``ready`` flag (the data inflated, every
  canvas drawn), median of ``--loads`` fresh loads;
- ``redraw_ms``: one ``explorer.setPoint(i)`` (readouts, masks and every plot's
  overlay) including the canvas flush (a pixel read back from every canvas), mean and
  max over 50 points spread over the path;
- ``key_ms``: 50 right-arrow key presses sent to the slider element, per press,
  through WebDriver (its round trip included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import numpy as np

from deeplasso import Path
from deeplasso.engine.results import PathPoint
from deeplasso.explorer import write_explorer
from deeplasso.explorer.browser import headless_chromium, wait_ready, why_no_browser


def synthetic_path(shape=(3, 32, 32), n_points=300, seed=0) -> tuple[Path, dict]:
    """A path over ``C*H*W`` features whose pixels leave from the border inwards (with
    noise; the norms jitter from point to point like a real mini-batch path's, so that
    the page compresses no better than a real one), with plausible scores; returns ``(path, extras)`` (test scores, selection
    rows, a CV dict) for :func:`deeplasso.explorer.write_explorer`."""
    rng = np.random.default_rng(seed)
    C, H, W = shape
    d, T = C * H * W, n_points
    yy, xx = np.mgrid[0:H, 0:W]
    centre = np.exp(-(((yy - H / 2) / (H / 3)) ** 2 + ((xx - W / 2) / (W / 3)) ** 2))
    keep = (np.tile(centre.ravel(), C) + 0.35 * rng.random(d)) * (1 + 0.1 * np.repeat(np.arange(C), H * W))
    exit_step = 1 + (np.argsort(np.argsort(keep)) * (T - 1) // d)  # point at which each feature leaves
    lambdas = np.concatenate([[0.0], 30.0 * 1.02 ** np.arange(T - 1)])
    a = 0.5 + rng.random(d)
    points = []
    for t in range(T):
        frac = np.clip(1 - t / exit_step, 0, None)
        norm = a * (0.4 if t == 0 else 0.02 * frac ** 1.5 * np.exp(-t / 80))
        norm = norm * np.exp(rng.normal(0, 0.15, d))  # mini-batch noise: real norms compress as poorly
        norm[(t >= exit_step)] = 0.0
        flicker = (np.abs(t - exit_step) <= 3) & (rng.random(d) < 0.08)  # leave and come back near the exit
        norm = np.where(flicker & (norm > 0), 0.0, np.where(flicker, 1e-7, norm))
        n = int(np.count_nonzero(norm))
        score = 0.1 + 0.45 * (1 - np.exp(-n / 150))
        points.append(PathPoint(lambda_=float(lambdas[t]), theta_norm=norm, train_loss=1.0, train_score=score + 0.1,
                                val_loss=1.0, val_score=score + rng.normal(0, 0.01), val_objective=1.0,
                                epochs=int(rng.integers(1, 20)), seconds=0.1))
    path = Path(points=points, n_features=d, meta={"task": "classification", "path_multiplier": 1.02})
    n_sel = path.n_selected
    test = [0.1 + 0.45 * (1 - np.exp(-n / 150)) + rng.normal(0, 0.01) for n in n_sel]
    ks = [max(1, round(f * d)) for f in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0)]
    selection = [{"k": k, "top": 0.2 + 0.4 * (1 - np.exp(-k / 100)), "random": 0.15 + 0.4 * (1 - np.exp(-k / 300))}
                 for k in ks]
    grid = lambdas[1::10]
    mean = 0.5 - 0.3 * (grid / grid.max()) ** 2 + rng.normal(0, 0.005, grid.size)
    i_min = int(np.argmax(mean))
    cv = {"lambdas": grid, "mean": mean, "se": np.full(grid.size, 0.01), "lambda_min": grid[i_min],
          "lambda_1se": grid[max(i for i in range(grid.size) if mean[i] >= mean[i_min] - 0.01)],
          "label": "CV accuracy", "n_folds": 5}
    return path, {"test_scores": test, "selection": selection, "cv": cv, "image_shape": shape}


def measure(file: str, loads: int = 3) -> dict:
    url = "file://" + os.path.abspath(file)
    out = {"file_bytes": os.path.getsize(file)}
    with headless_chromium() as driver:
        times = []
        for _ in range(loads):
            driver.get("about:blank")
            driver.get(url)
            if not wait_ready(driver, 60):
                raise RuntimeError("the page did not get ready")
            times.append(driver.execute_script("return window.explorer.loadMs"))
        out["load_ms"] = statistics.median(times)
        out["load_ms_all"] = times
        per = driver.execute_script("""
            var T = explorer.nPoints, out = [], cs = document.querySelectorAll('canvas');
            for (var n = 0; n < 50; n++) {
              var t0 = performance.now();
              explorer.setPoint(Math.round(n * (T - 1) / 49));
              cs.forEach(function (c) { if (c.width) c.getContext('2d').getImageData(0, 0, 1, 1); });
              out.push(performance.now() - t0);
            }
            return out;""")
        out["redraw_ms_mean"] = statistics.mean(per)
        out["redraw_ms_max"] = max(per)
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys

        driver.execute_script("explorer.setPoint(0)")
        slider = driver.find_element(By.ID, "slider")
        t0 = time.perf_counter()
        for _ in range(50):
            slider.send_keys(Keys.ARROW_RIGHT)
        out["key_ms"] = (time.perf_counter() - t0) * 1000 / 50
        out["index_after_keys"] = driver.execute_script("return explorer.state().index")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="3,32,32", help="C,H,W of the synthetic images (default CIFAR-10's)")
    ap.add_argument("--points", type=int, default=300)
    ap.add_argument("--loads", type=int, default=3)
    ap.add_argument("--keep", default=None, help="keep the page there")
    args = ap.parse_args(argv)
    reason = why_no_browser()
    if reason:
        print(f"explorer_speed: {reason}", file=sys.stderr)
        return 2
    shape = tuple(int(s) for s in args.shape.split(","))
    t0 = time.perf_counter()
    path, extras = synthetic_path(shape, args.points)
    t1 = time.perf_counter()
    file = args.keep or os.path.join(tempfile.mkdtemp(), "explorer.html")
    write_explorer(path, file, title=f"synthetic {args.shape} path", **extras)
    t2 = time.perf_counter()
    res = {"features": int(np.prod(shape)), "points": args.points, "write_s": round(t2 - t1, 3),
           "synthesis_s": round(t1 - t0, 3), **measure(file, args.loads)}
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
