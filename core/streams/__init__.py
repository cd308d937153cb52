"""Flow 3: terminals (exec) and logs read off the loop, per client; stream quotas."""
