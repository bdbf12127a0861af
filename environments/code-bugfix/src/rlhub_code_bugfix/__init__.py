from rlhub_code_bugfix.env import CodeBugfix

__all__ = ["CodeBugfix"]
