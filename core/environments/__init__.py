"""Dev environments: a container per person from an admin's template, owned by the signed-in identity."""
