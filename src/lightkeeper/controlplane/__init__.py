"""The control plane: every background loop of lightkeeper, in one place.

Each loop is a :class:`~lightkeeper.controlplane.loop.Loop`: every ``interval`` seconds
it takes its lease (so one ``lightkeeper up`` process among several does the work),
runs one round of a feature's work, and records the round and every decision in it,
skips included (``lightkeeper loops``). :class:`~lightkeeper.controlplane.plane.ControlPlane`
assembles the standard loops of ``lightkeeper up`` from the features it is given.
"""
