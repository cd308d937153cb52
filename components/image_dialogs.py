"""Dialogs that ask before an image changes: tag, remove (with force), prune (listing what goes, before it goes)."""

from __future__ import annotations

from typing import Any

from nicegui import ui

from core.docker.reference import InvalidReference, parse_reference
from core.state.images import ImageRow, format_size


def reference_problem(text: str, *, allow_digest: bool = True) -> str | None:
    """For ``validation=``: None when ``text`` is a valid image reference, else the sentence saying why not."""
    try:
        parse_reference(text, allow_digest=allow_digest)
    except InvalidReference as error:
        return f'{str(error)[:1].upper()}{str(error)[1:]}'
    return None


class AskingDialog(ui.dialog):
    """A dialog that answers once (a value, or None when cancelled) and then removes itself."""

    async def ask(self) -> Any:
        self.open()
        result = await self
        self.clear()
        self.delete()
        return result


class TagDialog(AskingDialog):
    """Asks for the new repository[:tag]; validated as the user types."""

    def __init__(self, image: ImageRow) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2 w-96').props('role=dialog aria-label="Tag image"'):
            ui.label(f'Tag {image.title}').classes('text-h6 break-all')
            self.reference = (
                ui.input(
                    'New tag',
                    placeholder='team/app:2',
                    validation=lambda text: reference_problem(text, allow_digest=False),
                )
                .props('autofocus')
                .classes('w-full')
            )
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Tag', on_click=self._confirm).props('aria-label="Confirm tag"')

    def _confirm(self) -> None:
        if self.reference.validate():
            self.submit(self.reference.value.strip())


class RemoveImageDialog(AskingDialog):
    """Asks before removing an image: its tags, the containers made from it, 'force'."""

    def __init__(self, image: ImageRow, containers: int) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Remove image"'):
            ui.label(f'Remove {image.title}?').classes('text-h6 break-all')
            ui.label(f'{image.short_id} · {format_size(image.size)} · tags: {", ".join(image.tags) or "none"}').classes(
                'text-body2 break-all'
            )
            if containers:
                ui.label(
                    f'{containers} container{"s" if containers != 1 else ""} use it: the engine refuses unless forced.'
                ).classes('text-warning')
            self.force = ui.checkbox('Force (remove every tag, even if containers use it)')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button('Remove', color='negative', on_click=lambda: self.submit({'force': self.force.value})).props(
                    'aria-label="Confirm remove"'
                )


class PruneDialog(AskingDialog):
    """Lists exactly what a prune removes and about how much space comes back; answers with their ids."""

    def __init__(self, what: str, images: list[ImageRow], unique_sizes: dict[str, int]) -> None:
        super().__init__()
        reclaim = sum(unique_sizes.get(image.id, image.size) for image in images)
        with self, ui.card().classes('gap-2 w-[40rem] max-w-full').props(f'role=dialog aria-label="Prune {what}"'):
            ui.label(f'Remove {len(images)} {what}?').classes('text-h6')
            ui.label(f'About {format_size(reclaim)} of disk space comes back (layers no other image shares).').classes(
                'text-body2'
            )
            with ui.scroll_area().classes('w-full h-64 border'):
                for image in images:
                    with ui.row().classes('w-full no-wrap gap-3'):
                        ui.label(image.title).classes('grow break-all')
                        ui.label(image.short_id).classes('font-mono text-sm')
                        ui.label(format_size(unique_sizes.get(image.id, image.size))).classes('w-20 text-right')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    f'Remove {len(images)}',
                    color='negative',
                    on_click=lambda: self.submit([image.id for image in images]),
                ).props('aria-label="Confirm prune"')


def unique_sizes(disk_usage: dict[str, Any]) -> dict[str, int]:
    """Image id → bytes only that image holds, from ``GET /system/df`` (Size minus SharedSize)."""
    sizes = {}
    for image in disk_usage.get('Images') or []:
        shared = int(image.get('SharedSize') or 0)
        sizes[str(image['Id'])] = int(image.get('Size') or 0) - max(0, shared)
    return sizes
