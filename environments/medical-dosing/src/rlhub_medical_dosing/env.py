"""Dose calculations over SYNTHETIC drugs: weight-based doses, caps, unit conversions, Cockcroft-Gault
creatinine clearance and renal dose bands.

Every drug, dose and band here is invented for training arithmetic and rule following. NOTHING here is
clinical information or advice. The prompt states each rule it needs, so the answer is one number
that follows from the prompt alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import rlhub
from rlhub.verify import numeric

LB_PER_KG = 2.20462
UMOL_PER_MG_DL = 88.4
BAND_MARGIN = 2.0
"""CrCl values this close to a band edge are redrawn, so reasonable rounding never changes the band."""


@dataclass(frozen=True)
class Drug:
    name: str
    per_kg: float
    unit: str  # "mg" or "mcg": the unit of `per_kg`, `max_dose` and `concentration` (per mL)
    max_dose: float
    interval_h: int
    concentration: float
    bands: tuple[tuple[float, float], ...]
    """(lowest CrCl in mL/min, dose factor), highest band first; the last band starts at 0."""


DRUGS = (
    Drug("Zorvalin", 15, "mg", 1000, 8, 50, ((60, 1.0), (30, 0.75), (15, 0.5), (0, 0.25))),
    Drug("Prandexa", 7.5, "mg", 600, 12, 25, ((50, 1.0), (25, 0.5), (0, 0.25))),
    Drug("Kelotrin", 2.5, "mcg", 200, 6, 20, ((60, 1.0), (30, 0.5), (0, 0.25))),
    Drug("Vimazolate", 0.8, "mg", 60, 24, 4, ((40, 1.0), (20, 0.6), (0, 0.3))),
    Drug("Oxaferin", 20, "mg", 1500, 6, 100, ((70, 1.0), (45, 0.8), (20, 0.6), (0, 0.4))),
    Drug("Dulcetamide", 4, "mcg", 350, 8, 50, ((50, 1.0), (30, 0.7), (0, 0.5))),
    Drug("Ferunix", 1.2, "mg", 90, 12, 10, ((60, 1.0), (35, 0.75), (0, 0.5))),
    Drug("Tramicorene", 10, "mg", 750, 24, 40, ((45, 1.0), (25, 0.65), (0, 0.35))),
)

LEVELS = {
    1: "weight-based dose, weight in kg",
    2: "weight in lb, answer unit converted (mg <-> mcg)",
    3: "volume to draw up (mL) or total daily dose",
    4: "creatinine clearance by Cockcroft-Gault",
    5: "renally adjusted dose (clearance, band, cap, factor)",
}

DISCLAIMER = "All drugs and dosing rules below are SYNTHETIC (invented for an exercise), not clinical advice."


def crcl(age: int, weight_kg: float, scr_mg_dl: float, female: bool) -> float:
    """Cockcroft-Gault creatinine clearance in mL/min, actual body weight."""
    value = (140 - age) * weight_kg / (72 * scr_mg_dl)
    return value * 0.85 if female else value


def band_factor(drug: Drug, clearance: float) -> float:
    return next(factor for low, factor in drug.bands if clearance >= low)


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _rule_text(drug: Drug, renal: bool) -> str:
    text = (
        f"{drug.name} (synthetic): {_fmt(drug.per_kg)} {drug.unit}/kg per dose every {drug.interval_h} h, "
        f"maximum {_fmt(drug.max_dose)} {drug.unit} per dose; supplied as {_fmt(drug.concentration)} "
        f"{drug.unit}/mL."
    )
    if renal:
        parts = []
        upper = None
        for low, factor in drug.bands:
            if upper is None:
                span = f">= {_fmt(low)}"
            else:
                span = f">= {_fmt(low)} and < {_fmt(upper)}" if low else f"< {_fmt(upper)}"
            parts.append(f"CrCl {span} mL/min: {round(factor * 100)}% of the dose")
            upper = low
        text += " Renal adjustment: " + "; ".join(parts) + "."
    return text


def score(response: str, reference: object, task: rlhub.Task) -> rlhub.Score:
    """1 when the response's final number is within the task's relative tolerance of the answer."""
    return numeric.score(response, reference, rel_tol=task.info["tolerance"])


@rlhub.environment("rlhub/medical-dosing", version="0.1.0")
class MedicalDosing(rlhub.SingleTurnEnv):
    """Compute a dose, a volume, a daily total or a creatinine clearance from synthetic dosing rules."""

    level: int = 5
    """Curriculum 1-5: tasks are drawn from every question type up to this level (see LEVELS)."""
    tolerance: float = 0.01
    """Relative tolerance of the numeric answer (1% absorbs rounding of intermediate values)."""

    system_prompt = DISCLAIMER
    rubric = rlhub.Rubric(correct=score)

    def __init__(self, **config: object):
        super().__init__(**config)
        if self.level not in LEVELS:
            raise rlhub.ConfigError(f"level must be one of {sorted(LEVELS)}")
        if not 0 < self.tolerance <= 0.1:
            raise rlhub.ConfigError("tolerance must be in (0, 0.1]")

    def make_task(self, rng: random.Random) -> rlhub.Task:
        kind = rng.randint(1, self.level)
        drug = rng.choice(DRUGS)
        weight_kg = round(rng.uniform(40, 130), 1)
        in_lb = kind >= 2 and rng.random() < 0.6
        weight_text = f"{round(weight_kg * LB_PER_KG, 1)} lb" if in_lb else f"{weight_kg} kg"
        if in_lb:
            weight_kg = round(weight_kg * LB_PER_KG, 1) / LB_PER_KG
        base = min(drug.per_kg * weight_kg, drug.max_dose)
        answer_unit = drug.unit
        if kind == 2 and rng.random() < 0.5:
            answer_unit = "mcg" if drug.unit == "mg" else "mg"
        facts = [f"Patient weight: {weight_text}."]
        wrong: list[float] = [drug.per_kg * weight_kg, base * 1.1]
        if kind <= 2:
            answer = base * _unit_factor(drug.unit, answer_unit)
            wrong = [w * _unit_factor(drug.unit, answer_unit) for w in wrong] + [base]
            question = f"What single dose of {drug.name} should be given, in {answer_unit}?"
        elif kind == 3:
            if rng.random() < 0.5:
                answer = base / drug.concentration
                wrong = [base, drug.per_kg * weight_kg / drug.concentration, answer * 10]
                question = f"What volume of {drug.name} solution delivers one dose, in mL?"
            else:
                answer = base * 24 / drug.interval_h
                wrong = [base, drug.per_kg * weight_kg * 24 / drug.interval_h, base * drug.interval_h]
                question = f"What is the total daily dose of {drug.name}, in {drug.unit}?"
        else:
            age, scr, scr_text, female, clearance = _renal_facts(rng, drug, weight_kg)
            facts += [f"Age: {age} years.", f"Sex: {'female' if female else 'male'}.", f"Serum creatinine: {scr_text}."]
            if kind == 4:
                answer = clearance
                wrong = [crcl(age, weight_kg, scr, not female), clearance * 72 / 70, clearance + 10]
                question = "What is the creatinine clearance by Cockcroft-Gault, in mL/min?"
            else:
                answer = base * band_factor(drug, clearance)
                wrong = [base, drug.per_kg * weight_kg * band_factor(drug, clearance), answer * 1.25]
                question = f"What renally adjusted single dose of {drug.name} should be given, in {drug.unit}?"
        rules = _rule_text(drug, renal=kind == 5)
        method = ""
        if kind >= 4:
            method = (
                " Use Cockcroft-Gault with actual body weight: CrCl = (140 - age) x weight(kg) / (72 x SCr in "
                f"mg/dL), x 0.85 if female; 1 kg = {LB_PER_KG} lb; SCr mg/dL = umol/L / {UMOL_PER_MG_DL}."
            )
        if kind == 5:
            method += " Cap the weight-based dose at the maximum first, then apply the renal factor."
        prompt = (
            f"{rules}\n\n{' '.join(facts)}\n\n{question}{method} "
            "End with a final line 'Answer: <number>' (at least 3 significant figures, no unit)."
        )
        distinct = [w for w in wrong if abs(w - answer) > 2 * self.tolerance * abs(answer)]
        info = {"kind": kind, "tolerance": self.tolerance, "wrong": [_exact(w) for w in distinct]}
        return rlhub.Task(prompt=prompt, answer=_exact(answer), info=info, tags=(f"level:{kind}", f"drug:{drug.name}"))

    def oracle(self, task: rlhub.Task, messages: object) -> rlhub.Message:
        return rlhub.Message.assistant(f"Answer: {task.answer}")

    def wrong_responses(self, task: rlhub.Task) -> list[str]:
        return ["", "I don't know.", *(f"Answer: {w}" for w in task.info["wrong"])]


def _renal_facts(rng: random.Random, drug: Drug, weight_kg: float) -> tuple[int, float, str, bool, float]:
    """Age, SCr (mg/dL and as shown), sex and CrCl, redrawn until CrCl is clear of every band edge."""
    while True:
        age = rng.randint(20, 90)
        female = rng.random() < 0.5
        if rng.random() < 0.4:
            umol = rng.randint(50, 400)
            scr, scr_text = umol / UMOL_PER_MG_DL, f"{umol} umol/L"
        else:
            scr = round(rng.uniform(0.6, 4.5), 1)
            scr_text = f"{scr} mg/dL"
        clearance = crcl(age, weight_kg, scr, female)
        if all(abs(clearance - low) > BAND_MARGIN for low, _ in drug.bands if low):
            return age, scr, scr_text, female, clearance


def _exact(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _unit_factor(source: str, target: str) -> float:
    return {("mg", "mcg"): 1000.0, ("mcg", "mg"): 0.001}.get((source, target), 1.0)
