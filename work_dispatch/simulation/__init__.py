"""The shop simulator: seeded shop weeks replayed through the real domain dispatch code.

Imports only :mod:`work_dispatch.domain` (never services, states or the database):
:mod:`.shop` draws a scenario, :mod:`.engine` runs it under one policy with the real task
state machine and selection functions, :mod:`.metrics` measures the run, :mod:`.runner`
runs a grid of settings over many seeds, :mod:`.cli` is the command line and
:mod:`.plots` draws the charts. A scenario may carry transfer batches on its route steps
(:func:`.shop.with_transfer_batches`): runs then model partial handover between processes,
and the ETA of :mod:`work_dispatch.domain.flow` can be measured against what happened.
"""
