"""Many devices and many hosts through ``jax.sharding``: meshes, shardings, processes.

A mesh spec names the axes and their sizes, e.g. ``"data:8"`` (pure data
parallelism) or ``"data:2,fsdp:4"`` (the batch is split over all 8 devices,
and parameters plus optimizer state are split over the ``fsdp`` axis,
FSDP/ZeRO-3 style).  The trainer puts the state and each batch on the mesh;
the compiler inserts the all-reduces / all-gathers (no hand-written
collectives).

Multi-process (several hosts, or several processes on one host): call
:func:`initialize` first with the same coordinator on every process; then
``jax.devices()`` lists the devices of all processes, the mesh spans them, and
every process computes the same global batch (batches are a pure function of
``(seed, step)``) of which only its own rows are copied to its devices
(:func:`put_global`).
"""
from __future__ import annotations

import re

import jax
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

from jax_ar.errors import ConfigError

AXES = ("data", "fsdp")


# ------------------------------------------------------------------ processes
def initialize(coordinator: str = "", num_processes: int = 1, process_id: int = 0,
               local_device_ids=None) -> None:
    """Join a multi-process run (a no-op for ``num_processes == 1`` and no coordinator).

    Must run before anything touches a JAX device.  ``coordinator`` is
    ``host:port`` of process 0, identical on every process; ``"auto"`` lets JAX
    read the cluster from its environment (TPU pods, SLURM, Open MPI).
    """
    if coordinator == "auto":
        jax.distributed.initialize()
        return
    if num_processes < 1:
        raise ConfigError(f"num_processes must be >= 1, got {num_processes}")
    if num_processes == 1 and not coordinator:
        return
    if not re.fullmatch(r"[A-Za-z0-9_.\-\[\]:]+:\d{1,5}", coordinator or ""):
        raise ConfigError(f"coordinator must look like host:port (e.g. 127.0.0.1:12345), got {coordinator!r}")
    if not 0 <= process_id < num_processes:
        raise ConfigError(f"process_id must be in [0, {num_processes - 1}], got {process_id}")
    jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                               process_id=process_id, local_device_ids=local_device_ids)


def is_main_process() -> bool:
    return jax.process_index() == 0


# ----------------------------------------------------------------------- mesh
def parse_mesh(spec: str) -> dict[str, int]:
    """``"data:2,fsdp:4"`` -> ``{"data": 2, "fsdp": 4}`` (axes in the order given)."""
    axes: dict[str, int] = {}
    for part in spec.split(","):
        name, sep, n = part.strip().partition(":")
        if not sep or name not in AXES or not n.isdigit() or int(n) < 1:
            raise ConfigError(f"mesh must look like 'data:N' or 'data:N,fsdp:M' (axes {AXES}, sizes >= 1), "
                              f"got {spec!r}")
        if name in axes:
            raise ConfigError(f"mesh axis {name!r} appears twice in {spec!r}")
        axes[name] = int(n)
    return axes


def make_mesh(spec: str) -> Mesh:
    axes = parse_mesh(spec)
    n = int(np.prod(list(axes.values())))
    devs = jax.devices()
    if n > len(devs):
        raise ConfigError(f"mesh {spec!r} asks for {n} devices but only {len(devs)} are visible")
    if jax.process_count() > 1 and n != len(devs):
        raise ConfigError(f"mesh {spec!r} has {n} devices; a multi-process run must use all "
                          f"{len(devs)} devices of its {jax.process_count()} processes")
    return Mesh(np.array(devs[:n]).reshape(tuple(axes.values())), tuple(axes))


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Leading (batch) axis split over every mesh axis."""
    return NamedSharding(mesh, P(tuple(mesh.axis_names)))


def replicated(mesh: Mesh) -> NamedSharding:
    return NamedSharding(mesh, P())


def fsdp_spec(shape: tuple, n: int) -> P:
    """Shard the largest dimension divisible by ``n`` over ``"fsdp"``; replicate if none is."""
    dims = [i for i, d in enumerate(shape) if d % n == 0 and d >= n]
    if n == 1 or not dims:
        return P()
    i = max(dims, key=lambda k: shape[k])
    return P(*([None] * i + ["fsdp"]))


def state_shardings(tree, mesh: Mesh):
    """Shardings for a params / optimizer-state pytree: FSDP-split floats if the mesh has 'fsdp'."""
    n = dict(zip(mesh.axis_names, mesh.devices.shape)).get("fsdp", 1)

    def one(a):
        a = np.asarray(a) if not hasattr(a, "shape") else a
        if n > 1 and a.ndim >= 1 and np.issubdtype(a.dtype, np.floating):
            return NamedSharding(mesh, fsdp_spec(tuple(a.shape), n))
        return replicated(mesh)
    return jax.tree_util.tree_map(one, tree)


# -------------------------------------------------------------- moving data
def put_global(tree, shardings):
    """Host values identical on every process -> global arrays with the given shardings.

    Each process copies only the slices its own devices hold.
    """
    if jax.process_count() == 1:
        return jax.device_put(tree, shardings)

    def one(a, sh):
        a = np.asarray(jax.device_get(a)) if not isinstance(a, np.ndarray) else a
        return jax.make_array_from_callback(a.shape, sh, lambda idx: a[idx])
    return jax.tree_util.tree_map(one, tree, shardings)


def to_host(tree):
    """Global arrays -> numpy on every process (all-gathering what is not local)."""
    from jax.experimental import multihost_utils

    def one(a):
        if not isinstance(a, jax.Array):
            return np.asarray(a)
        if a.is_fully_addressable:
            return np.asarray(a)
        if a.is_fully_replicated:
            return np.asarray(a.addressable_data(0))
        return np.asarray(multihost_utils.process_allgather(a, tiled=True))
    return jax.tree_util.tree_map(one, tree)
