from rlhub_medical_dosing.env import MedicalDosing

__all__ = ["MedicalDosing"]
