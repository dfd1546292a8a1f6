"""Settings read from the environment (``COMMONGROUND_*``), built on demand, never at import."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("commonground-data")


class Settings(BaseSettings):
    """Where commonground keeps its data. ``--data-dir`` on the command line wins over the environment."""

    model_config = SettingsConfigDict(env_prefix="COMMONGROUND_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    """The data directory: the analytical store, builds and the operational store live under it."""


def load_settings(*, data_dir: Path | None = None) -> Settings:
    settings = Settings()
    if data_dir is not None:
        settings = settings.model_copy(update={"data_dir": data_dir})
    return settings
