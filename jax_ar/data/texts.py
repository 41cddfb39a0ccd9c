"""The character texts the language-model experiments train on, by name.

* ``"tiny_shakespeare"``: the real text (:mod:`jax_ar.data.shakespeare`,
  from ``--data_dir`` or ``../shared/data``);
* ``"markov_text"``: embedded synthetic text, a first-order Markov chain over
  a fixed 33-character alphabet (lower-case letters, space, newline and the
  characters of the experiments' default prompt "ROMEO:"), with an exactly
  known entropy rate, so a model's loss can be read as a gap to the optimum.
  Needs no data files; the smoke budgets use it.
"""
from __future__ import annotations

import functools

import numpy as np

from jax_ar.data import shakespeare, synthetic
from jax_ar.errors import ConfigError

TEXTS = ("tiny_shakespeare", "markov_text")
MARKOV_ALPHABET = " \nabcdefghijklmnopqrstuvwxyzEMOR:"
MARKOV_CHARS = 200_000


def check(name: str) -> None:
    if name not in TEXTS:
        raise ConfigError(f"text must be one of {', '.join(TEXTS)}, got {name!r}")


@functools.lru_cache(maxsize=2)
def _markov(seed: int = 0) -> tuple[str, float]:
    V = len(MARKOV_ALPHABET)
    chain = synthetic.markov_chain(V, concentration=0.3, seed=seed)
    # mixed with the uniform chain so that every character (the prompt's too) occurs often
    P = 0.9 * chain.transition_VxV + 0.1 / V
    mixed = synthetic.MarkovChain(P, synthetic.stationary(P))
    ids = mixed.sample(MARKOV_CHARS, seed=seed)
    return "".join(np.asarray(list(MARKOV_ALPHABET))[ids]), mixed.entropy_rate()


def load(name: str, data_dir=None) -> str:
    """The text called ``name`` (see the module docstring)."""
    check(name)
    if name == "tiny_shakespeare":
        return shakespeare.load_text(data_dir)
    return _markov()[0]


def entropy_rate(name: str) -> float | None:
    """Nats per character of the source, where it is known exactly (the synthetic text)."""
    check(name)
    return _markov()[1] if name == "markov_text" else None
