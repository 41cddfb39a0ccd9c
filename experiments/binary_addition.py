"""The binary-addition toy: a 2-16-1 tanh RNN trained on 8-bit additions adds 64-bit+ numbers.

    python -m experiments.binary_addition --budget=quick

Writes hidden_states.png (units over time for one 64-bit addition) and
state_diagram.png (PCA of hidden states coloured by the true carry).
"""
import dataclasses

from experiments import at_least, check_items, items
from jax_ar import experiment
from jax_ar.contract import param_count
from jax_ar.rnn import binary_addition as ba


@dataclasses.dataclass(frozen=True)
class Config:
    adder: ba.AdderConfig = ba.AdderConfig()
    test_bits: str = "8,64,128,256"   # operand sizes to test on
    test_pairs: int = 1000

    def validate(self):
        check_items(self, "test_bits", int, lambda b: b >= 1, "integers >= 1")
        at_least(self, 1, "test_pairs")


BUDGETS = {
    "smoke": Config(adder=ba.AdderConfig(steps=300), test_bits="8,64", test_pairs=100),
    "quick": Config(),
    "full": Config(adder=ba.AdderConfig(steps=5000), test_bits="8,64,128,256,1024", test_pairs=10000),
}


def main(argv=None):
    run = experiment.start("binary_addition", Config, BUDGETS, argv)
    cfg = run.cfg
    run.describe(model="binary_adder_rnn", model_kwargs={"hidden": cfg.adder.hidden},
                 dataset={"name": "random additions", "train_bits": cfg.adder.train_bits})
    params, losses = ba.train(cfg.adder)
    print(f"final training loss {float(losses[-1]):.2e} nats/bit", flush=True)
    acc = {}
    for nb in items(cfg.test_bits, int):
        acc[nb] = ba.accuracy(params, nb, n=cfg.test_pairs, seed=1)
        print(f"{nb}-bit additions: {acc[nb]:.4f} exact", flush=True)
    a, b = 0xDEADBEEFCAFEBABE, 0x0123456789ABCDEF
    print(f"{a} + {b} = {ba.add(params, [a], [b])[0]} (true {a + b})")
    info = ba.plot_hidden_states(params, a, b, run.path("hidden_states.png"), run.path("state_diagram.png"))
    main_bits = 64 if 64 in acc else max(acc)
    run.result(model="binary_adder_rnn", dataset=f"random {main_bits}-bit pairs", split="test",
               metric="exact_accuracy", value=acc[main_bits], unit="fraction", steps=cfg.adder.steps,
               params=param_count(params), accuracy_by_bits=acc, final_train_loss=float(losses[-1]), **info)


if __name__ == "__main__":
    experiment.cli(main)
