import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { TooManyAuthFailures } from '../errors';

/** Failed authentications are counted over this window. */
export const AUTH_FAILURE_WINDOW_SECONDS = 15 * 60;
/** Per address and gateway account: guessing one account's key. */
export const AUTH_FAILURES_PER_ACCOUNT = 10;
/** Per address, whatever the account: trying many accounts. */
export const AUTH_FAILURES_PER_ADDRESS = 100;
/**
 * Entries each table keeps at most; past it the least recently used goes. Keys are fixed-size
 * hashes, so the tables stay within a few megabytes whatever clients send.
 */
export const AUTH_THROTTLE_ENTRIES = 50_000;

/** Who is trying to authenticate. Read-only: its keys are worked out once, on first use. */
export interface AuthSubject {
  /** The client address (clientAddress: IPv4, or IPv6 /64). */
  readonly address: string;
  /** The account the credentials name, when they name one: guesses at one account are counted together. */
  readonly account?: string;
  /** Tells one set of credentials from another (a keyed hash), for payments in flight. */
  readonly credential?: string;
}

interface SubjectKeys {
  address: string;
  account: string | undefined;
  proof: string;
}

/** How a request whose credentials were in doubt ended. */
export type AuthOutcome = 'refused' | 'accepted' | 'other';

interface Window {
  count: number;
  endsAt: number;
}

/**
 * Repeated failed authentication from one address is refused for the rest of the window with
 * 429 TOO_MANY_AUTH_FAILURES: 10 for one account, 100 in all. A failure the service sees at once
 * (credentials of the wrong shape, not the configured ones, a wrong token) is counted at once,
 * before the answer, so concurrent guesses cannot outrun the count. Credentials only the gateway
 * can judge (pass-through) count as a failure while their payment is in flight, once per
 * distinct set of credentials, and stay counted only if the answer is a 401: a burst of genuine
 * payments with one set of credentials counts once, 1,000 concurrent guesses count 1,000.
 *
 * Twilio's addresses are shared by many merchants: credentials the gateway accepted (an approval
 * or a decline) from an address in the window are exempt from that address's limit (not from
 * their account's), so broken connectors behind the same address cannot lock a working one out.
 */
export class AuthThrottle {
  private readonly failures = new LRUCache<string, Window>({ max: AUTH_THROTTLE_ENTRIES });
  private readonly proven = new LRUCache<string, true>({ max: AUTH_THROTTLE_ENTRIES, ttl: AUTH_FAILURE_WINDOW_SECONDS * 1000 });
  /** Per address or account key: the credentials in doubt in flight, and how many requests carry each. */
  private readonly inDoubt = new Map<string, Map<string, number>>();
  /** One request asks up to four times (check, fail or isProven, begin, end): its hashes are made once. */
  private readonly subjectKeys = new WeakMap<AuthSubject, SubjectKeys>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Throws TOO_MANY_AUTH_FAILURES when the subject has used up its address's or its account's limit. */
  check(subject: AuthSubject): void {
    const keys = this.keysOf(subject);
    const limits: Array<[string | undefined, number]> = [
      [this.proven.has(keys.proof) ? undefined : keys.address, AUTH_FAILURES_PER_ADDRESS],
      [keys.account, AUTH_FAILURES_PER_ACCOUNT],
    ];
    for (const [key, limit] of limits) {
      if (key === undefined) continue;
      const window = this.window(key);
      if ((window?.count ?? 0) + (this.inDoubt.get(key)?.size ?? 0) >= limit) {
        const retryAfterSeconds = window ? Math.ceil((window.endsAt - this.now()) / 1000) : 1;
        throw new TooManyAuthFailures('Too many failed authentications from this address; try again later', Math.max(1, retryAfterSeconds));
      }
    }
  }

  /** A failed authentication, counted now. */
  fail(subject: AuthSubject): void {
    const keys = this.keysOf(subject);
    this.count(keys.address);
    if (keys.account !== undefined) this.count(keys.account);
  }

  /** True when these credentials were accepted from this address in the window. */
  isProven(subject: AuthSubject): boolean {
    return this.proven.has(this.keysOf(subject).proof);
  }

  /**
   * Credentials in play until the request ends: when `inDoubt`, they count as a failure meanwhile
   * (check() first). The returned function ends the request: a 401 is a failure, an approval or
   * a decline proves the credentials.
   */
  begin(subject: AuthSubject, inDoubt: boolean): (outcome: AuthOutcome) => void {
    const keys = this.keysOf(subject);
    const held = inDoubt ? [keys.address, keys.account].filter((key): key is string => key !== undefined) : [];
    for (const key of held) this.hold(key, keys.proof, +1);
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      for (const key of held) this.hold(key, keys.proof, -1);
      if (outcome === 'refused') this.fail(subject);
      if (outcome === 'accepted' && !this.proven.has(keys.proof)) this.proven.set(keys.proof, true);
    };
  }

  /** Entries held: failure windows and proven credentials (at most AUTH_THROTTLE_ENTRIES each). */
  get size(): number {
    return this.failures.size + this.proven.size;
  }

  private keysOf(subject: AuthSubject): SubjectKeys {
    let keys = this.subjectKeys.get(subject);
    if (!keys) {
      keys = {
        address: `a:${subject.address}`,
        account: subject.account === undefined ? undefined : `u:${digest(subject.address, subject.account)}`,
        proof: digest(subject.address, subject.account ?? '', subject.credential ?? ''),
      };
      this.subjectKeys.set(subject, keys);
    }
    return keys;
  }

  private window(key: string): Window | undefined {
    const window = this.failures.get(key);
    if (window && window.endsAt <= this.now()) {
      this.failures.delete(key);
      return undefined;
    }
    return window;
  }

  private count(key: string): void {
    const window = this.window(key);
    if (window) window.count += 1;
    else this.failures.set(key, { count: 1, endsAt: this.now() + AUTH_FAILURE_WINDOW_SECONDS * 1000 });
  }

  private hold(key: string, credential: string, change: number): void {
    const credentials = this.inDoubt.get(key) ?? new Map<string, number>();
    const requests = (credentials.get(credential) ?? 0) + change;
    if (requests > 0) credentials.set(credential, requests);
    else credentials.delete(credential);
    if (credentials.size > 0) this.inDoubt.set(key, credentials);
    else this.inDoubt.delete(key);
  }
}

/** A fixed-size key, whatever length the client chose for its username. */
function digest(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${Buffer.byteLength(part)}:${part}`);
  return hash.digest('base64url').slice(0, 22);
}
