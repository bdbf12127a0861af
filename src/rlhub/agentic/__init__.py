"""Agentic environments: shell tools over a sandboxed workspace, and a ToolEnv base graded by hidden tests.

Sits above `rlhub.verify` (it runs everything in the sandbox) and beside `rlhub.hub.client`. See
docs/agentic.md for the API and a tutorial.
"""

from rlhub.agentic.env import HiddenTests, WorkspaceEnv, files_from_dir
from rlhub.agentic.tools import shell_tools

__all__ = ["HiddenTests", "WorkspaceEnv", "files_from_dir", "shell_tools"]
