"""Reflex states: thin adapters that read input, call a service and set vars."""
