"""Use cases, one transaction each. Authorization and validation happen here."""
