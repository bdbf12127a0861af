"""The exception tree. Every error a user can cause is an `RlhubError` with a message meant for them;
the CLI prints such errors without a traceback.

    RlhubError
    ├── ConfigError          bad config values or unknown config keys
    ├── EnvNotFound          unknown environment id or version
    ├── InvalidId            an id that breaks the owner/name@version grammar
    ├── ModelError           the model server failed or could not be reached
    │   └── RetryableModelError   429 / 5xx / timeout / connection error: worth retrying
    └── LogError             a rollout log that cannot be read or resumed
"""

from __future__ import annotations


class RlhubError(Exception):
    """Base of all errors raised for the user to read."""


class ConfigError(RlhubError):
    pass


class EnvNotFound(RlhubError):
    pass


class InvalidId(RlhubError):
    pass


class ModelError(RlhubError):
    pass


class RetryableModelError(ModelError):
    pass


class LogError(RlhubError):
    pass


__all__ = ["ConfigError", "EnvNotFound", "InvalidId", "LogError", "ModelError", "RetryableModelError", "RlhubError"]
