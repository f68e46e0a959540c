import assert from 'node:assert/strict';

/**
 * A JSON call to a listening server that must succeed (2xx): the parsed answer, or null for an
 * empty one. `auth` is the credential header(s), e.g. `{ authorization: 'Bearer …' }`.
 */
export async function callOk<T>(baseUrl: string, auth: Record<string, string>, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : null) as T;
}
