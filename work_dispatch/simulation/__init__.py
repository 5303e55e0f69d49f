"""The shop simulator: seeded shop weeks replayed through the real domain dispatch code.

Imports only :mod:`work_dispatch.domain` (never services, states or the database):
:mod:`.shop` draws a scenario, :mod:`.engine` runs it under one policy with the real task
state machine and selection functions, :mod:`.metrics` measures the run, :mod:`.runner`
runs a grid of settings over many seeds, :mod:`.cli` is the command line and
:mod:`.plots` draws the charts.
"""
