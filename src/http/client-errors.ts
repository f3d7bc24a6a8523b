import { randomUUID } from 'node:crypto';
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_BASE } from '../core/errors';
import { SECURITY_HEADERS } from './security';

/** The response Node is writing on a connection, if any (it keeps later pipelined responses queued). */
function responseInFlight(socket: Socket): ServerResponse | undefined {
  const current = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  return current && !current.writableFinished ? current : undefined;
}

/**
 * Requests Node's HTTP parser refuses before express sees them (a malformed request line or
 * header, NUL or CR in a header value, conflicting Content-Length and Transfer-Encoding, a bad chunk,
 * headers over 16 KB) would otherwise get a bare "400 Bad Request" with no body. They get the same
 * problem+json, request id and security headers as every other refusal, then the connection closes
 * (the parser cannot tell where the next request would start).
 *
 * Bytes that are not a request may follow a complete request on the same connection (a
 * Content-Length shorter than the body sent). That request is being carried out; its answer comes
 * first, as RFC 9112 wants responses in request order, and only then the refusal of the bytes after it.
 * Answering at once, as Node does, closed the connection before the request's own answer: a trial
 * was activated while its client was told 400. A response already streaming (a CSV export) is
 * likewise finished before the refusal, rather than cut off or corrupted.
 */
export function answerClientErrors(server: Server): void {
  const refusing = new WeakSet<Socket>();
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    // The parser stays in its error state: later bytes on this connection raise the error again.
    if (refusing.has(socket)) return;
    refusing.add(socket);
    const refuseWhenIdle = (): void => {
      const current = responseInFlight(socket);
      if (current?.req.complete) {
        // Registered after Node's own 'finish' handler, which hands the connection to the next queued response.
        current.once('finish', refuseWhenIdle);
        current.once('close', () => (current.writableFinished ? undefined : socket.destroy()));
        return;
      }
      // The refused bytes belong to the request being answered (its body is broken): it will not be
      // carried out, so refuse now — unless its answer has started, which the refusal would corrupt.
      if (current?.headersSent || !socket.writable) socket.destroy();
      else socket.end(refusal(error));
    };
    refuseWhenIdle();
  });
}

function refusal(error: NodeJS.ErrnoException): string {
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = tooLarge ? 431 : timeout ? 408 : 400;
  const requestId = randomUUID();
  const body = JSON.stringify({
    type: PROBLEM_BASE + (tooLarge ? 'headers-too-large' : timeout ? 'request-timeout' : 'malformed-request'),
    title: tooLarge ? 'Request header fields too large' : timeout ? 'Request timeout' : 'Malformed request',
    status,
    detail: tooLarge
      ? 'The request headers exceed 16 KB.'
      : timeout
        ? 'The request was not received in time.'
        : 'The request is not well-formed HTTP/1.1 (request line, headers or body framing).',
    instance: `urn:trialdesk:request:${requestId}`,
  });
  const reason = tooLarge ? 'Request Header Fields Too Large' : timeout ? 'Request Timeout' : 'Bad Request';
  const headers = {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/problem+json',
    'Content-Length': String(Buffer.byteLength(body)),
    'X-Request-Id': requestId,
    Connection: 'close',
  };
  return `HTTP/1.1 ${status} ${reason}\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n')}\r\n\r\n${body}`;
}
