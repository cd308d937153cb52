"""Image update checks: does the registry name another manifest under a tag in use than the image here was pulled as?

registry.py asks a registry (HEAD of the manifest, auth challenge); check.py compares one reference with the local
image's repo digests; results.py is the panel's record of the answers (table, cache, listeners, the public
``available`` call); schedule.py dispatches the periodic check.
"""
