import pytest

from core.settings import Settings


def test_environment_names(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv('BERTH_PORT', '9000')
    monkeypatch.setenv('REDIS_URL', 'redis://example:6379/0')
    monkeypatch.setenv('DOCKER_HOST', 'tcp://127.0.0.1:2375')
    monkeypatch.setenv('BERTH_DATA_DIR', str(tmp_path))
    settings = Settings()
    assert (settings.port, settings.redis_url, settings.docker_host) == (
        9000,
        'redis://example:6379/0',
        'tcp://127.0.0.1:2375',
    )
    assert not settings.embedded


def test_storage_secret_is_generated_once_and_kept(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path)
    first = settings.resolve_storage_secret()
    assert len(first) > 40
    assert Settings(data_dir=tmp_path).resolve_storage_secret() == first
    assert (tmp_path / 'storage_secret').stat().st_mode & 0o077 == 0


def test_trusted_proxies_are_addresses_or_ranges(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert Settings(data_dir=tmp_path).trusted_proxy_list == []  # nobody's X-Forwarded-For is believed by default
    settings = Settings(data_dir=tmp_path, trusted_proxies='127.0.0.1, 172.18.0.0/16,::1')
    assert settings.trusted_proxy_list == ['127.0.0.1', '172.18.0.0/16', '::1']
    with pytest.raises(ValueError, match=r'"proxy\.example" is not an IP address or CIDR range'):
        Settings(data_dir=tmp_path, trusted_proxies='127.0.0.1,proxy.example')
