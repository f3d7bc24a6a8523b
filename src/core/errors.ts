/** One error hierarchy, rendered as RFC 9457 problem+json by the error middleware. */

export const PROBLEM_BASE = 'https://trialdesk.dev/problems/';

export interface FieldError {
  /** JSON pointer into the request: the body itself, or /query/<name>, /path/<name>, /header/<name>. */
  pointer: string;
  detail: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(
    slug: string,
    title: string,
    detail: string,
    extensions: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail);
    this.slug = slug;
    this.title = title;
    this.extensions = extensions;
    this.headers = headers;
  }

  get type(): string {
    return PROBLEM_BASE + this.slug;
  }
}

export class BadRequestError extends AppError {
  readonly status = 400;
  constructor(detail: string) {
    super('malformed-request', 'Malformed request', detail);
  }
}

export class UnauthorizedError extends AppError {
  readonly status = 401;
  constructor(detail = 'Send a valid API key as "Authorization: Bearer <key>".') {
    super('unauthorized', 'Unauthorized', detail, {}, { 'WWW-Authenticate': 'Bearer realm="trialdesk"' });
  }
}

export class ForbiddenError extends AppError {
  readonly status = 403;
  constructor(detail: string) {
    super('forbidden', 'Forbidden', detail);
  }
}

export class NotFoundError extends AppError {
  readonly status = 404;
  constructor(detail: string) {
    super('not-found', 'Not found', detail);
  }
}

export class MethodNotAllowedError extends AppError {
  readonly status = 405;
  constructor(method: string, allowed: string[]) {
    super(
      'method-not-allowed',
      'Method not allowed',
      `${method} is not allowed here; use ${allowed.join(', ')}.`,
      {},
      { Allow: allowed.join(', ') },
    );
  }
}

/** The request conflicts with what was recorded; `slug` names the reason (e.g. trial-not-in-setup). */
export class ConflictError extends AppError {
  readonly status = 409;
  constructor(slug: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(slug, 'Conflict', detail, extensions);
  }
}

/** A conditional request whose precondition (If-Match) no longer holds. */
export class PreconditionError extends AppError {
  readonly status = 412;
  constructor(detail: string) {
    super('precondition-failed', 'Precondition failed', detail);
  }
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  constructor(limit: string) {
    super('payload-too-large', 'Payload too large', `The request body exceeds the limit of ${limit}.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  constructor(detail: string) {
    super('unsupported-media-type', 'Unsupported media type', detail);
  }
}

export class ValidationError extends AppError {
  readonly status = 422;
  readonly errors: FieldError[];
  constructor(errors: FieldError[], detail?: string) {
    super(
      'validation-failed',
      'Validation failed',
      detail ??
        (errors.length === 1
          ? `${errors[0]!.pointer || '(body)'}: ${errors[0]!.detail}`
          : `${errors.length} fields are invalid.`),
    );
    this.errors = errors;
  }
}

export class ServiceUnavailableError extends AppError {
  readonly status = 503;
  constructor(detail: string, retryAfterSeconds: number) {
    super('service-unavailable', 'Service unavailable', detail, {}, { 'Retry-After': String(retryAfterSeconds) });
  }
}

export class TooManyRequestsError extends AppError {
  readonly status = 429;
  constructor(detail: string, retryAfterSeconds: number) {
    super(
      'rate-limited',
      'Too many requests',
      detail,
      { retryAfterSeconds },
      { 'Retry-After': String(retryAfterSeconds) },
    );
  }
}
