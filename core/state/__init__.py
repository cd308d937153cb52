"""Flow 1: the live Docker state of each endpoint, fed by its event watcher; row models."""
