import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { PROBLEM_BASE } from '../core/errors';
import { SECURITY_HEADERS } from './security';

/**
 * Requests Node's HTTP parser refuses before express sees them (a malformed request line or
 * header, NUL or CR in a header value, conflicting Content-Length and Transfer-Encoding, a bad chunk,
 * headers over 16 KB) would otherwise get a bare "400 Bad Request" with no body. They get the same
 * problem+json, request id and security headers as every other refusal, then the connection closes
 * (the parser cannot tell where the next request would start).
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    // As Node's own handler: answer only when no response has started on this connection (a CSV
    // export may still be streaming); otherwise the bytes would land inside that response.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
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
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\n${Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\r\n')}\r\n\r\n${body}`,
    );
  });
}
