"""What pages and tasks share: settings, docker access, state + event watcher, bus, job store, audit, database."""
