import type { components } from '../generated/openapi';

export type ProblemBody = components['schemas']['Problem'];
export type ProblemFieldError = NonNullable<ProblemBody['errors']>[number];

const STANDARD_MEMBERS = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);

/**
 * An RFC 9457 problem answered by trialdesk, thrown by the client instead of returning it.
 * `extensions` holds the members beyond the standard ones (e.g. `trialStatus` on a 409).
 */
export class TrialdeskProblem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly instance: string;
  readonly errors?: ProblemFieldError[];
  readonly extensions: Readonly<Record<string, unknown>>;
  /** The response's headers (e.g. `Retry-After` on a 503, `WWW-Authenticate` on a 401). */
  readonly headers: Headers;

  constructor(body: ProblemBody, headers: Headers = new Headers()) {
    super(`${body.status} ${body.title}: ${body.detail}`);
    this.name = new.target.name;
    this.status = body.status;
    this.type = body.type;
    this.title = body.title;
    this.detail = body.detail;
    this.instance = body.instance;
    if (body.errors) this.errors = body.errors;
    this.extensions = Object.fromEntries(Object.entries(body).filter(([member]) => !STANDARD_MEMBERS.has(member)));
    this.headers = headers;
  }

  /** The last path segment of `type`, e.g. `trial-not-in-setup`: the stable name of the reason. */
  get slug(): string {
    return this.type.slice(this.type.lastIndexOf('/') + 1);
  }

  /** The request id the service logged, from `instance` (`urn:trialdesk:request:<id>`). */
  get requestId(): string | undefined {
    const match = /^urn:trialdesk:request:(.+)$/.exec(this.instance);
    return match?.[1];
  }
}

/** 422: every failing field as `{pointer, detail}`. */
export class ValidationProblem extends TrialdeskProblem {
  declare readonly errors: ProblemFieldError[];

  constructor(body: ProblemBody, headers?: Headers) {
    super({ ...body, errors: body.errors ?? [] }, headers);
  }

  /** The detail for one JSON pointer, or undefined when that field did not fail. */
  detailFor(pointer: string): string | undefined {
    return this.errors.find((error) => error.pointer === pointer)?.detail;
  }
}

/** 409: the request conflicts with what was recorded; `slug` names the reason (`already-randomized`, ...). */
export class ConflictProblem extends TrialdeskProblem {}

/** 404: no such resource, or one outside the key's trials or sites (the service does not tell them apart). */
export class NotFoundProblem extends TrialdeskProblem {}

/** 401 (missing, unknown or revoked key) and 403 (role not allowed, blinded key). */
export class AuthProblem extends TrialdeskProblem {}

/** 412: the `If-Match` version is stale. */
export class PreconditionProblem extends TrialdeskProblem {}

/** 5xx: nothing internal is revealed; quote `instance` when reporting it. 503 may carry `Retry-After`. */
export class ServerProblem extends TrialdeskProblem {}

function isProblemBody(value: unknown): value is ProblemBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return (
    typeof body.type === 'string' &&
    typeof body.title === 'string' &&
    typeof body.status === 'number' &&
    typeof body.detail === 'string'
  );
}

/**
 * The typed problem for an error response. A body that is not problem+json (a proxy's HTML page,
 * an empty 502) still becomes a problem, with `about:blank` as its type and the status text as title.
 */
export function problemFromResponse(response: Response, body: unknown): TrialdeskProblem {
  const problem: ProblemBody = isProblemBody(body)
    ? { ...body, instance: typeof body.instance === 'string' ? body.instance : '' }
    : {
        type: 'about:blank',
        title: response.statusText || `HTTP ${response.status}`,
        status: response.status,
        detail:
          typeof body === 'string' && body.length > 0
            ? body.slice(0, 500)
            : `The server answered ${response.status} without a problem body.`,
        instance: '',
      };
  const status = response.status;
  if (status === 422) return new ValidationProblem(problem, response.headers);
  if (status === 409) return new ConflictProblem(problem, response.headers);
  if (status === 404) return new NotFoundProblem(problem, response.headers);
  if (status === 401 || status === 403) return new AuthProblem(problem, response.headers);
  if (status === 412) return new PreconditionProblem(problem, response.headers);
  if (status >= 500) return new ServerProblem(problem, response.headers);
  return new TrialdeskProblem(problem, response.headers);
}
