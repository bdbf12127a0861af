from rlhub_legal_rules.env import LegalRules

__all__ = ["LegalRules"]
