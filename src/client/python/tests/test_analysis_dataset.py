"""The analysis dataset and its data dictionary as frames: types, levels, one row per participant and visit,
pages followed, and arms masked for a blinded key."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pandas as pd

import trialdesk
from conftest import ELIGIBLE, smcm_trial

HOPE_ITEMS = [3, 4, 2, 3, 3, 4, 3, 2, 3, 4, 3, 2]  # items 3 and 6 reverse-scored: sum 34

FOLLOW_UP: dict[str, Any] = {
    "visits": [
        {"code": "baseline", "label": "Baseline interview", "day": 0, "windowBefore": 30, "windowAfter": 14},
        {"code": "m6", "label": "6-month follow-up", "day": 182, "windowBefore": 30, "windowAfter": 30},
        {"code": "m12", "label": "12-month follow-up", "day": 365, "windowBefore": 30, "windowAfter": 30},
    ],
    "measures": [
        {
            "code": "hope",
            "label": "Herth Hope Index",
            "type": "scale",
            "items": 12,
            "itemMin": 1,
            "itemMax": 4,
            "reverseItems": [3, 6],
            "score": "sum",
            "maxMissingItems": 1,
            "visits": ["baseline", "m6", "m12"],
            "primary": True,
        },
        {"code": "employed", "label": "In paid employment", "type": "binary", "visits": ["baseline", "m6", "m12"]},
        {"code": "admissions", "label": "Psychiatric admissions", "type": "count", "max": 50, "visits": ["m6", "m12"]},
        {
            "code": "living",
            "label": "Living arrangement",
            "type": "category",
            "levels": ["alone", "family", "hostel"],
            "visits": ["baseline", "m12"],
        },
    ],
    "primaryVisit": "m12",
}


def follow_up_trial(td: trialdesk.Client) -> tuple[str, list[str]]:
    """An active SMCM trial with visits and measures, three randomized service users; baseline and 6-month
    assessments recorded for the first, a baseline for the second."""
    trial = td.create_trial({**smcm_trial(f"SMCM-PY-{uuid.uuid4().hex[:10]}"), **FOLLOW_UP})
    td.add_sites(trial["id"], {c: f"ICCMW centre {c}" for c in "ABC"})
    td.activate(trial["id"])
    ids = []
    for i, site in enumerate("ABA"):
        participant = td.screen(
            trial["id"],
            site=site,
            label=f"FU-{i}",
            screened_on="2018-03-05",
            eligibility=ELIGIBLE,
            baseline={"age": 30 + i, "sex": "male", "diagnosis": "depression", "onsetYears": 2},
        )
        td.consent(
            trial["id"], participant["id"], form="trial", version="1.0", signed_on="2018-03-06", obtained_by="IW"
        )
        td.randomize(trial["id"], participant["id"])
        ids.append(participant["id"])
    today = datetime.now(timezone.utc).date()
    baseline = td.record_assessment(
        trial["id"],
        ids[0],
        visit="baseline",
        assessed_on=today,
        values={"hope": {"items": HOPE_ITEMS}, "employed": False, "living": "family"},
        assessor="IW",
    )
    assert baseline["scores"]["hope"]["score"] == 34
    td.record_assessment(
        trial["id"],
        ids[0],
        visit="m6",
        assessed_on=today,
        values={"hope": {"items": [*HOPE_ITEMS[:11], None]}, "employed": True, "admissions": 2},
    )
    td.record_assessment(trial["id"], ids[1], visit="baseline", assessed_on=today, values={"employed": True})
    return trial["id"], ids


def test_the_analysis_dataset_as_a_typed_frame_over_pages(service: tuple[str, str]) -> None:
    td = trialdesk.Client(*service, page_size=2)
    trial_id, ids = follow_up_trial(td)
    pages: list[str] = []
    td.session.hooks["response"].append(lambda response, *args, **kwargs: pages.append(response.request.url))

    data = td.analysis_dataset(trial_id)
    assert sum("/analysis-dataset?" in url for url in pages) == 5  # 9 rows, 2 a page
    assert len(data) == 9
    assert sorted(zip(data["participantId"], data["visit"].astype(str))) == sorted(
        (pid, visit) for pid in ids for visit in ["baseline", "m6", "m12"]
    )
    assert list(data["visit"].cat.categories) == ["baseline", "m6", "m12"]
    assert list(data.loc[data["participantId"] == ids[0], "visit"].astype(str)) == ["baseline", "m6", "m12"]
    assert list(data["arm"].cat.categories) == ["SMCM", "TAU"]
    assert set(data["arm"].astype(str)) <= {"SMCM", "TAU"}
    assert list(data["siteCode"].cat.categories) == ["A", "B", "C"]
    assert list(data["living"].cat.categories) == ["alone", "family", "hostel"]
    assert str(data["status"].dtype) == "category" and "completed" in set(data["status"].astype(str))
    assert all(isinstance(d, date) for d in data["randomizedOn"])
    assert all(isinstance(d, date) for d in data["targetDate"])
    assert str(data["hope"].dtype) == "float64"
    assert str(data["admissions"].dtype) == "Int64" and str(data["daysFromRandomization"].dtype) == "Int64"
    assert str(data["employed"].dtype) == "boolean" and str(data["inWindow"].dtype) == "boolean"
    assert data["population_itt"].all()

    rows = data.set_index(["participantId", data["visit"].astype(str)])
    first_m6 = rows.loc[(ids[0], "m6")]
    assert first_m6["hope_baseline"] == 34 and not first_m6["employed_baseline"]
    assert first_m6["employed"] and first_m6["admissions"] == 2
    assert abs(first_m6["hope"] - 32 / 11 * 12) < 1e-9  # one item unanswered: prorated
    assert first_m6["status"] == "completed" and first_m6["daysFromRandomization"] == 0
    assert first_m6["targetDate"] == first_m6["randomizedOn"] + timedelta(days=182)
    assert rows.loc[(ids[0], "baseline")]["living"] == "family"
    assert pd.isna(rows.loc[(ids[1], "baseline")]["hope"]) and rows.loc[(ids[1], "baseline")]["employed"]
    assert pd.isna(rows.loc[(ids[2], "m6")]["assessedOn"]) and pd.isna(rows.loc[(ids[2], "m6")]["admissions"])
    assert rows.loc[(ids[2], "m12")]["status"] == "not_due"

    dictionary = td.data_dictionary(trial_id)
    assert list(dictionary["name"]) == list(data.columns)
    assert list(dictionary["type"].cat.categories) == ["string", "date", "integer", "number", "boolean", "category"]
    hope = dictionary.set_index("name").loc["hope"]
    assert hope["label"] == "Herth Hope Index" and hope["type"] == "number" and hope["range"] == "12-48"
    with_items = td.analysis_dataset(trial_id, items=True)
    assert str(with_items["hope_item12"].dtype) == "Int64"
    first = (with_items["participantId"] == ids[0]) & (with_items["visit"] == "m6")
    assert with_items.loc[first, "hope_item1"].item() == 3


def test_a_blinded_key_sees_masked_arms_and_lists_of_dicts_without_pandas(
    td: trialdesk.Client, service: tuple[str, str]
) -> None:
    trial_id, ids = follow_up_trial(td)
    created = td.create_api_key("Blinded statistician", "statistician", trial_ids=[trial_id], blinded=True)
    blinded = trialdesk.Client(service[0], created["key"])
    data = blinded.analysis_dataset(trial_id)
    assert len(data) == 9
    assert set(data["arm"].cat.categories) == {"Group 1", "Group 2"}
    assert set(data["arm"].astype(str)) <= {"Group 1", "Group 2"}
    assert not {"SMCM", "TAU"} & set(data.astype(str).to_numpy().ravel())

    plain = trialdesk.Client(service[0], created["key"], as_frames=False)
    rows = plain.analysis_dataset(trial_id)
    assert isinstance(rows, list) and len(rows) == 9
    assert isinstance(rows[0]["randomizedOn"], date) and rows[0]["arm"] in {"Group 1", "Group 2"}
    assert plain.data_dictionary(trial_id)[0] == {
        "name": "participantId",
        "label": "Participant id",
        "type": "string",
        "unit": None,
        "range": None,
        "scoring": None,
    }
