"""Diagnoses: the model (:mod:`.model`) and the chapter-4 rules (:mod:`.chapter4`).

Plugins import what they need to write a rule from here:
``from grader.diagnoses import DiagnosisRule, Evidence, close``.
"""
from .model import (DiagnosisRule, Evidence, Observation, close, diagnose, error_text, non_finite,
                    normalised_over_whole_batch)

__all__ = ["DiagnosisRule", "Evidence", "Observation", "close", "diagnose", "error_text", "non_finite",
           "normalised_over_whole_batch"]
