"""Blinded keys, pagination, safe retries of randomization, and problems raised as typed exceptions."""

from __future__ import annotations

import pytest
import requests

import trialdesk
from conftest import ActiveTrial, enroll
from trialdesk.problems import problem_from_answer


def test_a_blinded_key_sees_masked_groups_and_no_allocation_list(
    td: trialdesk.Client, service: tuple[str, str], active_trial: ActiveTrial
) -> None:
    for i, site in enumerate("AABC"):
        pid = enroll(td, active_trial.id, f"SU-{i}", site, 30 + i, "female")
        td.randomize(active_trial.id, pid)
    created = td.create_api_key("Blinded statistician", "statistician", trial_ids=[active_trial.id], blinded=True)
    assert created["blinded"] is True
    blinded = trialdesk.Client(service[0], created["key"])
    assert created["key"] not in repr(blinded)

    masked = {"Group 1", "Group 2"}
    assert {arm["code"] for arm in blinded.trial(active_trial.id)["arms"]} == masked
    counts = blinded.consort(active_trial.id)
    assert set(counts.arms["arm"].cat.categories) == masked
    assert set(counts.arms["arm"]) <= masked and counts.arms["allocated"].sum() == 4
    table1 = blinded.baseline_table(active_trial.id)
    assert set(table1.arms["arm"]) == masked
    assert not {"SMCM", "TAU"} & set(table1.numbers["arm"].astype(str))
    with pytest.raises(trialdesk.ForbiddenProblem) as refused:
        blinded.allocations(active_trial.id)
    assert refused.value.status == 403 and created["key"] not in str(refused.value)


def test_lists_are_followed_across_pages(service: tuple[str, str], active_trial: ActiveTrial) -> None:
    td = trialdesk.Client(*service, page_size=2)
    pages: list[str] = []
    td.session.hooks["response"].append(lambda response, *args, **kwargs: pages.append(response.request.url))
    labels = [f"SU-P{i}" for i in range(7)]
    for label in labels:
        enroll(td, active_trial.id, label, "A", 50, "male")

    pages.clear()
    participants = td.participants(active_trial.id)
    assert list(participants["label"]) == labels
    assert sum("/participants" in url for url in pages) == 4  # 2 + 2 + 2 + 1
    assert sum("cursor=" in url for url in pages) == 3

    audit = td.audit(active_trial.id)
    assert list(audit["sequence"]) == list(range(1, len(audit) + 1)) and len(audit) > 2
    assert any("after=" in url for url in pages)


class LoseFirstAnswer(requests.adapters.HTTPAdapter):
    """Sends each request to the service, but loses the answer to the first randomization (a dropped connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.randomizations: list[str | None] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        response = super().send(request, **kwargs)
        if request.url.endswith("/randomization"):
            self.randomizations.append(request.headers.get("Idempotency-Key"))
            if len(self.randomizations) == 1:
                raise requests.ConnectionError("connection reset after the request was sent")
        return response


def test_an_idempotent_retry_randomizes_once(service: tuple[str, str], active_trial: ActiveTrial) -> None:
    td = trialdesk.Client(*service)
    pid = enroll(td, active_trial.id, "SU-R1", "B", 44, "female")
    adapter = LoseFirstAnswer()
    td.session.mount("http://", adapter)

    allocation = td.randomize(active_trial.id, pid, backoff=0.01)

    assert len(adapter.randomizations) == 2 and adapter.randomizations[0] == adapter.randomizations[1]
    assert adapter.randomizations[0]
    allocations = td.allocations(active_trial.id)
    assert list(allocations["participant_id"]) == [pid]
    assert td.participant(active_trial.id, pid)["allocation"]["allocationId"] == allocation["allocationId"]
    assert list(td.audit(active_trial.id)["action"]).count("participant.randomized") == 1


def test_problems_are_typed_and_name_their_pointers(
    td: trialdesk.Client, service: tuple[str, str], active_trial: ActiveTrial
) -> None:
    with pytest.raises(trialdesk.NotFoundProblem):
        td.trial("00000000-0000-4000-8000-000000000000")
    with pytest.raises(trialdesk.UnauthorizedProblem) as unauthorized:
        trialdesk.Client(service[0], "td_not-a-key-" + "x" * 30).trials()
    assert unauthorized.value.slug == "unauthorized" and "x" * 30 not in str(unauthorized.value)
    with pytest.raises(trialdesk.ValidationProblem) as invalid:
        td.screen(active_trial.id, site="A", label="SU-X", screened_on="2018-13-45", eligibility={})
    problem = invalid.value
    assert problem.status == 422 and problem.request_id
    assert "/screenedOn" in problem.pointers and "/screenedOn" in str(problem)
    pid = enroll(td, active_trial.id, "SU-C", "C", 33, "male")
    td.randomize(active_trial.id, pid)
    with pytest.raises(trialdesk.AlreadyRandomizedProblem) as again:
        td.randomize(active_trial.id, pid, retries=0)
    assert isinstance(again.value, trialdesk.ConflictProblem) and again.value.slug == "already-randomized"


def test_the_client_sends_only_what_operations_json_declares(td: trialdesk.Client) -> None:
    with pytest.raises(ValueError, match="does not declare"):
        td.request("listParticipants", {"trialId": "x"}, query={"sort": "label"})


def test_an_answer_that_is_not_problem_json_still_becomes_a_problem() -> None:
    problem = problem_from_answer(502, "Bad Gateway", "<html>proxy</html>", {"Retry-After": "3"})
    assert isinstance(problem, trialdesk.ServerProblem) and problem.type == "about:blank" and problem.retry_after == 3
    conflict = problem_from_answer(
        409,
        "Conflict",
        {"type": "https://trialdesk.dev/problems/list-exhausted", "title": "Conflict", "status": 409, "detail": "d"},
        {},
    )
    assert type(conflict) is trialdesk.ConflictProblem and conflict.slug == "list-exhausted"
