"""The image update check actor."""

from __future__ import annotations

from typing import Any

from core.operations import updates

from .context import Run, actor


@actor(minutes=10)
def check_image_updates(
    run: Run, references: list[str], sealed_credentials: dict[str, str], params: dict[str, Any]
) -> None:
    """Asks each reference's registry which manifest its tag names, and compares it with the image on the engine;
    ``sealed_credentials`` are the registry credentials the panel saved, sealed for this job."""
    updates.check_updates(run.endpoint, run.reporter, list(references), dict(sealed_credentials), run.context.secrets)
