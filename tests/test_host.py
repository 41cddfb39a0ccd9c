"""The host allocator tuning (jax_ar.host): applied once on glibc, opt-out by environment."""
import os
import subprocess
import sys

from jax_ar import host


def _fresh(monkeypatch):
    monkeypatch.setitem(host._state, "applied", None)
    monkeypatch.setitem(host._state, "one_arena", None)


def test_opt_out_keeps_system_defaults(monkeypatch):
    _fresh(monkeypatch)
    monkeypatch.setenv(host.ENV, "system")
    assert host.keep_freed_memory() is False
    assert host.one_arena() is False


def test_applies_on_glibc_and_only_once(monkeypatch):
    _fresh(monkeypatch)
    monkeypatch.delenv(host.ENV, raising=False)
    expected = host._glibc() is not None
    assert host.keep_freed_memory() is expected
    calls = []
    monkeypatch.setattr(host, "_glibc", lambda: calls.append(1))
    assert host.keep_freed_memory() is expected       # cached: the C library is not asked again
    assert calls == []


def test_experiments_package_applies_it():
    code = "import experiments; from jax_ar import host; print(host._state['applied'])"
    env = {k: v for k, v in os.environ.items() if k != host.ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == str(host._glibc() is not None)


def test_one_arena_in_a_fresh_process():
    """Applied once on glibc; a JAX computation then runs normally (in a child: it changes the process)."""
    code = ("from jax_ar import host; a = host.one_arena(); b = host.one_arena(); "
            "import jax.numpy as jnp; print(a, b, float(jnp.ones((2048, 2048)).sum()))")
    env = {k: v for k, v in os.environ.items() if k != host.ENV}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    ok = str(host._glibc() is not None)
    assert out.stdout.split() == [ok, ok, "4194304.0"]
