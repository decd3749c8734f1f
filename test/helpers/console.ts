import path from 'node:path';
import request from 'supertest';
import { hashSecret } from '../../src/security/secret-hash';
import { PASSWORD_SCRYPT, writeConsoleUsersFile, type ConsoleUserEntry } from '../../src/sessions/console-users-file';
import { temporaryFolder } from './api-clients';

/** Test agents: their passwords are secrets like the others (searched for in every output). */
export const AGENT = { name: 'alice', password: 'alice-console-password-7Hq2' } as const;
export const OTHER_AGENT = { name: 'bob', password: 'bob-console-password-4Kd9x' } as const;

export function consoleUserEntry(name: string, password: string): ConsoleUserEntry {
  return { name, password_hash: hashSecret(password, PASSWORD_SCRYPT), created_at: '2026-11-02T10:00:00.000Z' };
}

/** A CONSOLE_USERS_FILE with these agents, in a folder of its own. */
export function consoleUsersFile(entries: ConsoleUserEntry[]): string {
  const file = path.join(temporaryFolder('console-users-'), 'console-users.json');
  writeConsoleUsersFile(file, { users: entries });
  return file;
}

/** A signed-in console as a browser holds it: its cookies (supertest's agent) and the page's CSRF token. */
export interface SignedInConsole {
  agent: ReturnType<typeof request.agent>;
  csrf: string;
}

/** Reads the CSRF token a console page (or the sign-in form) carries. */
export function csrfOf(html: string): string {
  const match = /data-csrf="([^"]+)"/.exec(html) ?? /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** Opens the sign-in form, signs in, and opens the console page. */
export async function signIn(url: string, name: string = AGENT.name, password: string = AGENT.password): Promise<SignedInConsole> {
  const agent = request.agent(url);
  const form = await agent.get('/console').expect(200);
  const signedIn = await agent.post('/console/sign-in').type('form').send({ _csrf: csrfOf(form.text), name, password });
  if (signedIn.status !== 303) throw new Error(`sign-in refused: ${signedIn.status}`);
  const page = await agent.get('/console').expect(200);
  return { agent, csrf: csrfOf(page.text) };
}

/** Asks `probe` every 100 ms until its answer passes `accept` (generous for a slow machine); the last answer. */
export async function until<T>(probe: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
