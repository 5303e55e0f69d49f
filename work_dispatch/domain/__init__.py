"""Pure domain code: no Reflex, no SQL, no Redis. Deterministic given its inputs."""
