"""Registry credentials at rest and in transit, and cancellation flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.jobs.cancel import InProcessCancelFlags
from core.settings import Settings
from core.storage.credentials import RegistryCredentials, SecretBox, SecretError
from core.storage.sqlite import SQLiteDatabase


def test_the_key_file_is_made_once_and_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert SecretBox.from_settings(settings, create=False) is None
    box = SecretBox.from_settings(settings)
    assert box is not None and (tmp_path / 'secret.key').stat().st_mode & 0o777 == 0o600
    again = SecretBox.from_settings(settings, create=False)
    assert again is not None and again.open(box.seal({'a': 'b'})) == {'a': 'b'}


def test_a_configured_secret_key_is_used_and_another_key_cannot_open(tmp_path: Path) -> None:
    panel = SecretBox.from_settings(Settings(data_dir=tmp_path / 'panel', secret_key='one shared secret'))
    worker = SecretBox.from_settings(Settings(data_dir=tmp_path / 'worker', secret_key='one shared secret'))
    stranger = SecretBox.from_settings(Settings(data_dir=tmp_path / 'stranger'))
    assert panel and worker and stranger and not (tmp_path / 'panel' / 'secret.key').exists()
    token = panel.seal({'password': 'hunter2'})
    assert 'hunter2' not in token and worker.open(token) == {'password': 'hunter2'}
    with pytest.raises(SecretError, match='same BERTH_SECRET_KEY'):
        stranger.open(token)


def test_saved_credentials_are_sealed_in_the_database(tmp_path: Path) -> None:
    database = SQLiteDatabase(tmp_path / 'berth.sqlite3')
    box = SecretBox.from_settings(Settings(data_dir=tmp_path))
    assert box is not None
    credentials = RegistryCredentials(database, box)
    assert credentials.seal_for_job('127.0.0.1:5000', '', '') == ('', 'none')
    credentials.save('127.0.0.1:5000', 'puller', 'hunter2', 'olga')
    assert credentials.get('127.0.0.1:5000') == {'username': 'puller', 'password': 'hunter2'}
    assert [saved.registry for saved in credentials.saved()] == ['127.0.0.1:5000']
    assert not [path for path in tmp_path.iterdir() if b'hunter2' in path.read_bytes()]  # database, WAL, key
    token, source = credentials.seal_for_job('127.0.0.1:5000', '', '')
    assert source == 'saved' and box.open(token)['serveraddress'] == '127.0.0.1:5000'
    token, source = credentials.seal_for_job('127.0.0.1:5000', 'other', 'typed')
    assert source == 'entered' and box.open(token)['password'] == 'typed'
    assert credentials.forget('127.0.0.1:5000') and credentials.get('127.0.0.1:5000') is None


def test_cancel_flags() -> None:
    flags = InProcessCancelFlags()
    assert flags.requested_by('job') == ''
    flags.request('job', 'olga')
    assert flags.requested_by('job') == 'olga'
    flags.clear('job')
    assert flags.requested_by('job') == ''
