/** The session cookie: `__Host-` so it is sent only to this host, over HTTPS (or a local address), path /. */
export const SESSION_COOKIE = '__Host-trialdesk-session';

/** The header a state-changing request authenticated by the cookie must carry (a cross-site form cannot). */
export const CSRF_HEADER = 'X-Trialdesk-CSRF';

export function sessionCookie(value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAgeSeconds}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

/** The session id from a Cookie header, or null. Only URL-safe base64 values are accepted. */
export function sessionIdFromCookies(header: string | undefined): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    if (part.slice(0, index).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(index + 1).trim();
    return /^[A-Za-z0-9_-]{16,128}$/.test(value) ? value : null;
  }
  return null;
}
