"""Confirmation dialogs."""

from __future__ import annotations

from typing import Any

from nicegui import ui


class RemoveDialog(ui.dialog):
    """Asks before removing containers; offers 'also remove anonymous volumes' and 'force'."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        with self, ui.card().classes('gap-2').props('role=dialog aria-label="Remove containers"'):
            count = len(names)
            ui.label(f'Remove {count} container{"s" if count != 1 else ""}?').classes('text-h6')
            shown = ', '.join(names[:10]) + (f' and {count - 10} more' if count > 10 else '')
            ui.label(shown).classes('text-body2 break-all')
            self.volumes = ui.checkbox('Also remove anonymous volumes')
            self.force = ui.checkbox('Force (stop running containers first)')
            with ui.row().classes('w-full justify-end'):
                ui.button('Cancel', on_click=lambda: self.submit(None)).props('flat')
                ui.button(
                    'Remove',
                    color='negative',
                    on_click=lambda: self.submit({'volumes': self.volumes.value, 'force': self.force.value}),
                ).props('aria-label="Confirm remove"')

    async def ask(self) -> dict[str, Any] | None:
        result = await self
        self.clear()
        self.delete()
        return result  # type: ignore[no-any-return]
