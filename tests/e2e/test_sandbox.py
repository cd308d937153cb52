"""The script sandbox in a real browser, against a panel whose runtime comes from BERTH_DATA_DIR/runtimes.yaml: a
script typed into the editor runs with Ctrl+Enter, its output arrives as text (markup in it stays text, stderr is
marked apart), the status line says how it ended, and the output downloads."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest
from playwright.async_api import Browser, expect

from tests.support import BUSYBOX
from tests.support.browser import signed_in_page
from tests.support.panel import Panel

TIMEOUT_MS = 30_000
RUNTIMES = f"""- name: bt-sh
  image: {BUSYBOX}
  command: sh /sandbox/main.sh
  filename: main.sh
  limits: {{timeout: 20, memory: 64m}}
"""


@pytest.fixture(scope='module')
def sandbox_panel() -> Iterator[Panel]:
    panel = Panel()
    panel.data_dir.mkdir(parents=True, exist_ok=True)
    (panel.data_dir / 'runtimes.yaml').write_text(RUNTIMES)
    panel.start(timeout=30)
    yield panel
    panel.stop()
    left = subprocess.run(
        ['docker', 'ps', '-aq', '--filter', 'label=berth.sandbox=1'], capture_output=True, text=True
    ).stdout.split()
    subprocess.run(['docker', 'rm', '-f', *left], capture_output=True)
    assert not left, 'a sandbox container was left behind'


async def test_a_script_typed_in_the_editor_runs_with_ctrl_enter_and_streams_as_text(
    sandbox_panel: Panel, browser: Browser
) -> None:
    page = await signed_in_page(browser, sandbox_panel.base_url, password=sandbox_panel.password, path='/run')
    alerts: list[str] = []
    page.on('dialog', lambda dialog: alerts.append(dialog.message))
    await expect(page.get_by_text('bt-sh', exact=True).first).to_be_visible()
    await expect(page.get_by_text('20 s, 64 MiB, 1 CPU')).to_be_visible()  # the limits from runtimes.yaml
    editor = page.locator('.cm-content')
    await editor.click()
    await editor.type('echo "hello <img src=x onerror=alert(1)>"\necho oops >&2\nsleep 1\necho done')
    await page.keyboard.press('Control+Enter')
    output = page.get_by_role('log', name='Output of the run')
    await expect(output).to_contain_text('hello <img src=x onerror=alert(1)>', timeout=TIMEOUT_MS)
    await expect(output.locator('.berth-stderr')).to_have_text('oops\n')
    await expect(page.get_by_role('status').filter(has_text='Finished: exited with code 0')).to_be_visible(
        timeout=TIMEOUT_MS
    )
    assert await output.locator('img').count() == 0 and not alerts
    # stdout and stderr are two pipes: the engine keeps each one's order, not their order against each other
    stdout = ''.join(await output.locator('span:not(.berth-stderr)').all_inner_texts())
    assert stdout == 'hello <img src=x onerror=alert(1)>\ndone\n'
    shown = await output.inner_text()
    async with page.expect_download() as download_info:
        await page.get_by_role('button', name='Download output').click()
    download = await download_info.value
    path = await download.path()
    assert path is not None and path.read_text() == shown  # what the page showed, in the order it came
    # And the run is in the history, with a read-only link
    await expect(page.get_by_role('cell', name='exited with code 0', exact=False)).to_be_visible()
