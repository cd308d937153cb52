"""Docker Engine access: one client factory per endpoint; every private docker-py call lives here."""
