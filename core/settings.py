"""One typed settings object, read from the environment (``BERTH_*``, ``REDIS_URL``, ``DOCKER_HOST``)."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import clip


class SettingsError(ValueError):
    """The environment sets something Berth cannot use; the message names each variable and says why (never its
    value: it may be a secret)."""


class Settings(BaseSettings):
    """Everything Berth can be told. Field names map to ``BERTH_<NAME>`` unless an alias says otherwise."""

    # no NaN or infinity: BERTH_SESSION_IDLE_MINUTES=nan would be a session that never idles out
    model_config = SettingsConfigDict(env_prefix='BERTH_', extra='ignore', populate_by_name=True, allow_inf_nan=False)

    host: str = '127.0.0.1'
    port: int = Field(default=8080, ge=0, le=65535)
    data_dir: Path = Path('./data')
    admin_password: str | None = None
    storage_secret: str | None = None
    public_url: str | None = None
    trusted_proxies: str = ''  # addresses/CIDRs whose X-Forwarded-For/-Proto are believed; none by default
    database_url: str | None = None
    local_login: bool = True
    redis_url: str | None = Field(default=None, validation_alias=AliasChoices('REDIS_URL', 'BERTH_REDIS_URL'))
    docker_host: str | None = Field(default=None, validation_alias=AliasChoices('DOCKER_HOST', 'BERTH_DOCKER_HOST'))
    worker_threads: int = 4
    # More Docker engines: a JSON list of {"id", "name", "url", "ca", "cert", "key"} (file paths), see
    # core/docker/endpoint_spec.py; admins add others in /admin/endpoints
    endpoints: str = ''
    worker_endpoints: str = ''  # a `dramatiq tasks` worker serves only these endpoints' queues (ids, commas)
    secret_key: str | None = None  # seals registry credentials; else a key file in data_dir (see core/secrets.py)
    job_history: int = 500
    job_lost_after: float = 30.0
    session_idle_minutes: float = 60 * 8
    session_max_hours: int = 24
    terminals_per_user: int = 8  # open terminal sessions one person may hold at once
    log_views_per_user: int = 8  # open live log views one person may hold at once
    record_terminals: bool = True  # every terminal session is recorded (asciicast v2) under data_dir/recordings
    record_input: bool = False  # typed input too: off by default, typed passwords would land in the recording
    recording_max_mb: float = 20  # one recording stops growing (a marker says so) at this size
    recording_days: float = 30  # recordings older than this are deleted
    idle_minute_seconds: float = 60  # the length of an idle-stop minute: tests make it a second
    # The script sandbox (/run): see core/sandbox. SANDBOX_RUNTIME names the engine runtime runs use (e.g. runsc for
    # gVisor); when set, a run on an engine without it fails with a sentence instead of running less isolated.
    sandbox_runtime: str = ''
    sandbox_concurrency: int = Field(default=4, ge=1)  # runs at once, everyone together; the others wait in line
    sandbox_per_user: int = Field(default=2, ge=1)  # runs at once per person
    sandbox_script_kb: int = Field(default=256, ge=1)  # the largest script (KiB)
    sandbox_stdin_kb: int = Field(default=1024, ge=0)  # the largest standard input (KiB)
    sandbox_history: int = Field(default=100, ge=1)  # runs kept per person (with their output)
    # Image update checks (core/updates): references in use are checked against their registry this often; 0: never
    # on a schedule (the "Check for updates" button still works). Minutes may be fractions (tests use seconds).
    update_check_minutes: float = Field(default=360, ge=0)
    sandbox_sweep_seconds: float = Field(default=60, gt=0)  # how often sandbox containers left behind are looked for

    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_scopes: str = 'openid email profile groups'
    oidc_provider_name: str = 'SSO'
    oidc_roles_claim: str = 'groups'
    oidc_admin_groups: str = ''
    oidc_operator_groups: str = ''
    oidc_developer_groups: str = ''
    oidc_viewer_groups: str = ''
    oidc_default_role: str | None = None
    oidc_endpoint_roles: str = ''  # per-host roles: JSON endpoint → role → groups (core/endpoint_roles.py)

    @classmethod
    def from_environment(cls) -> Settings:
        """The settings the environment gives; :class:`SettingsError` with a sentence per variable that is wrong."""
        try:
            return cls()
        except ValidationError as error:
            raise SettingsError(describe_errors(error)) from None

    @field_validator('trusted_proxies')
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        for entry in _comma_list(value):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f'BERTH_TRUSTED_PROXIES: "{clip(entry)}" is not an IP address or CIDR range') from None
        return value

    @property
    def worker_endpoint_ids(self) -> list[str]:
        return _comma_list(self.worker_endpoints)

    @property
    def trusted_proxy_list(self) -> list[str]:
        return _comma_list(self.trusted_proxies)

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


def describe_errors(error: ValidationError) -> str:
    """'BERTH_PORT: Input should be less than or equal to 65535' per wrong variable; no values."""
    sentences = []
    for item in error.errors(include_input=False, include_url=False):
        field = str(item['loc'][0]) if item['loc'] else ''
        variable = _ALIASES.get(field, f'BERTH_{field.upper()}')
        message = str(item['msg']).removeprefix('Value error, ')
        sentences.append(message if message.startswith(variable) else f'{variable}: {message}')
    return 'Berth cannot start with these settings: ' + '; '.join(sentences)


_ALIASES = {
    'redis_url': 'REDIS_URL',
    'docker_host': 'DOCKER_HOST',
    'REDIS_URL': 'REDIS_URL',
    'DOCKER_HOST': 'DOCKER_HOST',
}


def _comma_list(value: str) -> list[str]:
    return [entry.strip() for entry in value.split(',') if entry.strip()]
