// productpage's login session, kept like Flask keeps the original's: a cookie named `session` holding the data,
// signed with a key every replica shares (so any productpage pod can read it), never trusted unsigned.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SESSION_COOKIE = 'session';
const SECRET = process.env.SESSION_SECRET || 'bookinfo-session-signing-key';

/** Cookie name -> value from a Cookie header (the first of a repeated name wins). */
export function parseCookies(header) {
  const cookies = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name && !(name in cookies)) cookies[name] = part.slice(eq + 1).trim();
  }
  return cookies;
}

/** The session of a request: its data, or {} when there is no cookie or its signature doesn't match. */
export function readSession(req) {
  const value = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  const dot = value?.lastIndexOf('.') ?? -1;
  if (dot < 0) return {};
  const payload = value.slice(0, dot);
  const given = Buffer.from(value.slice(dot + 1), 'base64url');
  const expected = sign(payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return {};
  try {
    const data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return data !== null && typeof data === 'object' ? data : {};
  } catch {
    return {};
  }
}

/** The Set-Cookie value that stores `data` as the session. */
export function sessionCookie(data) {
  const payload = Buffer.from(JSON.stringify(data)).toString('base64url');
  return `${SESSION_COOKIE}=${payload}.${sign(payload).toString('base64url')}; HttpOnly; Path=/; SameSite=Lax`;
}

/** The Set-Cookie value that ends the session (as Flask does when the session becomes empty). */
export function clearedSessionCookie() {
  return `${SESSION_COOKIE}=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax`;
}

function sign(payload) {
  return createHmac('sha256', SECRET).update(payload).digest();
}
