from rlhub_legal_clauses.env import LegalClauses

__all__ = ["LegalClauses"]
