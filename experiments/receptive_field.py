"""Receptive fields of PixelCNN (blind spot) and Gated PixelCNN (none), drawn as PNGs.

    python -m experiments.receptive_field --budget=quick

For one output pixel (red) the map shows which input pixels its distribution
depends on, from the gradient |d out / d x| at random parameters: white =
depends (brightness ~ log gradient), black = cannot depend.  Prints, for each
model, how many of the pixels before the target in raster order are seen.
"""
import dataclasses

import jax
import numpy as np

from experiments import at_least, within
from jax_ar import experiment
from jax_ar.models import registry
from jax_ar.models.pixelcnn import receptive_field


@dataclasses.dataclass(frozen=True)
class Config:
    size: int = 28
    row: int = 14
    col: int = 14
    depth: int = 12               # residual blocks / gated layers
    first_kernel: int = 7
    features: int = 8
    scale: int = 12               # PNG pixels per image pixel
    seed: int = 0

    def validate(self):
        at_least(self, 1, "size depth first_kernel features scale")
        within(self, "row col", 0, self.size - 1)


BUDGETS = {"smoke": Config(size=8, row=5, col=4, depth=2, first_kernel=3, features=4, scale=4),
           "quick": Config(), "full": Config()}


def field_rgb(g_HxW: np.ndarray, row: int, col: int) -> np.ndarray:
    seen = g_HxW > 0
    v = np.zeros_like(g_HxW, dtype=np.float32)
    if seen.any():
        lg = np.log(g_HxW[seen])
        v[seen] = 0.35 + 0.65 * (lg - lg.min()) / max(float(lg.max() - lg.min()), 1e-12)
    rgb = np.repeat((v * 255).astype(np.uint8)[..., None], 3, axis=-1)
    rgb[row, col] = (220, 30, 30)
    return rgb


def main(argv=None):
    run = experiment.start("receptive_field", Config, BUDGETS, argv)
    cfg = run.cfg
    from PIL import Image
    t = cfg.row * cfg.size + cfg.col
    summary = {}
    for name, depth_key in (("pixelcnn", "num_blocks"), ("gated_pixelcnn", "num_layers")):
        model = registry.build(name, height=cfg.size, width=cfg.size, features=cfg.features,
                               first_kernel=cfg.first_kernel, head_features=2 * cfg.features,
                               **{depth_key: cfg.depth})
        params = jax.jit(model.init)(jax.random.PRNGKey(cfg.seed))
        g = receptive_field(model, params, cfg.row, cfg.col)
        flat = g.reshape(-1)
        seen_before, after = int((flat[:t] > 0).sum()), int((flat[t:] > 0).sum())
        summary[name] = {"seen_before": seen_before, "pixels_before": t, "seen_at_or_after": after}
        print(f"{name} (depth {cfg.depth}): output ({cfg.row},{cfg.col}) depends on {seen_before} of the {t} "
              f"earlier pixels; on {after} at or after it", flush=True)
        im = Image.fromarray(field_rgb(g, cfg.row, cfg.col)).resize((cfg.size * cfg.scale,) * 2, Image.NEAREST)
        im.save(run.path(f"receptive_field_{name}.png"))
    run.result(model="pixelcnn,gated_pixelcnn", dataset="none", split="none", metric="pixels_seen_before",
               value=summary["gated_pixelcnn"]["seen_before"], unit="pixels", steps=0, params=0, **summary)


if __name__ == "__main__":
    experiment.cli(main)
