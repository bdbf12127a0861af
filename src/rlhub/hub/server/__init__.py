"""The hub server behind `rlhub serve`: FastAPI app, SQLAlchemy models, Alembic migrations, blob store.

`create_app(HubConfig.from_env())` builds the ASGI app. Importing this package is cheap; FastAPI and
SQLAlchemy load with the modules that need them.
"""

from rlhub.hub.server.config import HubConfig

__all__ = ["HubConfig"]
