"""The README walkthrough, done from Python against the live service."""

from __future__ import annotations

import math
import statistics
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

import trialdesk
from conftest import ELIGIBLE, enroll, smcm_trial


def welch(x: list[float], y: list[float]) -> tuple[float, float]:
    """Welch's t and Satterthwaite df, by the textbook formulas."""
    vx, vy = statistics.variance(x) / len(x), statistics.variance(y) / len(y)
    t = (statistics.mean(x) - statistics.mean(y)) / math.sqrt(vx + vy)
    df = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    return t, df


def test_the_readme_walkthrough(td: trialdesk.Client, service: tuple[str, str], tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    assert td.health()["status"] == "ok"
    assert service[1] not in repr(td) and service[1] not in str(td) and "hidden" in repr(td)

    # Trial set-up, sites, activation.
    trial = td.create_trial(smcm_trial(f"SMCM-PY-{uuid.uuid4().hex[:10]}"))
    assert trial["status"] == "setup"
    trial_id = trial["id"]
    sites = td.add_sites(trial_id, {c: f"ICCMW centre {c}" for c in "ABC"})
    assert [site["code"] for site in sites] == ["A", "B", "C"]
    active = td.activate(trial_id)
    assert active["status"] == "active" and len(active["allocationCommitment"]) == 64
    with pytest.raises(trialdesk.ConflictProblem) as duplicate:
        td.add_sites(trial_id, [{"code": "D", "name": "a new centre would add a stratum"}])
    assert duplicate.value.status == 409
    trials = td.trials(status="active")
    assert trial_id in set(trials["id"])

    # Screening: eligible, ineligible with reasons, and refused with every missing answer named.
    su = td.screen(
        trial_id,
        site="A",
        label="SU-0042",
        screened_on=date(2018, 3, 1),
        eligibility=ELIGIBLE,
        baseline={"age": 45, "sex": "female", "diagnosis": "depression", "onsetYears": 11},
    )
    assert su["status"] == "eligible"
    ineligible = td.screen(
        trial_id,
        site="B",
        label="SU-0043",
        screened_on="2018-03-01",
        eligibility={**ELIGIBLE, "chinese": False, "overt_symptoms": True},
    )
    assert (ineligible["status"], ineligible["unmetCriteria"]) == ("ineligible", ["chinese", "overt_symptoms"])
    with pytest.raises(trialdesk.ValidationProblem) as invalid:
        td.screen(trial_id, site="B", label="SU-0044", screened_on="2018-03-01", eligibility={"age18": True})
    assert "/eligibility/chinese" in invalid.value.pointers
    assert "/eligibility/chinese" in str(invalid.value)

    # Consent, then withdrawal before randomization.
    consent = td.consent(trial_id, su["id"], form="trial", version="1.0", signed_on="2018-03-02", obtained_by="IW")
    assert td.participant(trial_id, su["id"])["status"] == "consented"
    withdrawn = td.withdraw_consent(
        trial_id,
        su["id"],
        consent["id"],
        withdrawn_on="2018-09-01",
        reason="moved out of the district",
        scope="intervention",
    )
    assert withdrawn["withdrawal"]["scope"] == "intervention"
    assert td.participant(trial_id, su["id"])["status"] == "withdrawn"

    # Case workers, assigned to the arm whose service they deliver.
    experience = {"SMCM": [4.5, 2.0, 6.5, 3.0], "TAU": [12.0, 5.5, 1.0, 20.0]}
    for arm, years in experience.items():
        for i, value in enumerate(years):
            cw = td.screen(
                trial_id,
                site="A",
                role="case_worker",
                label=f"CW-{arm}-{i}",
                screened_on="2018-02-20",
                eligibility={},
                baseline={"experienceYears": value},
            )
            assert td.assign_case_worker(trial_id, cw["id"], arm=arm, reason="trained")["assignment"]["arm"] == arm

    # Randomization with an Idempotency-Key: a replay returns the same allocation, a new request is refused.
    people = [
        ("SU-0101", "A", 52, "female"),
        ("SU-0102", "A", 47, "male"),
        ("SU-0103", "B", 61, "female"),
        ("SU-0104", "C", 38, "female"),
    ]
    ids = [enroll(td, trial_id, *person) for person in people]
    allocations = [td.randomize(trial_id, pid, idempotency_key=f"rand-{pid}") for pid in ids]
    assert all(a["arm"] in ("SMCM", "TAU") for a in allocations)
    assert [a["stratum"]["site"] for a in allocations] == ["A", "A", "B", "C"]
    replay = td.randomize(trial_id, ids[0], idempotency_key=f"rand-{ids[0]}")
    assert replay["allocationId"] == allocations[0]["allocationId"]
    with pytest.raises(trialdesk.AlreadyRandomizedProblem):
        td.randomize(trial_id, ids[0], retries=0)

    # Follow-up, then CONSORT.
    today = datetime.now(timezone.utc).date()
    td.record_event(trial_id, ids[1], type="lost_to_follow_up", occurred_on=today, reason="moved to mainland China")
    td.record_event(trial_id, ids[2], type="follow_up_completed", occurred_on=today)
    counts = td.consort(trial_id)
    assert counts.as_of == today
    assert counts.enrollment["assessedForEligibility"] == 6
    assert counts.enrollment["excluded"]["total"] == 2
    assert counts.enrollment["randomized"] == 4
    assert list(counts.arms["arm"].cat.categories) == ["SMCM", "TAU"]
    assert counts.arms["allocated"].sum() == 4 and counts.arms["lost_to_follow_up"].sum() == 1
    assert counts.arms["analysed"].sum() == 4
    assert counts.enrollment["excluded"]["notMeetingInclusionCriteria"]["total"] == 1
    reasons = counts.excluded[counts.excluded["count"] > 0]
    assert sorted(zip(reasons["box"].astype(str), reasons["reason"])) == [
        ("declinedToParticipate", "withdrew consent"),
        ("notMeetingInclusionCriteria", "chinese"),
        ("notMeetingInclusionCriteria", "overt_symptoms"),
    ]
    svg = td.consort_svg(trial_id, tmp_path / "consort.svg")
    text = svg.read_text(encoding="utf-8")
    assert text.lstrip().startswith("<") and "<svg" in text and 'data-pointer="/enrollment/randomized"' in text

    # The allocation list, as a frame with categories in the trial's order.
    allocation_list = td.allocations(trial_id)
    assert sorted(allocation_list["participant_id"]) == sorted(ids)
    assert list(allocation_list["stratum_site"].cat.categories) == ["A", "B", "C"]
    assert list(allocation_list["arm"].cat.categories) == ["SMCM", "TAU"]
    assert isinstance(allocation_list["randomized_at"].dtype, pd.DatetimeTZDtype)

    # Table 1 of the service users: the ages by allocated arm, as the API computed them.
    table1 = td.baseline_table(trial_id)
    ages = dict(zip(ids, [p[2] for p in people]))
    arm_of = {a["participantId"]: a["arm"] for a in allocations}
    age_rows = table1.numbers[table1.numbers["variable"] == "age"].set_index("arm")
    for arm in ("SMCM", "TAU"):
        values = [ages[pid] for pid in ids if arm_of[pid] == arm]
        # Four people in three strata can all land in one arm; an empty arm has n = 0 and no mean.
        if arm not in age_rows.index:
            assert values == []
            continue
        assert age_rows.loc[arm, "n"] == len(values)
        if values:
            assert age_rows.loc[arm, "mean"] == pytest.approx(statistics.mean(values), abs=1e-12)
        else:
            assert pd.isna(age_rows.loc[arm, "mean"])
    assert list(table1.variables["variable"]) == ["age", "sex", "diagnosis", "onsetYears"]
    assert list(table1.categories["level"].cat.categories)[:2] == ["female", "male"]
    assert table1.arms["n"].sum() == 4

    # Table 1 of the case workers, with the Welch test on experience.
    workers = td.baseline_table(trial_id, role="case_worker", tests="welch")
    row = workers.variables.set_index("variable").loc["experienceYears"]
    t, df = welch(experience["SMCM"], experience["TAU"])
    assert row["test"] == "welch"
    assert row["statistic"] == pytest.approx(t, rel=1e-10) and row["df"] == pytest.approx(df, rel=1e-10)
    raw = td.t_test([{"label": arm, "values": values} for arm, values in experience.items()])
    assert row["p"] == pytest.approx(raw["p"], rel=1e-12)

    # The seed paper's comparison of case workers' experience from its summary statistics.
    paper = td.t_test(
        [{"label": "SMCM", "mean": 4.29, "sd": 2.08, "n": 7}, {"label": "TAU", "mean": 8.43, "sd": 8.24, "n": 7}]
    )
    assert (round(paper["t"], 2), round(paper["df"], 2), round(paper["p"], 2)) == (-1.29, 6.76, 0.24)

    # Participants: dates as datetime.date, categories with the trial's levels.
    participants = td.participants(trial_id)
    assert len(participants) == 14
    assert all(isinstance(value, date) for value in participants["screened_on"])
    assert list(participants["site"].cat.categories) == ["A", "B", "C"]
    assert participants["status"].value_counts()["randomized"] == 4

    # Coupons: the ledger and its totals.
    coupon = td.issue_incentive(
        trial_id, ids[2], incentive="interview_coupon", issued_on="2019-07-23", reference="coupon serial 004512"
    )
    assert (coupon["amount"], coupon["currency"]) == (50, "HKD")
    ledger = td.incentives(trial_id)
    assert len(ledger) == 1 and ledger["issued_on"].iloc[0] == date(2019, 7, 23)
    assert list(ledger["incentive"].cat.categories) == ["interview_coupon"]
    assert td.incentive_summary(trial_id)["byType"][0]["netAmount"] == 50

    # The audit trail and its hash chain.
    audit = td.audit(trial_id)
    assert list(audit["action"][:5]) == [
        "trial.created",
        "site.created",
        "site.created",
        "site.created",
        "trial.activated",
    ]
    assert list(audit["sequence"]) == list(range(1, len(audit) + 1))
    assert audit["occurred_at"].dt.tz is not None
    verification = td.verify_audit(trial_id)
    assert verification["valid"] is True and verification["rowsChecked"] == len(audit)


def test_lists_of_dicts_without_pandas(service: tuple[str, str], active_trial) -> None:
    td = trialdesk.Client(*service, as_frames=False)
    enroll(td, active_trial.id, "SU-0001", "B", 40, "male")
    rows = td.participants(active_trial.id)
    assert isinstance(rows, list) and rows[0]["site"] == "B" and rows[0]["screened_on"] == date(2018, 3, 5)
    assert isinstance(rows[0]["created_at"], datetime) and rows[0]["created_at"].tzinfo is not None
