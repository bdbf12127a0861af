"""The lowest layer: wire types, environments, rubrics, tools, the registry and the conformance checker."""

from rlhub.core.check import CheckReport, CheckResult, check_env
from rlhub.core.env import Environment, Episode, MultiTurnEnv, SingleTurnEnv, State, ToolEnv
from rlhub.core.errors import ConfigError, EnvNotFound, InvalidId, LogError, ModelError, RetryableModelError, RlhubError
from rlhub.core.exploits import Exploit
from rlhub.core.ids import EnvId
from rlhub.core.mcp import MCPServerError, MCPTools
from rlhub.core.model import ModelClient
from rlhub.core.registry import environment, load, load_path, registered
from rlhub.core.rubric import Rubric
from rlhub.core.tools import ToolBox, parse_tool_calls, tool_spec
from rlhub.core.types import (
    Completion,
    Message,
    Rollout,
    Sampling,
    Score,
    ScoreStatus,
    Task,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "CheckReport",
    "CheckResult",
    "Completion",
    "ConfigError",
    "EnvId",
    "EnvNotFound",
    "Environment",
    "Episode",
    "Exploit",
    "InvalidId",
    "LogError",
    "MCPServerError",
    "MCPTools",
    "Message",
    "ModelClient",
    "ModelError",
    "MultiTurnEnv",
    "RetryableModelError",
    "RlhubError",
    "Rollout",
    "Rubric",
    "Sampling",
    "Score",
    "ScoreStatus",
    "SingleTurnEnv",
    "State",
    "Task",
    "ToolBox",
    "ToolCall",
    "ToolEnv",
    "ToolSpec",
    "Usage",
    "check_env",
    "environment",
    "load",
    "load_path",
    "parse_tool_calls",
    "registered",
    "tool_spec",
]
