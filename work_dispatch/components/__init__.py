"""Stateless UI building blocks; they take vars and handlers, never State classes."""
