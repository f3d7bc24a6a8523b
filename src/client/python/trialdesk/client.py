"""The trialdesk client: one method per task a statistician or data manager scripts."""

from __future__ import annotations

import json
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar
from urllib.parse import quote

import requests

from .frames import Column, Frame, camel_columns, frame, pandas_available, parse_date
from .problems import (
    IdempotencyKeyInUseProblem,
    RateLimitedProblem,
    ServerProblem,
    TrialdeskProblem,
    problem_from_answer,
)

KEY_ENV = "TRIALDESK_API_KEY"
URL_ENV = "TRIALDESK_URL"
JSON = "application/json"

T = TypeVar("T")


def _load_operations() -> dict[str, dict[str, Any]]:
    table = json.loads(resources.files(__package__).joinpath("operations.json").read_text(encoding="utf-8"))
    return {operation["operationId"]: operation for operation in table["operations"]}


def _load_enums() -> dict[str, list[str]]:
    table = json.loads(resources.files(__package__).joinpath("operations.json").read_text(encoding="utf-8"))
    return dict(table["enums"])


OPERATIONS = _load_operations()
ENUMS = _load_enums()


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _json_ready(value: Any) -> Any:
    """Request bodies with `datetime.date` values written as `YYYY-MM-DD`."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {key: _json_ready(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(item) for item in value]
    return value


def _drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


@dataclass
class ConsortCounts:
    """CONSORT flow counts: `enrollment` as the API gives it, `arms` one row per arm, `excluded` one row per reason."""

    trial_id: str
    as_of: date
    enrollment: dict[str, Any]
    arms: Frame
    excluded: Frame
    raw: dict[str, Any] = field(repr=False)


@dataclass
class BaselineTable:
    """Table 1: `variables` (one row per variable, with SMD and test), `numbers` and `categories` by arm."""

    trial_id: str
    role: str
    as_of: date | None
    arms: Frame
    variables: Frame
    numbers: Frame
    categories: Frame
    note: str
    raw: dict[str, Any] = field(repr=False)


class Client:
    """A trialdesk service and an API key.

    The key is read from `TRIALDESK_API_KEY` unless given, and is never shown by `repr`, `str` or any
    exception. Lists are followed across pages; frames are pandas DataFrames when pandas is importable
    (`as_frames=False` asks for lists of dicts).
    """

    def __init__(
        self,
        url: str | None = None,
        key: str | None = None,
        *,
        page_size: int = 500,
        timeout: float = 30.0,
        as_frames: bool | None = None,
        session: requests.Session | None = None,
    ) -> None:
        url = url or os.environ.get(URL_ENV)
        if not url:
            raise ValueError(f"give the service URL, or set {URL_ENV}")
        key = key or os.environ.get(KEY_ENV)
        if not key:
            raise ValueError(f"give an API key, or set {KEY_ENV}")
        self.url = url.rstrip("/")
        self.__key = key
        self.page_size = page_size
        self.timeout = timeout
        self.as_frames = pandas_available() if as_frames is None else as_frames
        self.session = session or requests.Session()

    def __repr__(self) -> str:
        return f"<trialdesk.Client {self.url} key=<hidden>>"

    __str__ = __repr__

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("a trialdesk.Client holds an API key and is not pickled")

    # ---- transport -------------------------------------------------------------------------------

    def request(
        self,
        operation_id: str,
        path: Mapping[str, str] | None = None,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """Calls one operation of the table in operations.json; the parsed JSON (or text) of a 2xx answer.

        Raises a `TrialdeskProblem` subclass for an error answer, and `ValueError` for a query parameter or
        header the table does not declare (so the client can use nothing the contract check does not cover).
        """
        operation = OPERATIONS[operation_id]
        undeclared = set(query or {}) - set(operation.get("query", []))
        undeclared |= set(headers or {}) - set(operation.get("headers", []))
        if undeclared:
            raise ValueError(f"{operation_id} does not declare {sorted(undeclared)} in operations.json")
        url = self.url + operation["path"].format(
            **{name: quote(str(value), safe="") for name, value in (path or {}).items()}
        )
        accept = operation.get("accept", JSON)
        response = self.session.request(
            operation["method"].upper(),
            url,
            params={name: _query_value(value) for name, value in _drop_none(query or {}).items()},
            json=None if body is None else _json_ready(body),
            headers={"Authorization": f"Bearer {self.__key}", "Accept": accept, **(headers or {})},
            timeout=self.timeout,
        )
        if not response.ok:
            try:
                problem = response.json()
            except ValueError:
                problem = response.text
            raise problem_from_answer(response.status_code, response.reason, problem, response.headers)
        return response.json() if accept == JSON else response.text

    def _pages(
        self, operation_id: str, path: Mapping[str, str], query: Mapping[str, Any], cursor: str = "cursor"
    ) -> Iterator[dict[str, Any]]:
        """Every item of a cursor-paginated list, page after page until `nextCursor` is null."""
        query = {**query, "limit": self.page_size}
        while True:
            page = self.request(operation_id, path, query=query)
            yield from page["items"]
            if page["nextCursor"] is None:
                return
            query = {**query, cursor: page["nextCursor"]}

    @staticmethod
    def _retrying(call: Callable[[], T], retries: int, backoff: float) -> T:
        """Resends `call` after a lost connection, a timeout, a 5xx, a 429 or a 409 `idempotency-key-in-use`."""
        for attempt in range(retries + 1):
            try:
                return call()
            except (
                requests.ConnectionError,
                requests.Timeout,
                ServerProblem,
                RateLimitedProblem,
                IdempotencyKeyInUseProblem,
            ) as error:
                if attempt >= retries:
                    raise
                wait = error.retry_after if isinstance(error, TrialdeskProblem) else None
                time.sleep(wait if wait is not None else backoff * 2**attempt)
        raise AssertionError("unreachable")

    # ---- service and trials ----------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self.request("getHealth")

    def trial(self, trial_id: str) -> dict[str, Any]:
        """The trial's configuration as this key sees it (arms masked as `Group n` for blinded keys)."""
        return self.request("getTrial", {"trialId": trial_id})

    def trials(self, status: str | None = None) -> Frame:
        rows = list(self._pages("listTrials", {}, {"status": status}))
        columns = camel_columns(
            ["id", "code", "title", "registry", "status", "version", "createdAt", "activatedAt", "closedAt"],
            status=("category", ["setup", "active", "closed"]),
            createdAt=("instant", None),
            activatedAt=("instant", None),
            closedAt=("instant", None),
        )
        return frame(rows, columns, self.as_frames)

    def create_trial(self, configuration: Mapping[str, Any]) -> dict[str, Any]:
        return self.request("createTrial", body=configuration)

    def add_sites(self, trial_id: str, sites: Mapping[str, str] | Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        """Adds sites, given as `{code: name}` or as `[{"code": ..., "name": ...}]`."""
        items = (
            [{"code": code, "name": name} for code, name in sites.items()]
            if isinstance(sites, Mapping)
            else list(sites)
        )
        return [self.request("createSite", {"trialId": trial_id}, body=site) for site in items]

    def activate(self, trial_id: str) -> dict[str, Any]:
        return self.request("activateTrial", {"trialId": trial_id})

    def create_api_key(
        self,
        name: str,
        role: str,
        *,
        trial_ids: Sequence[str] | None = None,
        site_codes: Sequence[str] | None = None,
        blinded: bool = False,
    ) -> dict[str, Any]:
        """A new API key; its secret is in `["key"]` of the result, shown once."""
        body = _drop_none(
            {"name": name, "role": role, "trialIds": trial_ids, "siteCodes": site_codes, "blinded": blinded}
        )
        return self.request("createApiKey", body=body)

    # ---- participants ----------------------------------------------------------------------------

    def participants(
        self, trial_id: str, *, site: str | None = None, role: str | None = None, status: str | None = None
    ) -> Frame:
        """Every participant (all pages), in screening order; site, role and status are categories."""
        trial = self.trial(trial_id)
        rows = list(
            self._pages("listParticipants", {"trialId": trial_id}, {"siteCode": site, "role": role, "status": status})
        )
        columns = [
            Column("id"),
            Column("label"),
            Column("site", "siteCode", "category", [s["code"] for s in trial["sites"]]),
            Column("role", "role", "category", ENUMS["ParticipantRole"]),
            Column("status", "status", "category", ENUMS["ParticipantStatus"]),
            Column("screened_on", "screenedOn", "date"),
            Column("eligible"),
            Column("unmet_criteria", "unmetCriteria"),
            Column("reconsent_required", "reconsentRequired"),
            Column("created_at", "createdAt", "instant"),
        ]
        return frame(rows, columns, self.as_frames)

    def participant(self, trial_id: str, participant_id: str) -> dict[str, Any]:
        return self.request("getParticipant", {"trialId": trial_id, "participantId": participant_id})

    def screen(
        self,
        trial_id: str,
        *,
        site: str,
        label: str,
        screened_on: date | str,
        eligibility: Mapping[str, bool],
        baseline: Mapping[str, Any] | None = None,
        role: str = "service_user",
    ) -> dict[str, Any]:
        body = _drop_none(
            {
                "siteCode": site,
                "role": role,
                "label": label,
                "screenedOn": screened_on,
                "eligibility": eligibility,
                "baseline": baseline,
            }
        )
        return self.request("screenParticipant", {"trialId": trial_id}, body=body)

    def consent(
        self,
        trial_id: str,
        participant_id: str,
        *,
        form: str,
        version: str,
        signed_on: date | str,
        obtained_by: str,
        decision: str = "granted",
        method: str = "written",
        reason: str | None = None,
    ) -> dict[str, Any]:
        body = _drop_none(
            {
                "form": form,
                "version": version,
                "decision": decision,
                "signedOn": signed_on,
                "obtainedBy": obtained_by,
                "method": method,
                "reason": reason,
            }
        )
        return self.request("recordConsent", {"trialId": trial_id, "participantId": participant_id}, body=body)

    def withdraw_consent(
        self, trial_id: str, participant_id: str, consent_id: str, *, withdrawn_on: date | str, reason: str, scope: str
    ) -> dict[str, Any]:
        path = {"trialId": trial_id, "participantId": participant_id, "consentId": consent_id}
        return self.request(
            "withdrawConsent", path, body={"withdrawnOn": withdrawn_on, "reason": reason, "scope": scope}
        )

    def assign_case_worker(self, trial_id: str, participant_id: str, *, arm: str, reason: str) -> dict[str, Any]:
        path = {"trialId": trial_id, "participantId": participant_id}
        return self.request("assignCaseWorker", path, body={"arm": arm, "reason": reason})

    def randomize(
        self,
        trial_id: str,
        participant_id: str,
        *,
        idempotency_key: str | None = None,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> dict[str, Any]:
        """Randomizes once. Every attempt carries the same `Idempotency-Key` (a new UUID unless given), so
        a retry after a lost answer returns the first allocation instead of drawing a second one."""
        key = idempotency_key or str(uuid.uuid4())
        path = {"trialId": trial_id, "participantId": participant_id}
        allocation = self._retrying(
            lambda: self.request("randomizeParticipant", path, headers={"Idempotency-Key": key}), retries, backoff
        )
        return allocation

    def record_event(
        self, trial_id: str, participant_id: str, *, type: str, occurred_on: date | str, reason: str | None = None
    ) -> dict[str, Any]:
        body = _drop_none({"type": type, "occurredOn": occurred_on, "reason": reason})
        return self.request("recordEvent", {"trialId": trial_id, "participantId": participant_id}, body=body)

    def allocations(self, trial_id: str) -> Frame:
        """The allocation list (unblinded statisticians and admins): one row per allocation, the stratum
        factors as `stratum_<name>` columns."""
        trial = self.trial(trial_id)
        rows = list(self._pages("listAllocations", {"trialId": trial_id}, {}))
        factors = list(dict.fromkeys(name for row in rows for name in row["stratum"]))
        stratum_columns = [
            Column(f"stratum_{name}", f"stratum.{name}", "category", self._levels_of(trial, name)) for name in factors
        ]
        columns = [
            Column("sequence_number", "sequenceNumber"),
            *stratum_columns,
            Column("stratum_key", "stratumKey"),
            Column("block_number", "blockNumber"),
            Column("block_size", "blockSize"),
            Column("position_in_block", "positionInBlock"),
            Column("arm", "arm", "category", [arm["code"] for arm in trial["arms"]]),
            Column("participant_id", "participantId"),
            Column("randomized_at", "randomizedAt", "instant"),
            Column("error_flag", "errorFlag"),
        ]
        return frame(rows, columns, self.as_frames)

    @staticmethod
    def _levels_of(trial: Mapping[str, Any], factor: str) -> list[str] | None:
        if factor == "site":
            return [site["code"] for site in trial["sites"]]
        for variable in trial["baselineVariables"]:
            if variable["name"] == factor:
                return list(variable.get("levels") or [])
        return None

    # ---- follow-up: assessments, the analysis dataset and its dictionary ------------------------------

    def record_assessment(
        self,
        trial_id: str,
        participant_id: str,
        *,
        visit: str,
        assessed_on: date | str,
        values: Mapping[str, Any],
        assessor: str | None = None,
    ) -> dict[str, Any]:
        """Records a visit's outcome assessment (a scale as `{"items": [3, 4, None, ...]}`); the scores."""
        body = _drop_none({"visit": visit, "assessedOn": assessed_on, "assessor": assessor, "values": dict(values)})
        return self.request("recordAssessment", {"trialId": trial_id, "participantId": participant_id}, body=body)

    def data_dictionary(self, trial_id: str, *, items: bool = False) -> Frame:
        """One row per column of the analysis dataset: name, label, type, unit, range, scoring rule."""
        dictionary = self.request("getAnalysisDatasetDictionary", {"trialId": trial_id}, query={"items": items})
        types = ENUMS["AnalysisDatasetDictionary/properties/columns/items/properties/type"]
        columns = [
            Column("name"),
            Column("label"),
            Column("type", "type", "category", types),
            Column("unit"),
            Column("range"),
            Column("scoring"),
        ]
        return frame(dictionary["columns"], columns, self.as_frames)

    def analysis_dataset(self, trial_id: str, *, items: bool = False) -> Frame:
        """The analysis dataset, one row per randomized service user and visit, typed by its dictionary.

        Column names are the service's (`participantId`, `siteCode`, `arm`, `randomizedOn`, `visit`, ...,
        `population_itt`, each measure's score and `<measure>_baseline`; with `items` every scale item).
        Dates are `datetime.date`; integers, scores and flags are nullable Int64, float64 and boolean columns
        in a DataFrame; `siteCode`, `arm` (`Group n` for blinded keys), `visit` (in the trial's visit order),
        `status` and category measures are categoricals with the trial's levels in order.
        """
        trial = self.trial(trial_id)
        dictionary = self.request("getAnalysisDatasetDictionary", {"trialId": trial_id}, query={"items": items})
        rows = list(self._pages("getAnalysisDataset", {"trialId": trial_id}, {"items": items}))
        levels: dict[str, list[str] | None] = {
            "siteCode": [site["code"] for site in trial["sites"]],
            "arm": [arm["code"] for arm in trial["arms"]],
            "visit": [visit["code"] for visit in trial["visits"]],
            "status": ENUMS["VisitStatus"],
        }
        for measure in trial["measures"]:
            if measure["type"] == "category":
                levels[measure["code"]] = levels[f"{measure['code']}_baseline"] = list(measure["levels"])
        columns = []
        for column in dictionary["columns"]:
            name, kind = column["name"], column["type"]
            if name in levels:
                columns.append(Column(name, name, "category", levels[name]))
            elif kind in ("date", "integer", "number", "boolean", "category"):
                columns.append(Column(name, name, kind, levels.get(name)))
            else:
                columns.append(Column(name))
        return frame(rows, columns, self.as_frames)

    # ---- CONSORT and Table 1 ---------------------------------------------------------------------

    def consort(self, trial_id: str, *, as_of: date | str | None = None, site: str | None = None) -> ConsortCounts:
        trial = self.trial(trial_id)
        report = self.request("getConsortCounts", {"trialId": trial_id}, query={"asOf": as_of, "siteCode": site})
        arm_levels = [arm["code"] for arm in trial["arms"]]
        arms = frame(
            report["arms"],
            [
                Column("arm", "arm", "category", arm_levels),
                Column("allocated"),
                Column("received", "receivedAllocatedIntervention"),
                Column("did_not_receive", "didNotReceiveAllocatedIntervention.total"),
                Column("lost_to_follow_up", "lostToFollowUp.total"),
                Column("discontinued", "discontinuedIntervention.total"),
                Column("excluded_from_analysis", "excludedFromAnalysis.total"),
                Column("analysed"),
            ],
            self.as_frames,
        )
        excluded = report["enrollment"]["excluded"]
        reasons = [
            {"box": box, "reason": reason["reason"], "text": reason.get("text"), "count": reason["count"]}
            for box in ("notMeetingInclusionCriteria", "declinedToParticipate", "otherReasons")
            for reason in excluded[box]["reasons"]
        ]
        excluded_frame = frame(
            reasons,
            [
                Column(
                    "box", "box", "category", ["notMeetingInclusionCriteria", "declinedToParticipate", "otherReasons"]
                ),
                Column("reason"),
                Column("text"),
                Column("count"),
            ],
            self.as_frames,
        )
        as_of = parse_date(report["asOf"])
        assert as_of is not None  # the contract requires asOf
        return ConsortCounts(report["trialId"], as_of, report["enrollment"], arms, excluded_frame, report)

    def consort_svg(
        self, trial_id: str, path: str | os.PathLike[str], *, as_of: date | str | None = None, site: str | None = None
    ) -> Path:
        """Saves the CONSORT diagram as SVG to `path` and returns it."""
        svg = self.request(
            "getConsortDiagram", {"trialId": trial_id}, query={"asOf": as_of, "siteCode": site, "format": "svg"}
        )
        target = Path(path)
        target.write_text(svg, encoding="utf-8")
        return target

    def baseline_table(
        self, trial_id: str, *, role: str | None = None, tests: str = "welch", as_of: date | str | None = None
    ) -> BaselineTable:
        """Table 1 by arm (allocated arm of service users, assigned arm of case workers)."""
        trial = self.trial(trial_id)
        table = self.request(
            "getBaselineTable", {"trialId": trial_id}, query={"role": role, "tests": tests, "asOf": as_of}
        )
        arm_levels = [arm["code"] for arm in trial["arms"]]
        variable_levels = [variable["name"] for variable in table["variables"]]
        category_levels = list(
            dict.fromkeys(level for variable in trial["baselineVariables"] for level in variable.get("levels") or [])
        )
        variables, numbers, categories = [], [], []
        for variable in table["variables"]:
            test = variable["test"] or {}
            variables.append(
                {
                    "variable": variable["name"],
                    "label": variable.get("label"),
                    "unit": variable.get("unit"),
                    "type": variable["type"],
                    "smd": variable["smd"],
                    "test": test.get("method"),
                    "statistic": test.get("statistic"),
                    "df": test.get("df"),
                    "p": test.get("p"),
                }
            )
            for arm, summary in variable["byArm"].items():
                if variable["type"] == "category":
                    for level in summary["levels"]:
                        categories.append({"variable": variable["name"], "arm": arm, **level})
                else:
                    numbers.append({"variable": variable["name"], "arm": arm, **summary})
        variable_column = Column("variable", "variable", "category", variable_levels)
        arm_column = Column("arm", "arm", "category", arm_levels)
        return BaselineTable(
            trial_id=table["trialId"],
            role=table["role"],
            as_of=parse_date(table["asOf"]),
            arms=frame(table["arms"], [arm_column, Column("n")], self.as_frames),
            variables=frame(
                variables,
                [
                    variable_column,
                    Column("label"),
                    Column("unit"),
                    Column("type", "type", "category", ENUMS["BaselineVariable/properties/type"]),
                    Column("smd"),
                    Column("test"),
                    Column("statistic"),
                    Column("df"),
                    Column("p"),
                ],
                self.as_frames,
            ),
            numbers=frame(
                numbers,
                [
                    variable_column,
                    arm_column,
                    *[Column(name) for name in ("n", "missing", "mean", "sd", "median", "q1", "q3", "min", "max")],
                ],
                self.as_frames,
            ),
            categories=frame(
                categories,
                [
                    variable_column,
                    arm_column,
                    Column("level", "level", "category", category_levels),
                    Column("count"),
                    Column("percent"),
                ],
                self.as_frames,
            ),
            note=table["note"],
            raw=table,
        )

    def t_test(
        self,
        groups: Sequence[Mapping[str, Any]],
        *,
        method: str = "welch",
        alternative: str = "two-sided",
        confidence_level: float = 0.95,
    ) -> dict[str, Any]:
        """Welch (or Student) t-test from raw `values` or from `mean`, `sd` and `n` per group, as R's t.test."""
        body = {
            "groups": list(groups),
            "method": method,
            "alternative": alternative,
            "confidenceLevel": confidence_level,
        }
        return self.request("tTest", body=body)

    # ---- incentives and audit --------------------------------------------------------------------

    def issue_incentive(
        self,
        trial_id: str,
        participant_id: str,
        *,
        incentive: str,
        issued_on: date | str,
        reference: str,
        note: str | None = None,
        idempotency_key: str | None = None,
        retries: int = 3,
        backoff: float = 0.2,
    ) -> dict[str, Any]:
        """Issues an incentive once, with an `Idempotency-Key` on every attempt (as `randomize`)."""
        key = idempotency_key or str(uuid.uuid4())
        path = {"trialId": trial_id, "participantId": participant_id}
        body = _drop_none({"incentive": incentive, "issuedOn": issued_on, "reference": reference, "note": note})
        return self._retrying(
            lambda: self.request("issueIncentive", path, body=body, headers={"Idempotency-Key": key}), retries, backoff
        )

    def incentives(
        self,
        trial_id: str,
        *,
        site: str | None = None,
        participant_id: str | None = None,
        issued_from: date | str | None = None,
        issued_to: date | str | None = None,
    ) -> Frame:
        """The incentive ledger, issues and voids, in the order they were recorded."""
        trial = self.trial(trial_id)
        query = {"siteCode": site, "participantId": participant_id, "from": issued_from, "to": issued_to}
        rows = list(self._pages("listIncentives", {"trialId": trial_id}, query))
        columns = [
            Column("id"),
            Column("participant_id", "participantId"),
            Column("site", "siteCode", "category", [s["code"] for s in trial["sites"]]),
            Column("incentive", "incentive", "category", [i["code"] for i in trial["incentives"]]),
            Column("kind", "kind", "category", ENUMS["IncentiveEntry/properties/kind"]),
            Column("amount"),
            Column("currency"),
            Column("issued_on", "issuedOn", "date"),
            Column("reference"),
            Column("note"),
            Column("voided"),
            Column("voids"),
            Column("reason"),
            Column("recorded_at", "recordedAt", "instant"),
        ]
        return frame(rows, columns, self.as_frames)

    def incentive_summary(self, trial_id: str) -> dict[str, Any]:
        return self.request("summarizeIncentives", {"trialId": trial_id})

    def audit(self, trial_id: str, *, entity_type: str | None = None, entity_id: str | None = None) -> Frame:
        """The trial's audit trail (admins and monitors), oldest first; `before` and `after` as dicts."""
        query = {"entityType": entity_type, "entityId": entity_id}
        rows = list(self._pages("listTrialAuditEvents", {"trialId": trial_id}, query, cursor="after"))
        columns = [
            Column("lane"),
            Column("sequence"),
            Column("occurred_at", "occurredAt", "instant"),
            Column("actor_role", "actor.role"),
            Column("actor_key_id", "actor.keyId"),
            Column("action"),
            Column("entity_type", "entityType"),
            Column("entity_id", "entityId"),
            Column("reason"),
            Column("before"),
            Column("after"),
            Column("request_id", "requestId"),
            Column("id"),
            Column("previous_hash", "previousHash"),
            Column("hash"),
        ]
        return frame(rows, columns, self.as_frames)

    def verify_audit(self, trial_id: str) -> dict[str, Any]:
        """Recomputes the trial's audit hash chain; `valid` is False with `firstBrokenLink` when it was altered."""
        return self.request("verifyTrialAuditChain", {"trialId": trial_id})
