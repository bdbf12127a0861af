"""Talking to a hub: `HubClient` (async, httpx), building and uploading distributions, and safe installs.

`rlhub.hub.client.install` is imported on demand (it needs `packaging`); everything here is light.
"""

from rlhub.hub.client.api import HubClient, IndexFile, IndexPage
from rlhub.hub.client.config import credentials_path, forget_token, hub_url, resolve_token, rlhub_home, save_token
from rlhub.hub.client.dists import DistFile, build_dists, read_dist
from rlhub.hub.client.errors import HubAuthError, HubConflict, HubError, HubNotFound, HubUnreachable, InstallError

__all__ = [
    "DistFile",
    "HubAuthError",
    "HubClient",
    "HubConflict",
    "HubError",
    "HubNotFound",
    "HubUnreachable",
    "IndexFile",
    "IndexPage",
    "InstallError",
    "build_dists",
    "credentials_path",
    "forget_token",
    "hub_url",
    "read_dist",
    "resolve_token",
    "rlhub_home",
    "save_token",
]
