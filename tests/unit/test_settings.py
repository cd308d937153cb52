import pytest

from core.settings import Settings


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv('BERTH_PORT', '9000')
    monkeypatch.setenv('REDIS_URL', 'redis://example:6379/0')
    monkeypatch.setenv('DOCKER_HOST', 'tcp://127.0.0.1:2375')
    monkeypatch.setenv('BERTH_DATA_DIR', str(tmp_path))
    settings = Settings()
    assert (settings.port, settings.redis_url, settings.docker_host) == (9000, 'redis://example:6379/0', 'tcp://127.0.0.1:2375')
    assert not settings.embedded


def test_storage_secret_is_generated_once_and_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    first = settings.resolve_storage_secret()
    assert len(first) > 40
    assert Settings(data_dir=tmp_path).resolve_storage_secret() == first
    assert (tmp_path / 'storage_secret').stat().st_mode & 0o077 == 0
