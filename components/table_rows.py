"""A table's rows sent as they are."""

from __future__ import annotations

from typing import Any

from nicegui import ui


def send_rows(table: ui.table, rows: list[dict[str, Any]]) -> None:
    """Sends ``table`` with ``rows`` kept as they are: ``table.rows = rows`` copies every row into NiceGUI's
    observable dicts and lists (each cell, at each render, for each tab showing the table), which was the largest part
    of a re-render's time on the event loop under bench/load.py. Only for rows nothing edits in place (a change makes
    new row dicts and sends them again): edits of these would not be seen."""
    dict.__setitem__(table._props, 'rows', rows)  # NiceGUI's props dict, without its observer copy
    table.update()
