from rlhub_medical_interactions.env import MedicalInteractions

__all__ = ["MedicalInteractions"]
