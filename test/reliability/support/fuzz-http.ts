import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import { answerClientErrors } from '../../../src/http/client-errors';

/*
 * Real HTTP to the app listening on 127.0.0.1, so every byte goes through Node's parser and the
 * whole express stack. Requests Node's client can express go over one keep-alive connection (which
 * also catches a server that leaves an unread body in the connection); the rest (NUL in a header,
 * raw bytes in the path, a Content-Length that lies, chunked framing errors) are written by hand on
 * a fresh socket.
 */

/** How the body is framed on the wire. */
export type Framing =
  | 'content-length'
  | 'chunked'
  /** Content-Length smaller than the body: the rest would be read as the next request. */
  | 'short-length'
  /** Content-Length larger than the body, then the client half-closes. */
  | 'long-length'
  /** Both Transfer-Encoding: chunked and Content-Length (a request-smuggling shape). */
  | 'both-lengths'
  /** A chunk-size line that is not hexadecimal. */
  | 'bad-chunk'
  /** HTTP/1.0 without Host. */
  | 'http10';

export interface WireRequest {
  method: string;
  /** Path and query exactly as sent (a latin1 string: one char per byte). */
  target: string;
  /** Values are latin1 strings (one char per byte), so any byte can be sent. */
  headers: [string, string][];
  body: Buffer | null;
  framing: Framing;
}

export interface WireResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** How the response was read: over the keep-alive agent or a hand-written request. */
  transport: 'agent' | 'raw';
  /** The connection closed before the whole body arrived. */
  truncated?: boolean;
  /** The chunked body holds something that is not a chunk (e.g. another response written into it). */
  corrupt?: boolean;
  ms: number;
}

const TIMEOUT_MS = 30_000;
export const CLOSED_WITHOUT_RESPONSE = 'connection closed without a response';
const HEAD_FIRST_MS = 5;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const NODE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const NODE_PATH = /^[\x21-\xff]+$/;
const NODE_METHODS = new Set(http.METHODS);

export interface RunningServer {
  port: number;
  send(request: WireRequest): Promise<WireResponse>;
  /**
   * Resolves once every request the app has received has been answered (the app called res.end),
   * so its writes are committed; false if some are still running after QUIET_TIMEOUT_MS. A client
   * can get its answer before the app is done: Node's parser may refuse bytes that follow a request,
   * or the client may stop early, while the operation the request started is still running.
   */
  quiet(): Promise<boolean>;
  close(): Promise<void>;
}

const QUIET_TIMEOUT_MS = 10_000;

/** Listens as src/server.ts does: the app, plus problem+json answers to requests Node's parser refuses. */
export async function listen(app: Express): Promise<RunningServer> {
  let running = 0;
  // A plain request listener around the app (not an outer express app), so the stack is unchanged.
  const server = http.createServer((req, res) => {
    running += 1;
    let ended = false;
    const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
    res.end = ((...args: unknown[]) => {
      if (!ended) {
        ended = true;
        running -= 1;
      }
      return end(...args);
    }) as typeof res.end;
    app(req, res);
  });
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return {
    port,
    send: (request) => (viaAgent(request) ? sendWithAgent(agent, port, request) : sendRaw(port, request)),
    async quiet() {
      const started = performance.now();
      while (running > 0) {
        if (performance.now() - started > QUIET_TIMEOUT_MS) return false;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return true;
    },
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function viaAgent(request: WireRequest): boolean {
  if (request.framing !== 'content-length' && request.framing !== 'chunked') return false;
  if (!NODE_METHODS.has(request.method) || !NODE_PATH.test(request.target)) return false;
  const names = new Set<string>();
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (names.has(lower) || !TOKEN.test(name) || !NODE_HEADER_VALUE.test(value)) return false;
    if (['host', 'connection', 'content-length', 'transfer-encoding'].includes(lower)) return false;
    names.add(lower);
  }
  return true;
}

function sendWithAgent(agent: http.Agent, port: number, request: WireRequest, retried = false): Promise<WireResponse> {
  const started = performance.now();
  return new Promise<WireResponse>((resolve, reject) => {
    const headers: Record<string, string> = Object.fromEntries(request.headers);
    if (request.body && request.framing === 'content-length') headers['Content-Length'] = String(request.body.length);
    // Node frames a body as chunks by default only for methods that usually carry one; say it for all.
    if (request.body && request.framing === 'chunked') headers['Transfer-Encoding'] = 'chunked';
    const req = http.request({
      agent,
      host: '127.0.0.1',
      port,
      method: request.method,
      path: request.target,
      headers,
      timeout: TIMEOUT_MS,
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const joined: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers))
          joined[name] = Array.isArray(value) ? value.join(', ') : String(value);
        resolve({
          status: res.statusCode!,
          headers: joined,
          body: Buffer.concat(chunks),
          transport: 'agent',
          ms: performance.now() - started,
        });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${TIMEOUT_MS} ms`)));
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (answered) return; // the server answered before reading the whole body, then closed: the answer counts
      // A keep-alive socket the server closed while idle: retry once on a new one (Node's documented pattern).
      if (!retried && req.reusedSocket && error.code === 'ECONNRESET')
        resolve(sendWithAgent(agent, port, request, true));
      else reject(error);
    });
    if (request.body && request.framing === 'chunked') {
      req.write(request.body.subarray(0, Math.ceil(request.body.length / 2)));
      req.end(request.body.subarray(Math.ceil(request.body.length / 2)));
    } else {
      req.end(request.body ?? undefined);
    }
  });
}

function head(request: WireRequest, extra: string[]): Buffer {
  const version = request.framing === 'http10' ? 'HTTP/1.0' : 'HTTP/1.1';
  const lines = [`${request.method} ${request.target} ${version}`];
  if (request.framing !== 'http10') lines.push('Host: 127.0.0.1');
  // With a short Content-Length the connection stays open, so the server answers the first request
  // before it reads (and refuses) the rest of the bytes as a second one.
  if (request.framing !== 'short-length') lines.push('Connection: close');
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  lines.push(...extra);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}

/** The request head, and the bytes of the body as framed. */
function framed(request: WireRequest): { head: Buffer; body: Buffer; halfClose: boolean } {
  const body = request.body ?? Buffer.alloc(0);
  const chunk = (data: Buffer) =>
    data.length ? [Buffer.from(data.length.toString(16) + '\r\n', 'latin1'), data, Buffer.from('\r\n')] : [];
  const lastChunk = Buffer.from('0\r\n\r\n');
  switch (request.framing) {
    case 'content-length':
    case 'http10':
      return { head: head(request, [`Content-Length: ${body.length}`]), body, halfClose: false };
    case 'chunked':
      return {
        head: head(request, ['Transfer-Encoding: chunked']),
        body: Buffer.concat([...chunk(body), lastChunk]),
        halfClose: false,
      };
    case 'short-length':
      return { head: head(request, [`Content-Length: ${Math.floor(body.length / 2)}`]), body, halfClose: false };
    case 'long-length':
      return { head: head(request, [`Content-Length: ${body.length + 100}`]), body, halfClose: true };
    case 'both-lengths':
      return {
        head: head(request, ['Transfer-Encoding: chunked', `Content-Length: ${body.length}`]),
        body: Buffer.concat([...chunk(body), lastChunk]),
        halfClose: false,
      };
    case 'bad-chunk':
      return {
        head: head(request, ['Transfer-Encoding: chunked']),
        body: Buffer.concat([Buffer.from('zz\r\n'), body, Buffer.from('\r\n'), lastChunk]),
        halfClose: false,
      };
  }
}

function sendRaw(port: number, request: WireRequest): Promise<WireResponse> {
  const started = performance.now();
  return new Promise<WireResponse>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      const received = Buffer.concat(chunks);
      const parsed = received.length ? parseFirstResponse(received, request.method, true) : undefined;
      if (parsed) resolve({ ...parsed, transport: 'raw', ms: performance.now() - started });
      else
        reject(
          error ??
            new Error(
              received.length
                ? `unparseable response: ${JSON.stringify(received.subarray(0, 200).toString('latin1'))}`
                : CLOSED_WITHOUT_RESPONSE,
            ),
        );
    };
    socket.setTimeout(TIMEOUT_MS, () => finish(new Error(`no response within ${TIMEOUT_MS} ms`)));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Stop as soon as one whole response is in: a lying Content-Length may keep the socket open.
      if (parseFirstResponse(Buffer.concat(chunks), request.method)) finish();
    });
    socket.on('end', () => finish());
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      const { head: requestHead, body, halfClose } = framed(request);
      // The head goes first and the body a moment later: when Node refuses the head, its answer is
      // then read before the server closes on a body still arriving (which resets the connection
      // and can discard the answer), as a client that waits for 100-continue would see it.
      socket.write(requestHead);
      setTimeout(() => {
        if (settled) return;
        socket.write(body, () => {
          if (halfClose) socket.end();
        });
      }, HEAD_FIRST_MS);
    });
  });
}

/** The first complete response in `data`, or undefined while it is incomplete. Skips 1xx interim responses. */
export function parseFirstResponse(
  data: Buffer,
  method: string,
  atEof = false,
): Omit<WireResponse, 'transport' | 'ms'> | undefined {
  let offset = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', offset, 'latin1');
    if (end < 0) return undefined;
    const lines = data.subarray(offset, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1]);
    if (!status) return undefined;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    const bodyStart = end + 4;
    if (status >= 100 && status < 200) {
      offset = bodyStart;
      continue;
    }
    if (method === 'HEAD' || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    // At the end of the connection, a head with part of its body is a truncated response.
    if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const { body, state } = dechunk(data.subarray(bodyStart));
      if (state === 'complete') return { status, headers, body };
      if (state === 'corrupt') return { status, headers, body: data.subarray(bodyStart), corrupt: true };
      return atEof ? { status, headers, body, truncated: true } : undefined;
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (data.length - bodyStart >= length)
        return { status, headers, body: data.subarray(bodyStart, bodyStart + length) };
      return atEof ? { status, headers, body: data.subarray(bodyStart), truncated: true } : undefined;
    }
    // Delimited by the end of the connection: complete only once it closes.
    return atEof ? { status, headers, body: data.subarray(bodyStart) } : undefined;
  }
}

/** A chunked body: complete, still arriving, or broken (something else where a chunk size belongs). */
function dechunk(data: Buffer): { body: Buffer; state: 'complete' | 'incomplete' | 'corrupt' } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) return { body: Buffer.concat(parts), state: 'incomplete' };
    const sizeLine = data.subarray(offset, lineEnd).toString('latin1');
    if (!/^[0-9a-fA-F]+(;.*)?$/.test(sizeLine)) return { body: Buffer.concat(parts), state: 'corrupt' };
    const size = parseInt(sizeLine, 16);
    if (size === 0) return { body: Buffer.concat(parts), state: 'complete' };
    if (data.length < lineEnd + 2 + size + 2) return { body: Buffer.concat(parts), state: 'incomplete' };
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
}
