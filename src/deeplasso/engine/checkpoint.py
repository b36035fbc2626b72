"""Checkpoints of a path: written after every lambda step, resumed exactly."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import torch

from .callbacks import Callback
from .files import atomic_write, json_default, remove_stale_temps
from .results import Path
from .trainer import Trainer

__all__ = ["CheckpointMismatchError", "Checkpoint", "fingerprint", "save_checkpoint", "load_checkpoint"]


class CheckpointMismatchError(ValueError):
    """A checkpoint was written by a path with other settings, data or model."""


#: The layout of :func:`fingerprint`; checkpoints of another layout are refused with that reason.
FINGERPRINT_FORMAT = 2


def _digest(t: torch.Tensor) -> list:
    """dtype, shape and the SHA-256 of a tensor's bytes: exact, and the same on any
    thread count (a float sum, the digest before format 2, is not)."""
    c = t.detach().cpu().contiguous()
    h = hashlib.sha256(c.reshape(-1).view(torch.uint8).numpy().data) if c.numel() else hashlib.sha256()
    return [str(c.dtype).removeprefix("torch."), list(c.shape), h.hexdigest()]


def fingerprint(model, X, y, X_val, y_val, meta: dict) -> dict:
    """What must agree between a checkpoint and the run resuming from it: the settings,
    the model's layout, the data (bytes) and the CPU thread count the path runs on
    (call it where the path runs: inside :func:`~deeplasso.engine.runtime.torch_threads`).

    The thread count is part of it because float sums are reduced in another order on
    another count: a path resumed on other threads would not end bit for bit as the
    uninterrupted one. On a GPU it is None (the CPU threads do not compute there)."""
    keep = {k: v for k, v in meta.items() if k not in ("verbose", "num_threads", "store_weights")}
    return {"format": FINGERPRINT_FORMAT,
            "settings": json.loads(json.dumps(keep, default=json_default)),
            "model": {k: list(v.shape) for k, v in model.state_dict().items()},
            "data": [_digest(X), _digest(y), _digest(X_val), _digest(y_val)],
            "threads": torch.get_num_threads() if X.device.type == "cpu" else None}


def _where(threads) -> str:
    return "on a GPU" if threads is None else f"on {threads} CPU thread{'s' if threads != 1 else ''}"


def _mismatch(file, theirs: dict, ours: dict) -> str | None:
    """Why a checkpoint's fingerprint refuses this run, with the fix; None if it agrees."""
    if theirs.get("format") != ours["format"]:
        return (f"checkpoint {file} was written by an earlier version of deeplasso (fingerprint format "
                f"{theirs.get('format', 1)}, this version writes {ours['format']}), so this one cannot check "
                "that it belongs to these settings and data. Delete it to start the path afresh, or finish "
                "the run with the version that wrote it.")
    diff = [k for k in ("settings", "model", "data") if theirs.get(k) != ours[k]]
    if diff:
        detail = ""
        if "settings" in diff:
            a, b = theirs["settings"], ours["settings"]
            detail = ": " + ", ".join(f"{k}={a.get(k)!r} there, {b.get(k)!r} now"
                                      for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        return (f"checkpoint {file} was written with other {', '.join(diff)}{detail}. Resume with the same "
                "settings and data, or delete the checkpoint to start afresh.")
    a, b = theirs.get("threads"), ours["threads"]
    if a != b:
        fix = (f"Resume with the same thread count: `deeplasso --threads {a} fit ... --resume`, or in Python "
               f"torch.set_num_threads({a}) (or PathConfig(num_threads={a})) before the fit"
               if a is not None else "Resume on the GPU")
        return (f"checkpoint {file} was written by a path running {_where(a)}, {_where(b).removeprefix('on ')} "
                "now. A path is reproducible bit for bit only on the same thread count (float sums are "
                f"reduced in another order on another one), so it would not end as the uninterrupted run. {fix}; "
                "or delete the checkpoint to start afresh.")
    return None


def save_checkpoint(file, fingerprint: dict, path: Path, trainer: Trainer, step: int, lam: float) -> None:
    """Write the path so far and everything needed to go on from step ``step`` at ``lam``,
    atomically."""
    buf = io.BytesIO()
    np.savez(buf, **path.to_arrays())
    header = {"format": 1, "fingerprint": fingerprint, "next_step": step, "next_lambda": lam}
    blob = {
        "header": json.dumps(header, default=json_default),
        "path": torch.frombuffer(bytearray(buf.getvalue()), dtype=torch.uint8),
        "model": {k: v.detach().cpu() for k, v in trainer.model.state_dict().items()},
        "opt": trainer.step.state_dict(),
        "gen": trainer.gen.get_state(),
        # the active set's state, so that a resumed path screens exactly as the
        # uninterrupted one would
        "zero_prev": trainer.screening.zero_prev,
    }
    if trainer.step.supports_active_set:
        blob["active"] = trainer.step.active
        blob["v_frozen"] = trainer.step.v_frozen
    atomic_write(file, lambda f: torch.save(blob, f))


def load_checkpoint(file, fingerprint: dict, trainer: Trainer) -> tuple[Path, int, float]:
    """Put ``trainer`` in the state a checkpoint holds; returns the path so far and the
    next step and lambda. Refuses a checkpoint of other settings, data or model."""
    try:
        blob = torch.load(file, map_location="cpu", weights_only=True)
        header = json.loads(blob["header"])
    except Exception as exc:  # a file that is not one of ours
        raise CheckpointMismatchError(
            f"cannot read checkpoint {file}: {exc}. Delete it to start the path afresh.") from None
    why = _mismatch(file, header.get("fingerprint") or {}, fingerprint)
    if why is not None:
        raise CheckpointMismatchError(why)
    dev = next(trainer.model.parameters()).device
    trainer.model.load_state_dict({k: v.to(dev) for k, v in blob["model"].items()})
    opt = blob["opt"]
    if trainer.step.supports_active_set:
        opt = {k: v.to(dev) if torch.is_tensor(v) else v for k, v in opt.items()}
    trainer.step.load_state_dict(opt)
    trainer.gen.set_state(blob["gen"])
    zp = blob.get("zero_prev")
    trainer.screening.zero_prev = None if zp is None else zp.to(dev)
    if trainer.step.supports_active_set and blob.get("active") is not None:
        trainer.set_active(blob["active"].to(dev))
        trainer.step.v_frozen.copy_(blob["v_frozen"])  # set_active saw the decayed moments
    path = Path.load(io.BytesIO(blob["path"].numpy().tobytes()))
    return path, int(header["next_step"]), float(header["next_lambda"])


class Checkpoint(Callback):
    """Writes :func:`save_checkpoint` to ``file`` whenever the path is between two
    lambda steps. The temp files of a write that a kill interrupted (``.FILE.*.tmp``)
    are removed when the path begins (a resume) and when it ends."""

    def __init__(self, file, fingerprint: dict):
        self.file = file
        self.fingerprint = fingerprint

    def on_path_begin(self, trainer, path):
        remove_stale_temps(self.file)

    def on_path_end(self, trainer, path):
        remove_stale_temps(self.file)

    def on_next_lambda(self, trainer, path, step, lam):
        save_checkpoint(self.file, self.fingerprint, path, trainer, step, lam)
