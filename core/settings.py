"""One typed settings object, read from the environment (``BERTH_*``, ``REDIS_URL``, ``DOCKER_HOST``)."""
from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Berth can be told. Field names map to ``BERTH_<NAME>`` unless an alias says otherwise."""

    model_config = SettingsConfigDict(env_prefix='BERTH_', extra='ignore', populate_by_name=True)

    host: str = '127.0.0.1'
    port: int = 8080
    data_dir: Path = Path('./data')
    admin_password: str | None = None
    storage_secret: str | None = None
    public_url: str | None = None
    database_url: str | None = None
    local_login: bool = True
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices('REDIS_URL', 'BERTH_REDIS_URL'))
    docker_host: str | None = Field(default=None, validation_alias=AliasChoices('DOCKER_HOST', 'BERTH_DOCKER_HOST'))
    worker_threads: int = 4
    secret_key: str | None = None  # seals registry credentials; else a key file in data_dir (see core/secrets.py)
    job_history: int = 500
    job_lost_after: float = 30.0
    session_idle_minutes: int = 60 * 8
    session_max_hours: int = 24
    terminals_per_user: int = 8  # open terminal sessions one person may hold at once
    log_views_per_user: int = 8  # open live log views one person may hold at once

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = 'openid email profile groups'
    oidc_provider_name: str = 'SSO'
    oidc_roles_claim: str = 'groups'
    oidc_admin_groups: str = ''
    oidc_operator_groups: str = ''
    oidc_viewer_groups: str = ''
    oidc_default_role: str | None = None

    @property
    def embedded(self) -> bool:
        """True when no Redis is configured: in-memory broker and worker threads inside the panel."""
        return not self.redis_url

    @property
    def database_path(self) -> Path:
        return self.data_dir / 'berth.sqlite3'

    def ensure_data_dir(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def resolve_storage_secret(self) -> str:
        """The NiceGUI storage secret: given, or generated once under the data dir so sessions survive restarts."""
        if self.storage_secret:
            return self.storage_secret
        self.ensure_data_dir()
        path = self.data_dir / 'storage_secret'
        if not path.exists():
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()
