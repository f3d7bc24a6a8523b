"""Tests run against a live trialdesk service: TRIALDESK_TEST_URL and TRIALDESK_TEST_ADMIN_KEY (an unscoped admin
key). scripts/test-clients.sh starts one on the embedded database and sets both."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest

import trialdesk

ELIGIBLE = {
    "age18": True,
    "chinese": True,
    "cantonese": True,
    "written_consent": True,
    "immediate_risk": False,
    "overt_symptoms": False,
}


def smcm_trial(code: str) -> dict[str, Any]:
    """The README walkthrough's SMCM trial (seed paper: SMCM vs TAU, three Hong Kong centres)."""
    return {
        "code": code,
        "title": "Strengths model case management vs treatment as usual",
        "registry": "ACTRN12617001435370",
        "arms": [
            {"code": "SMCM", "name": "Strengths model case management", "ratio": 1},
            {"code": "TAU", "name": "Treatment as usual", "ratio": 1},
        ],
        "randomization": {"method": "permuted_block", "blockSizes": [2, 4, 6], "stratifyBy": ["site"]},
        "eligibility": [
            {"code": "age18", "kind": "inclusion", "text": "Aged 18 or above"},
            {"code": "chinese", "kind": "inclusion", "text": "Ethnically Chinese"},
            {"code": "cantonese", "kind": "inclusion", "text": "Cantonese speaking"},
            {"code": "written_consent", "kind": "inclusion", "text": "Able to give written informed consent"},
            {"code": "immediate_risk", "kind": "exclusion", "text": "Likely to engage in immediate risk behaviour"},
            {"code": "overt_symptoms", "kind": "exclusion", "text": "Overt symptoms"},
        ],
        "consentForms": [
            {"code": "trial", "version": "1.0", "required": True},
            {"code": "audio", "version": "1.0", "required": False},
        ],
        "baselineVariables": [
            {"name": "age", "type": "number", "unit": "years", "min": 18, "max": 120},
            {"name": "sex", "type": "category", "levels": ["female", "male"]},
            {
                "name": "diagnosis",
                "type": "category",
                "levels": ["schizophrenia", "depression", "bipolar", "adjustment", "anxiety", "other"],
            },
            {"name": "onsetYears", "type": "number", "unit": "years", "min": 0},
            {"name": "experienceYears", "type": "number", "unit": "years", "min": 0, "roles": ["case_worker"]},
        ],
        "incentives": [
            {
                "code": "interview_coupon",
                "description": "Supermarket coupon for the interview",
                "amount": 50,
                "currency": "HKD",
                "roles": ["service_user"],
                "maxPerParticipant": 1,
            }
        ],
    }


@pytest.fixture(scope="session")
def service() -> tuple[str, str]:
    url = os.environ.get("TRIALDESK_TEST_URL")
    key = os.environ.get("TRIALDESK_TEST_ADMIN_KEY")
    if not url or not key:
        pytest.skip("no service: set TRIALDESK_TEST_URL and TRIALDESK_TEST_ADMIN_KEY (scripts/test-clients.sh does)")
    return url, key


@pytest.fixture
def td(service: tuple[str, str]) -> trialdesk.Client:
    url, key = service
    return trialdesk.Client(url, key)


@dataclass
class ActiveTrial:
    id: str
    code: str
    enrolled: list[str] = field(default_factory=list)


@pytest.fixture
def active_trial(td: trialdesk.Client) -> ActiveTrial:
    """A new SMCM trial with centres A, B and C, activated."""
    code = f"SMCM-PY-{uuid.uuid4().hex[:10]}"
    trial = td.create_trial(smcm_trial(code))
    td.add_sites(trial["id"], {c: f"ICCMW centre {c}" for c in "ABC"})
    td.activate(trial["id"])
    return ActiveTrial(trial["id"], code)


def enroll(td: trialdesk.Client, trial_id: str, label: str, site: str, age: float, sex: str) -> str:
    """Screens an eligible service user and records written consent to the required form; the participant id."""
    participant = td.screen(
        trial_id,
        site=site,
        label=label,
        screened_on="2018-03-05",
        eligibility=ELIGIBLE,
        baseline={"age": age, "sex": sex, "diagnosis": "schizophrenia", "onsetYears": 8},
    )
    td.consent(trial_id, participant["id"], form="trial", version="1.0", signed_on="2018-03-06", obtained_by="IW")
    return participant["id"]
