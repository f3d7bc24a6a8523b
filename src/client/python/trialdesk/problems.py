"""RFC 9457 problems answered by trialdesk, raised as exceptions with one class per problem type."""

from __future__ import annotations

from typing import Any, Mapping, TypedDict

PROBLEM_BASE = "https://trialdesk.dev/problems/"
_STANDARD_MEMBERS = {"type", "title", "status", "detail", "instance", "errors"}


class FieldError(TypedDict):
    """One failing field of a 422: a JSON pointer into the request and what is wrong with it."""

    pointer: str
    detail: str


class TrialdeskProblem(Exception):
    """A problem+json answer. `slug` is the stable name of the problem type (`already-randomized`, ...)."""

    status: int
    type: str
    title: str
    detail: str
    instance: str
    errors: list[FieldError]
    extensions: dict[str, Any]
    headers: dict[str, str]

    def __init__(self, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        self.status = int(body.get("status", 0))
        self.type = str(body.get("type", "about:blank"))
        self.title = str(body.get("title", ""))
        self.detail = str(body.get("detail", ""))
        self.instance = str(body.get("instance", ""))
        self.errors = [
            FieldError(pointer=str(error.get("pointer", "")), detail=str(error.get("detail", "")))
            for error in body.get("errors") or []
            if isinstance(error, Mapping)
        ]
        self.extensions = {name: value for name, value in body.items() if name not in _STANDARD_MEMBERS}
        # Response headers only (Retry-After, X-Request-Id); the request's Authorization is never kept.
        self.headers = dict(headers or {})
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [f"{self.status} {self.title}: {self.detail}"]
        lines += [f"  {error['pointer'] or '(body)'}: {error['detail']}" for error in self.errors]
        if self.instance:
            lines.append(f"  instance: {self.instance}")
        return "\n".join(lines)

    @property
    def slug(self) -> str:
        """The last path segment of `type`, e.g. `trial-not-in-setup`."""
        return self.type.rsplit("/", 1)[-1]

    @property
    def pointers(self) -> list[str]:
        """The JSON pointers of the failing fields (422), in the order the service listed them."""
        return [error["pointer"] for error in self.errors]

    @property
    def request_id(self) -> str | None:
        """The request id the service logged, from `instance` (`urn:trialdesk:request:<id>`)."""
        prefix = "urn:trialdesk:request:"
        return self.instance[len(prefix) :] if self.instance.startswith(prefix) else None

    @property
    def retry_after(self) -> float | None:
        """Seconds to wait before retrying (429, 503), from the `Retry-After` header."""
        for name, value in self.headers.items():
            if name.lower() == "retry-after":
                try:
                    return float(value)
                except ValueError:
                    return None
        return None


class MalformedRequestProblem(TrialdeskProblem):
    """400: the body is not well-formed JSON."""


class AuthProblem(TrialdeskProblem):
    """401 or 403."""


class UnauthorizedProblem(AuthProblem):
    """401: no key, or one that is unknown or revoked."""


class ForbiddenProblem(AuthProblem):
    """403: the key's role may not do this (or a blinded key asked for the allocation list)."""


class NotFoundProblem(TrialdeskProblem):
    """404: no such resource, or one outside the key's trials or sites (the service does not tell them apart)."""


class MethodNotAllowedProblem(TrialdeskProblem):
    """405."""


class ConflictProblem(TrialdeskProblem):
    """409: the request conflicts with what was recorded; `slug` names the reason."""


class NotEligibleProblem(ConflictProblem):
    """409 `not-eligible`."""


class ConsentMissingProblem(ConflictProblem):
    """409 `consent-missing`: no granted, current consent to every required form."""


class ConsentWithdrawnProblem(ConflictProblem):
    """409 `consent-withdrawn`."""


class AlreadyRandomizedProblem(ConflictProblem):
    """409 `already-randomized`."""


class TrialNotActiveProblem(ConflictProblem):
    """409 `trial-not-active`."""


class TrialNotInSetupProblem(ConflictProblem):
    """409 `trial-not-in-setup`: the configuration is locked once the trial is active."""


class IdempotencyKeyInUseProblem(ConflictProblem):
    """409 `idempotency-key-in-use`: the first request with this key is still running; retry it."""


class PreconditionProblem(TrialdeskProblem):
    """412: the `If-Match` version is stale."""


class PayloadTooLargeProblem(TrialdeskProblem):
    """413."""


class UnsupportedMediaTypeProblem(TrialdeskProblem):
    """415."""


class ValidationProblem(TrialdeskProblem):
    """422: every failing field is in `errors` as `{pointer, detail}`."""

    def detail_for(self, pointer: str) -> str | None:
        """The detail for one JSON pointer, or None when that field did not fail."""
        return next((error["detail"] for error in self.errors if error["pointer"] == pointer), None)


class RateLimitedProblem(TrialdeskProblem):
    """429: too many requests for this key; wait `retry_after` seconds."""


class ServerProblem(TrialdeskProblem):
    """5xx: nothing internal is revealed; quote `instance` when reporting it."""


class ServiceUnavailableProblem(ServerProblem):
    """503: the database is unreachable or overloaded; nothing was written unless `detail` says otherwise."""


_BY_SLUG: dict[str, type[TrialdeskProblem]] = {
    "malformed-request": MalformedRequestProblem,
    "unauthorized": UnauthorizedProblem,
    "forbidden": ForbiddenProblem,
    "not-found": NotFoundProblem,
    "method-not-allowed": MethodNotAllowedProblem,
    "not-eligible": NotEligibleProblem,
    "consent-missing": ConsentMissingProblem,
    "consent-withdrawn": ConsentWithdrawnProblem,
    "already-randomized": AlreadyRandomizedProblem,
    "trial-not-active": TrialNotActiveProblem,
    "trial-not-in-setup": TrialNotInSetupProblem,
    "idempotency-key-in-use": IdempotencyKeyInUseProblem,
    "precondition-failed": PreconditionProblem,
    "payload-too-large": PayloadTooLargeProblem,
    "unsupported-media-type": UnsupportedMediaTypeProblem,
    "validation-failed": ValidationProblem,
    "rate-limited": RateLimitedProblem,
    "service-unavailable": ServiceUnavailableProblem,
}

_BY_STATUS: dict[int, type[TrialdeskProblem]] = {
    400: MalformedRequestProblem,
    401: UnauthorizedProblem,
    403: ForbiddenProblem,
    404: NotFoundProblem,
    405: MethodNotAllowedProblem,
    409: ConflictProblem,
    412: PreconditionProblem,
    413: PayloadTooLargeProblem,
    415: UnsupportedMediaTypeProblem,
    422: ValidationProblem,
    429: RateLimitedProblem,
    503: ServiceUnavailableProblem,
}


def problem_class(status: int, type_uri: str) -> type[TrialdeskProblem]:
    """The exception class for a problem: by its type when trialdesk names it, else by status."""
    if type_uri.startswith(PROBLEM_BASE):
        by_slug = _BY_SLUG.get(type_uri[len(PROBLEM_BASE) :])
        if by_slug is not None and (by_slug is not ConflictProblem or status == 409):
            return by_slug
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerProblem if status >= 500 else TrialdeskProblem


def problem_from_answer(status: int, reason: str, body: Any, headers: Mapping[str, str]) -> TrialdeskProblem:
    """The exception for an error answer; a body that is not problem+json (a proxy's page) still becomes one."""
    if not (isinstance(body, Mapping) and isinstance(body.get("type"), str) and isinstance(body.get("status"), int)):
        text = body if isinstance(body, str) and body else f"The server answered {status} without a problem body."
        body = {"type": "about:blank", "title": reason or f"HTTP {status}", "status": status, "detail": text[:500]}
    return problem_class(status, str(body["type"]))(body, headers)
