"""Compose stacks: files, versions, validation, policy and the compose binary that runs them."""
