from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def ui_data_dir(data_dir: Path) -> Path:
    """Autouse, so the environment is set before the `user` fixture runs main.py."""
    return data_dir
