"""Alembic environment: the ORM metadata is the target; batch mode so SQLite can alter tables."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from jobcore import logs
from jobcore.models import Base, UTCDateTime
from jobcore.settings import Settings

config = context.config
# from alembic's command line: the service's logging (jobcore.logs), never alembic.ini's
# fileConfig; inside the API (no config file) its logging is left as it is
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    logs.configure()

if not config.get_main_option("sqlalchemy.url"):
    settings = Settings()
    settings.data_path.mkdir(parents=True, exist_ok=True)
    config.set_main_option("sqlalchemy.url", settings.db_url.replace("%", "%%"))

target_metadata = Base.metadata


def render_item(type_: str, obj, autogen_context):
    """Render the UTC datetime decorator as a plain DateTime: migrations never import models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        connectable = engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        with connectable.connect() as connection:
            _migrate(connection)
    else:
        _migrate(connectable)


def _migrate(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
