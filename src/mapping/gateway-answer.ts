import type { PaymentMethod } from '../contract/payment-request';
import { GatewayBadResponse, GatewayHttpError, GatewayRejected, Unauthorized } from '../errors';
import { scrubSecrets, type Secret } from '../redaction/secret';
import type { Condition, Join, MappingDocument, Paths } from './types';

/** What the gateway said, already in the connector's terms. */
export type GatewayVerdict =
  | { approved: true; id: string; parameters: Record<string, string> }
  | { approved: false; errorCode: string; errorMessage: string; parameters: Record<string, string> };

export interface GatewayHttpAnswer {
  status: number;
  body: string;
}

/**
 * Reads a gateway answer. `secrets` are the request's sensitive values: any that
 * the gateway quotes back in its texts (messages, answer parameters) is masked
 * before it goes further. Ids and codes are passed on as given.
 */
export type AnswerReader = (method: PaymentMethod, answer: GatewayHttpAnswer, secrets: readonly Secret[]) => GatewayVerdict;

type Answer = Record<string, unknown>;
type Test = (answer: Answer) => boolean;
type Getter = (answer: Answer) => unknown;

/** Gateways answer error text of any length; Twilio only needs a sentence. */
const MAX_TEXT = 255;

export function compileAnswerReader(response: MappingDocument['response']): AnswerReader {
  const parse = response.encoding === 'json' ? parseJsonAnswer : parseFormAnswer;
  const success = compileSuccess(response.success);
  const unauthorized = response.unauthorized ? compileCondition(response.unauthorized) : () => false;
  const id = compilePerMethod(response.id);
  const errorCode = compileFirstOf(response.error_code);
  const errorMessage = compileFirstOf(response.error_message);
  const answerParameters = Object.entries(response.parameters ?? {}).map(
    ([name, path]) => [name, compilePath(path)] as const,
  );

  return (method, http, secrets) => {
    if (http.status === 401 || http.status === 403) throw new Unauthorized('The gateway refused the credentials');
    if (http.status < 200 || http.status > 299) {
      throw new GatewayHttpError(`The gateway answered HTTP ${http.status}`);
    }
    const answer = parse(http.body);
    if (unauthorized(answer)) throw new Unauthorized('The gateway refused the credentials');

    const parameters: Record<string, string> = {};
    for (const [name, get] of answerParameters) {
      const value = get(answer);
      if (isScalar(value)) parameters[name] = clean(String(value), secrets);
    }

    if (success[method](answer)) {
      const value = id[method](answer);
      if (!isScalar(value)) throw new GatewayBadResponse('The gateway reported success without a transaction id');
      return { approved: true, id: String(value), parameters };
    }
    const code = errorCode(answer);
    const message = errorMessage(answer);
    const text = isScalar(message) ? clean(String(message), secrets) : 'The gateway refused the transaction';
    if (!isScalar(code)) throw new GatewayRejected(text);
    return { approved: false, errorCode: String(code).slice(0, MAX_TEXT), errorMessage: text, parameters };
  };
}

function clean(text: string, secrets: readonly Secret[]): string {
  return scrubSecrets(text, secrets).slice(0, MAX_TEXT);
}

function isScalar(value: unknown): value is string | number | boolean {
  return (typeof value === 'string' && value.length > 0) || typeof value === 'number' || typeof value === 'boolean';
}

function parseJsonAnswer(body: string): Answer {
  let parsed: unknown;
  try {
    // Some gateways (Authorize.Net) put a byte-order mark before the JSON.
    parsed = JSON.parse(body.replace(/^\uFEFF/, ''));
  } catch {
    throw new GatewayBadResponse('The gateway answer is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayBadResponse('The gateway answer is not a JSON object');
  }
  return parsed as Answer;
}

function parseFormAnswer(body: string): Answer {
  const text = body.trim();
  if (text.length === 0 || text.startsWith('<') || !text.includes('=')) {
    throw new GatewayBadResponse('The gateway answer is not a query string');
  }
  return Object.fromEntries(new URLSearchParams(text));
}

function compileSuccess(success: MappingDocument['response']['success']): Record<PaymentMethod, Test> {
  if ('charge' in success && 'tokenize' in success) {
    return { charge: compileCondition(success.charge), tokenize: compileCondition(success.tokenize) };
  }
  const test = compileCondition(success as Condition);
  return { charge: test, tokenize: test };
}

export function compileCondition(condition: Condition): Test {
  if ('all' in condition) {
    const tests = condition.all.map(compileCondition);
    return (answer) => tests.every((test) => test(answer));
  }
  if ('any' in condition) {
    const tests = condition.any.map(compileCondition);
    return (answer) => tests.some((test) => test(answer));
  }
  if ('not' in condition) {
    const test = compileCondition(condition.not);
    return (answer) => !test(answer);
  }
  const get = compilePath(condition.path);
  if ('exists' in condition) {
    const wanted = condition.exists;
    return (answer) => (get(answer) !== undefined && get(answer) !== null) === wanted;
  }
  const accepted = 'in' in condition ? condition.in : [condition.equals];
  // Gateways are loose with types (true / "true", 0 / "0"): compare by text as well.
  return (answer) => {
    const value = get(answer);
    return accepted.some((expected) => value === expected || (value != null && expected != null && String(value) === String(expected)));
  };
}

function compilePerMethod(paths: MappingDocument['response']['id']): Record<PaymentMethod, Getter> {
  if (typeof paths === 'object' && !Array.isArray(paths) && 'charge' in paths) {
    return { charge: compileFirstOf(paths.charge), tokenize: compileFirstOf(paths.tokenize) };
  }
  const getter = compileFirstOf(paths as Paths);
  return { charge: getter, tokenize: getter };
}

function compileFirstOf(paths: Paths): Getter {
  const getters = ([] as Array<string | Join>).concat(paths).map((path) => (typeof path === 'string' ? compilePath(path) : compileJoin(path)));
  return (answer) => {
    for (const get of getters) {
      const value = get(answer);
      if (value !== undefined && value !== null && value !== '') return value;
    }
    return undefined;
  };
}

/** Joined values, e.g. `profileid/acctid`; nothing when one of them is missing. */
function compileJoin({ join, separator = '/' }: Join): Getter {
  const getters = join.map(compilePath);
  return (answer) => {
    const values = getters.map((get) => get(answer));
    return values.every(isScalar) ? values.map(String).join(separator) : undefined;
  };
}

/** `a.b[0].c` -> a function reading that path; own properties only. */
export function compilePath(path: string): Getter {
  const segments = path.split(/\.|\[(\d+)\]/).filter((segment) => segment !== undefined && segment !== '');
  return (answer) => {
    let current: unknown = answer;
    for (const segment of segments) {
      if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
      current = (current as Record<string, unknown>)[segment];
    }
    return current;
  };
}
