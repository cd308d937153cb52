"""Flow 2, panel side: guard, body policy, audit entry, signed job, dispatch to an actor."""
