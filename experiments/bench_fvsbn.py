"""Likelihood-evaluation benchmark: FVSBN on the 10,000 binarized MNIST test images.

    python -m experiments.bench_fvsbn [--data_dir=DIR] [--chunk=1000]

Prints images/s and achieved GFLOP/s of the library's one-call evaluator
(:func:`jax_ar.evaluate.log_prob_all`: jitted ``log_prob`` under ``lax.map``
over row chunks, checked against the one-pass ``log_prob``) next to a
float32 matmul ceiling measured in the same run.  FLOPs counted: the masked
[N, 784] x [784, 784] matmul (2 N D^2); elementwise work is not counted.
Parameters are random: speed does not depend on training.
"""
import json
import sys

import jax
import jax.numpy as jnp
import numpy as np

from experiments import hand_options, int_option
from jax_ar import bench, evaluate
from jax_ar.data import binarized_mnist, files
from jax_ar.models import registry
from jax_ar.experiment import cli


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    opts = hand_options(argv, ("data_dir", "chunk"), __doc__)
    chunk = int_option(opts, "chunk", 1000)
    try:
        x = binarized_mnist.load("test", opts.get("data_dir"))
        source = "binarized MNIST test split"
    except files.DataFileError:
        if opts.get("data_dir"):          # a directory the user named must hold the data
            raise
        x = np.random.default_rng(0).integers(0, 2, (10000, 784)).astype(np.uint8)
        source = "random binary images (data files absent)"
    N, D = x.shape
    model = registry.build("fvsbn", seq_len=D)
    params = jax.tree_util.tree_map(lambda a: 0.01 * jax.random.normal(jax.random.PRNGKey(1), a.shape),
                                    model.init(jax.random.PRNGKey(0)))
    ceiling = bench.matmul_ceiling(2048)
    model.check_input(x)
    xd = jnp.asarray(x, model.input_dtype)
    ref = jax.jit(model.log_prob)(params, xd)
    lp = evaluate.log_prob_all(model, params, xd, chunk=chunk, check=False)
    if not np.allclose(np.asarray(lp), np.asarray(ref), rtol=1e-5, atol=1e-3):
        raise AssertionError("chunked log_prob disagrees with the one-pass log_prob")
    sec = bench.timed(lambda: evaluate.log_prob_all(model, params, xd, chunk=chunk, check=False)
                      .block_until_ready(), 5)
    gflops = 2 * N * D * D / sec / 1e9
    rec = {"model": "fvsbn", "data": source, "images": N, "chunk": chunk, "seconds": round(sec, 4),
           "images_per_s": round(N / sec), "gflops_per_s": round(gflops, 1),
           "matmul_ceiling_gflops_per_s": round(ceiling, 1), "fraction_of_ceiling": round(gflops / ceiling, 3),
           "machine": bench.machine()}
    print(f"FVSBN log_prob on {N} images ({source}): {N / sec:,.0f} images/s, {gflops:.1f} GFLOP/s = "
          f"{100 * gflops / ceiling:.0f}% of the float32 matmul ceiling ({ceiling:.1f} GFLOP/s, 2048^3)")
    print("RESULT " + json.dumps(rec))


if __name__ == "__main__":
    cli(main)
