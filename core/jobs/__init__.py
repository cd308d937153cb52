"""Flow 2, shared: job updates, the job store, the bus and cancel backends, job seals."""
