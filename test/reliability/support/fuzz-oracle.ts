import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { CLOSED_WITHOUT_RESPONSE, WireRequest, WireResponse } from './fuzz-http';

/*
 * The oracle, per case: no 5xx; every 4xx is application/problem+json whose body is a Problem
 * (RFC 9457 and the contract's Problem schema: `status` equal to the HTTP status, `type`, `title`,
 * `detail`, `instance`); a response at all, within the time limit. The database check is made by
 * the caller, which holds the fingerprints.
 */

export function judge(request: WireRequest, response: WireResponse | undefined, failure: Error | undefined): string[] {
  // A client that declares more body than it sends and then stops may find the connection closed
  // with no answer, or an answer cut short (the server may answer before it needs the body, then
  // abort). One that sends bytes after its request gets the whole answer to the request first.
  // Anything else it gets is judged as usual.
  const misframed = request.framing === 'long-length';
  if (!response)
    return request.framing === 'long-length' && failure?.message === CLOSED_WITHOUT_RESPONSE
      ? []
      : [`no response: ${failure?.message ?? 'unknown failure'}`];
  const violations: string[] = [];
  if (response.truncated && !misframed) violations.push('the response was cut short (the connection closed mid-body)');
  if (response.corrupt)
    violations.push('the chunked response body is corrupt (something other than a chunk where a chunk size belongs)');
  const { status } = response;
  if (status >= 500) violations.push(`status ${status}`);
  else if (status < 200 || (status >= 300 && status < 400)) violations.push(`unexpected status ${status}`);
  if (status < 400) return violations;

  const mediaType = (response.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType !== 'application/problem+json')
    violations.push(
      `a ${status} served as ${JSON.stringify(response.headers['content-type'] ?? null)}, not application/problem+json`,
    );
  if (request.method === 'HEAD' || response.truncated || response.corrupt) return violations; // no body (HEAD), or not all of it
  let problem: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(response.body.toString('utf8'));
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      problem = parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (!problem) {
    violations.push(`a ${status} whose body is not a JSON object`);
    return violations;
  }
  if (problem.status !== status)
    violations.push(`problem.status ${JSON.stringify(problem.status)} differs from HTTP ${status}`);
  for (const field of ['type', 'title', 'detail', 'instance']) {
    if (typeof problem[field] !== 'string' || problem[field] === '')
      violations.push(`problem.${field} missing or not a non-empty string`);
  }
  return violations;
}

export function isProblemViolation(violation: string): boolean {
  return /problem|served as|not a JSON object/.test(violation);
}

/** Everything needed to send the request again by hand: method, target, headers, body bytes. */
export function describeRequest(request: WireRequest): string {
  const body = request.body;
  const lines = [
    `${request.method} ${JSON.stringify(request.target).slice(1, -1).slice(0, 2000)}  (framing: ${request.framing})`,
    ...request.headers.map(
      ([name, value]) =>
        `  ${name}: ${JSON.stringify(value.length > 300 ? value.slice(0, 300) + `…(${value.length} chars)` : value).slice(1, -1)}`,
    ),
  ];
  if (body) {
    lines.push(`  body: ${body.length} bytes, sha256 ${createHash('sha256').update(body).digest('hex')}`);
    lines.push(`  body (latin1, first 600 bytes): ${JSON.stringify(body.subarray(0, 600).toString('latin1'))}`);
    if (body.length <= 4096) lines.push(`  body (base64): ${body.toString('base64')}`);
  }
  return lines.join('\n');
}

export function describeResponse(response: WireResponse | undefined): string {
  if (!response) return '(no response)';
  return `${response.status} ${response.headers['content-type'] ?? '(no content-type)'} via ${response.transport}, x-request-id ${response.headers['x-request-id'] ?? '(none: answered before the app)'}: ${JSON.stringify(
    response.body.subarray(0, 500).toString('utf8'),
  )}`;
}

/** The error the service logged for a request (pino's serialized `err`), found by the request id. */
export interface LoggedError {
  type?: string;
  code?: string;
  message?: string;
}

/**
 * Collects the errors the service logs (level error and above) by request id, so a 500 can be
 * matched to its cause. Pass `stream` to the app's pino logger; with `echo` the lines also go to
 * stderr (FUZZ_LOG=1).
 */
export class ServiceErrorLog {
  private readonly byRequest = new Map<string, LoggedError>();
  readonly stream: Writable;

  constructor(echo: boolean) {
    this.stream = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        if (echo) process.stderr.write(chunk);
        for (const line of chunk.toString('utf8').split('\n')) {
          if (!line) continue;
          try {
            const entry = JSON.parse(line) as { requestId?: string; err?: LoggedError };
            if (entry.requestId && entry.err)
              this.byRequest.set(entry.requestId, {
                type: entry.err.type,
                code: entry.err.code,
                message: entry.err.message,
              });
          } catch {
            // not a JSON line: nothing to index
          }
        }
        // Entries are taken when their response is judged; keep the map from growing without bound.
        if (this.byRequest.size > 1000) this.byRequest.delete(this.byRequest.keys().next().value!);
        done();
      },
    });
  }

  take(requestId: string | undefined): LoggedError | undefined {
    if (requestId === undefined) return undefined;
    const entry = this.byRequest.get(requestId);
    this.byRequest.delete(requestId);
    return entry;
  }
}

/**
 * Service bugs the fuzzer found, excluded one reproduction at a time so the run can go on exploring.
 * Each entry names the request shape and, for a 500, the cause the service logged for it, so a new
 * failure of the same request for another reason is still reported. Remove an entry when the service
 * is fixed: the run then shows whether it is.
 */
export interface KnownBug {
  id: string;
  summary: string;
  matches(
    request: WireRequest,
    response: WireResponse | undefined,
    violations: string[],
    logged: LoggedError | undefined,
  ): boolean;
  /**
   * Requests that would take the service down (it runs in the fuzzer's process), so they are not
   * sent while the bug stands; each one is counted as a hit of the bug.
   */
  wouldCrash?(request: WireRequest): boolean;
  /** The bug is a change to the database on a refused request (otherwise such a change is never excused). */
  excusesDatabaseChange?: boolean;
}

// None open. The last one, 'parser-refusal-overtakes-answer' (a request followed by bytes that are not a
// request was carried out but answered 400), is fixed in src/http/client-errors.ts.
export const KNOWN_BUGS: KnownBug[] = [];
