"""Flow 2, worker side: what an actor does to the engine (lifecycle, pull, create)."""
