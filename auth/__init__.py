"""Sign-in: local accounts, sessions, roles and the guard every action passes through."""
