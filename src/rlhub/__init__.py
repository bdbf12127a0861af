"""rlhub: reinforcement-learning environments for language models — write, check, share, evaluate, train.

The public API is the names in `__all__`; everything else lives in subpackages by layer
(`rlhub.core`, `rlhub.verify`, `rlhub.rollout`, `rlhub.hub`, `rlhub.train`). Importing `rlhub` stays
light: no torch, sympy or web framework is loaded until a feature needs it.
"""

from rlhub.agentic import WorkspaceEnv
from rlhub.core import (
    CheckReport,
    Completion,
    ConfigError,
    Environment,
    EnvNotFound,
    MCPTools,
    Message,
    ModelClient,
    ModelError,
    MultiTurnEnv,
    RlhubError,
    Rollout,
    Rubric,
    Sampling,
    Score,
    ScoreStatus,
    SingleTurnEnv,
    State,
    Task,
    ToolCall,
    ToolEnv,
    ToolSpec,
    check_env,
    environment,
    load,
    registered,
)
from rlhub.verify.runtime import Runtime

__version__ = "0.1.0"

__all__ = [
    "CheckReport",
    "Completion",
    "ConfigError",
    "EnvNotFound",
    "Environment",
    "MCPTools",
    "Message",
    "ModelClient",
    "ModelError",
    "MultiTurnEnv",
    "RlhubError",
    "Rollout",
    "Rubric",
    "Runtime",
    "Sampling",
    "Score",
    "ScoreStatus",
    "SingleTurnEnv",
    "State",
    "Task",
    "ToolCall",
    "ToolEnv",
    "ToolSpec",
    "WorkspaceEnv",
    "__version__",
    "check_env",
    "environment",
    "load",
    "registered",
]
