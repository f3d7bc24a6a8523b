import http from 'node:http';

/*
 * The drills' HTTP client: one fresh connection per request (no keep-alive pool that could hand a
 * request a socket of a service that was just killed), the raw body kept as text so replays can be
 * compared byte for byte, and a hard deadline so that a hanging request is reported, not waited for.
 */

export interface DrillRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  /** Bearer key; null sends none. */
  key: string | null;
  body?: unknown;
  headers?: Record<string, string>;
  /** The request is abandoned (reported as a timeout) after this long. */
  timeoutMs?: number;
}

export interface DrillResponse {
  /** 0 when no HTTP answer came: see `error`. */
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** A connection error code (ECONNREFUSED, ECONNRESET, ...) or 'timeout'; null when answered. */
  error: string | null;
  /** performance.now() when the request was sent and when it finished (answered or failed). */
  sentAt: number;
  endedAt: number;
  ms: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function send(baseUrl: string, request: DrillRequest): Promise<DrillResponse> {
  const url = new URL(request.path, baseUrl);
  const payload = request.body === undefined ? null : Buffer.from(JSON.stringify(request.body));
  const headers: Record<string, string> = { Accept: 'application/json', ...(request.headers ?? {}) };
  if (request.key !== null) headers.Authorization = `Bearer ${request.key}`;
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = String(payload.length);
  }
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number, responseHeaders: http.IncomingHttpHeaders, text: string, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endedAt = performance.now();
      resolve({ status, headers: responseHeaders, text, error, sentAt, endedAt, ms: endedAt - sentAt });
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname + url.search,
        method: request.method,
        headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => finish(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString('utf8'), null));
        res.on('error', (error: NodeJS.ErrnoException) => finish(0, {}, '', error.code ?? error.message));
        res.on('aborted', () => finish(0, {}, '', 'ECONNRESET'));
      },
    );
    const timer = setTimeout(() => {
      finish(0, {}, '', 'timeout');
      req.destroy();
    }, request.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    req.on('error', (error: NodeJS.ErrnoException) => finish(0, {}, '', error.code ?? error.message));
    req.end(payload ?? undefined);
  });
}

/** The parsed JSON body, or undefined when the text is not JSON. */
export function jsonOf<T = Record<string, unknown>>(response: DrillResponse): T | undefined {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    return undefined;
  }
}

/** What a drill checks of every answer given while the database is unavailable or busy. */
export function isServiceUnavailableProblem(response: DrillResponse): boolean {
  const retryAfter = response.headers['retry-after'];
  return (
    response.status === 503 &&
    /^application\/problem\+json\b/.test(String(response.headers['content-type'] ?? '')) &&
    typeof retryAfter === 'string' &&
    /^[1-9]\d*$/.test(retryAfter) &&
    jsonOf<{ status?: number }>(response)?.status === 503
  );
}

/** One line of evidence for a report: method, path, status or error, time, and the body. */
export function describeExchange(
  request: Pick<DrillRequest, 'method' | 'path' | 'headers'>,
  response: DrillResponse,
): string {
  const outcome = response.error
    ? `no answer (${response.error})`
    : `${response.status} ${response.headers['content-type'] ?? ''} retry-after=${response.headers['retry-after'] ?? '-'}`;
  const key = request.headers?.['Idempotency-Key'] ? ` [Idempotency-Key: ${request.headers['Idempotency-Key']}]` : '';
  return `${request.method} ${request.path}${key} -> ${outcome} after ${Math.round(response.ms)} ms: ${response.text.slice(0, 500)}`;
}
