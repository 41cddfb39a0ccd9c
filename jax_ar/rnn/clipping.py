"""Gradient clipping and training stability of a vanilla RNN char LM.

The same model (recurrent matrix initialised with singular values
``recurrent_scale`` > 1, i.e. in the exploding regime), the same data and the
same plain-SGD learning rate are trained with truncated BPTT twice: without
clipping and with ``clip_by_global_norm`` (Pascanu et al. 2013).  Stability is
summarised by the training-loss curve, the largest gradient norm seen, the
number of loss spikes and whether the loss became non-finite.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from jax_ar import errors
from jax_ar.config import at_least
from jax_ar.models import rnn as rnn_models
from jax_ar.rnn.cells import check_cell_type
from jax_ar.rnn import tbptt


@dataclasses.dataclass(frozen=True)
class ClipStudyConfig:
    cell: str = "rnn"
    hidden: int = 128
    embed: int = 32
    recurrent_scale: float = 2.0
    optimizer: str = "sgd"
    lr: float = 1.0
    clip_norms: str = "0,1.0"       # 0 = no clipping
    steps: int = 600
    batch_size: int = 16
    window: int = 100
    log_every: int = 10
    spike_nats: float = 0.5         # a rise of the (10-step mean) loss by more than this is a spike
    seed: int = 0

    def validate(self):
        check_cell_type(self.cell)
        at_least(self, 1, "hidden embed steps batch_size window log_every")
        try:
            clips = [float(c) for c in self.clip_norms.split(",") if c.strip()]
        except ValueError:
            clips = []
        if not clips or any(not c >= 0 for c in clips):
            raise errors.ConfigError(f"clip_norms must be a comma-separated list of values >= 0, got {self.clip_norms!r}")


def count_spikes(losses, threshold: float) -> int:
    d = np.diff(np.asarray(losses, np.float64))
    return int(np.sum(d > threshold))


def clipping_study(train_stream, vocab_size: int, cfg: ClipStudyConfig = ClipStudyConfig()) -> dict:
    """Train once per clip norm; returns ``{clip_norm: summary with the loss curve}``."""
    clips = [float(c) for c in cfg.clip_norms.split(",") if c.strip()]
    if not clips or any(c < 0 for c in clips):
        raise errors.ConfigError(f"clip_norms must be a comma-separated list of values >= 0, "
                                 f"got {cfg.clip_norms!r}")
    model = rnn_models.BUILDERS[cfg.cell](vocab_size=vocab_size, seq_len=cfg.window, hidden=cfg.hidden,
                                          embed=cfg.embed, recurrent_scale=cfg.recurrent_scale)
    out = {}
    for clip in clips:
        tc = tbptt.TBPTTConfig(steps=cfg.steps, batch_size=cfg.batch_size, window=cfg.window, lr=cfg.lr,
                               optimizer=cfg.optimizer, schedule="constant", warmup_steps=0, b1=0.0,
                               clip_norm=clip, eval_every=cfg.log_every, seed=cfg.seed)
        _, hist = tbptt.train(model, tc, train_stream, None, log=None)
        tr = hist["train"]
        losses = [r["loss"] for r in tr]
        finite = [x for x in losses if np.isfinite(x)]
        out[clip] = {"clip_norm": clip, "diverged": hist["diverged"], "steps_run": tr[-1]["step"] if tr else 0,
                     "final_loss": losses[-1] if losses else float("nan"),
                     "min_loss": min(finite) if finite else float("nan"),
                     "max_grad_norm": float(np.nanmax([r.get("grad_norm_max", r["grad_norm"]) for r in tr]))
                     if tr else float("nan"),
                     "spikes": count_spikes(finite, cfg.spike_nats),
                     "curve_steps": [r["step"] for r in tr], "curve_loss": losses}
    return out
