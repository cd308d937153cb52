"""core.streams.recording: asciicast v2 files — header, events, input only when allowed, the size cap, the
retention sweep, and ids that can never name a file outside the directory."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from core.permissions import Identity, Permission
from core.streams.recording import CAP_MARKER, Recordings


def read_cast(path: Path) -> tuple[dict[str, object], list[list[object]]]:
    lines = path.read_text(encoding='utf-8').splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_a_session_is_an_asciicast_v2_file_with_who_where_and_what(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path, max_bytes=2**20)
    recorder = recordings.recorder(
        username='olga', owner='olga', container='web', container_id='c' * 64, endpoint='local'
    )
    assert recorder is not None
    recorder.begin(24, 80, '/bin/sh')
    recorder.output('hello ✓\r\n')
    recorder.resize(24, 80)  # unchanged: nothing recorded
    recorder.resize(40, 120)
    recorder.input('secret\r')  # input is not recorded unless the settings say so
    recorder.close()
    recorder.output('after close')
    header, events = read_cast(recorder.path)
    assert header['version'] == 2 and (header['width'], header['height']) == (80, 24)
    assert header['berth'] == {
        'username': 'olga',
        'owner': 'olga',
        'container': 'web',
        'container_id': 'c' * 64,
        'endpoint': 'local',
        'command': '/bin/sh',
        'input_recorded': False,
    }
    assert [event[1:] for event in events] == [['o', 'hello ✓\r\n'], ['r', '120x40']]
    assert all(isinstance(event[0], float) for event in events)
    info = recordings.info(recorder.id)
    assert info is not None and info.container == 'web' and info.size == recorder.path.stat().st_size
    assert [found.id for found in recordings.all()] == [recorder.id]


def test_typed_input_is_recorded_only_when_allowed(tmp_path: Path) -> None:
    recorder = Recordings(tmp_path, record_input=True, max_bytes=2**20).recorder(
        username='olga', owner='olga', container='web', container_id='c', endpoint='local'
    )
    assert recorder is not None
    recorder.begin(24, 80, 'sh')
    recorder.input('ls\r')
    recorder.close()
    header, events = read_cast(recorder.path)
    assert events[0][1:] == ['i', 'ls\r'] and header['berth']['input_recorded'] is True  # type: ignore[index]


def test_the_size_cap_ends_the_recording_with_a_marker_not_the_session(tmp_path: Path) -> None:
    recorder = Recordings(tmp_path, max_bytes=1000).recorder(
        username='olga', owner='olga', container='web', container_id='c', endpoint='local'
    )
    assert recorder is not None
    recorder.begin(24, 80, 'sh')
    for _ in range(100):
        recorder.output('x' * 50)
    _, events = read_cast(recorder.path)
    assert events[-1][1:] == ['m', CAP_MARKER]
    assert recorder.path.stat().st_size <= 1000 + 100
    assert sum(1 for event in events if event[1] == 'o') < 20


def test_off_when_there_is_no_size_and_no_file_before_the_session_opens(tmp_path: Path) -> None:
    assert (
        Recordings(tmp_path, max_bytes=0).recorder(
            username='a', owner='a', container='c', container_id='c', endpoint='local'
        )
        is None
    )
    recorder = Recordings(tmp_path, max_bytes=100).recorder(
        username='a', owner='a', container='c', container_id='c', endpoint='local'
    )
    assert recorder is not None
    recorder.close()  # the session never opened
    assert not list(tmp_path.iterdir())


def test_ids_are_hex_names_inside_the_directory_only(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path / 'recordings', max_bytes=100)
    (tmp_path / 'secret.cast').write_text('{}')
    for bad in ('../secret', '..%2Fsecret', 'secret', 'A' * 24, '0' * 23, '/etc/passwd'):
        assert recordings.path(bad) is None and recordings.info(bad) is None


def test_the_sweep_deletes_only_recordings_past_their_retention(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path, max_bytes=2**20, days=2)
    old, new = (
        recordings.recorder(username='a', owner='a', container='c', container_id='c', endpoint='local')
        for _ in range(2)
    )
    for recorder in (old, new):
        assert recorder is not None
        recorder.begin(24, 80, 'sh')
        recorder.close()
    assert old is not None and new is not None
    three_days_ago = time.time() - 3 * 86400
    os.utime(old.path, (three_days_ago, three_days_ago))
    assert recordings.sweep() == 1
    assert not old.path.exists() and new.path.exists()


def test_operators_replay_their_own_sessions_and_admins_every_one(tmp_path: Path) -> None:
    recordings = Recordings(tmp_path, max_bytes=2**20)
    recorder = recordings.recorder(username='olga', owner='olga', container='web', container_id='c', endpoint='local')
    assert recorder is not None
    recorder.begin(24, 80, 'sh')
    recorder.close()
    info = recordings.info(recorder.id)
    assert info is not None
    assert Identity(username='olga', role='operator').can(Permission.RECORDING_READ, info.scope)
    assert not Identity(username='otto', role='operator').can(Permission.RECORDING_READ, info.scope)
    assert Identity(username='ada', role='admin').can(Permission.RECORDING_READ, info.scope)
    assert not Identity(username='olga', role='viewer').holds(Permission.RECORDING_READ)
