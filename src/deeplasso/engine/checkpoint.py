"""Checkpoints of a path: written after every lambda step, resumed exactly."""

from __future__ import annotations

import io
import json

import numpy as np
import torch

from .callbacks import Callback
from .files import atomic_write, json_default
from .results import Path
from .trainer import Trainer

__all__ = ["CheckpointMismatchError", "Checkpoint", "fingerprint", "save_checkpoint", "load_checkpoint"]


class CheckpointMismatchError(ValueError):
    """A checkpoint was written by a path with other settings, data or model."""


def fingerprint(model, X, y, X_val, y_val, meta: dict) -> dict:
    """What must agree between a checkpoint and the run resuming from it."""
    keep = {k: v for k, v in meta.items() if k not in ("verbose", "num_threads", "store_weights")}

    def digest(t: torch.Tensor) -> list:
        t = t.detach().double()
        return [list(t.shape), float(t.sum()), float((t * t).sum())]

    return {"settings": json.loads(json.dumps(keep, default=json_default)),
            "model": {k: list(v.shape) for k, v in model.state_dict().items()},
            "data": [digest(X), digest(y), digest(X_val), digest(y_val)]}


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
    theirs = header.get("fingerprint")
    if theirs != fingerprint:
        diff = [k for k in fingerprint if (theirs or {}).get(k) != fingerprint[k]]
        detail = ""
        if "settings" in diff:
            a, b = theirs["settings"], fingerprint["settings"]
            detail = ": " + ", ".join(f"{k}={a.get(k)!r} there, {b.get(k)!r} now"
                                      for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        raise CheckpointMismatchError(
            f"checkpoint {file} was written with other {', '.join(diff)}{detail}. Resume with the same "
            "settings and data, or delete the checkpoint to start afresh.")
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
    lambda steps."""

    def __init__(self, file, fingerprint: dict):
        self.file = file
        self.fingerprint = fingerprint

    def on_next_lambda(self, trainer, path, step, lam):
        save_checkpoint(self.file, self.fingerprint, path, trainer, step, lam)
