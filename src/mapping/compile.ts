import type { PaymentMethod, Tender } from '../contract/payment-request';
import { canonicalAmount, toMinorUnits } from '../contract/amount';
import { InvalidRequest, MappingError } from '../errors';
import { Secret, reveal, secret, type MaybeSecret } from '../redaction/secret';
import type { SecretReader } from '../config/settings';
import { compileAnswerReader, type AnswerReader } from './gateway-answer';
import { compileCredentialCheck, type CredentialCheck } from './credential-rules';
import { isSensitiveSource, type RequestValues } from './values';
import type { FieldRule, MappingSource, PartRule, ValueFormat } from './types';

/** A gateway request before encoding: ordered fields, sensitive ones as Secrets. */
export interface GatewayRequest {
  method: 'POST' | 'PUT';
  encoding: 'form' | 'json';
  /** Header values built from credentials are Secrets, like sensitive fields. */
  headers: Record<string, MaybeSecret>;
  fields: Array<[name: string, value: MaybeSecret]>;
}

/** A mapping file turned into plain functions, once, at start-up. */
export interface CompiledMapping {
  name: string;
  title: string;
  supports(method: PaymentMethod, tender: Tender): boolean;
  /** How the Basic auth credentials are checked, and which of them identifies the gateway account. */
  credentials: CredentialCheck;
  buildRequest(values: RequestValues, method: PaymentMethod, tender: Tender): GatewayRequest;
  readAnswer: AnswerReader;
}

type Value = MaybeSecret | undefined;
type ValueOf = (values: RequestValues) => Value;

interface CompiledField {
  target: string;
  /** Rules in order; the first whose `when` matches applies. */
  rules: Array<{ applies: (method: PaymentMethod, tender: Tender) => boolean; value: ValueOf; optional: boolean; sources: string[] }>;
}

/**
 * Compiles a validated mapping file. Checks that the schema cannot express (a
 * field built from card data that is not declared sensitive, an override of a
 * credential) fail here, naming the file and the path.
 */
export function compileMapping(source: MappingSource, readSecret: SecretReader): CompiledMapping {
  const { document, locate } = source;
  const fail = (at: Array<string | number>, message: string): never => {
    throw new MappingError(`${locate(at)}: at ${at.join('.')}: ${message}`);
  };

  const sensitive = new Set(document.request.sensitive ?? []);
  for (const [index, name] of [...sensitive].entries()) {
    if (!(name in document.request.fields)) fail(['request', 'sensitive', index], `"${name}" is not a field of request.fields`);
  }
  refuseSecretsInFile(document, sensitive, fail);

  const readEnv = (variable: string, at: Array<string | number>): Secret => {
    const value = readSecret(variable);
    if (value === undefined) fail(at, `environment variable ${variable} (or ${variable}_FILE) is not set`);
    return secret.hidden(value as string);
  };

  const fields: CompiledField[] = Object.entries(document.request.fields).map(([target, ruleOrRules]) => {
    const list = Array.isArray(ruleOrRules) ? ruleOrRules : [ruleOrRules];
    const rules = list.map((rule, index) => {
      const at = Array.isArray(ruleOrRules) ? ['request', 'fields', target, index] : ['request', 'fields', target];
      const sources = sourcesOf(rule);
      const readsSecret = sources.find(isSensitiveSource);
      if (readsSecret && !sensitive.has(target)) {
        fail(at, `takes ${readsSecret}, which is sensitive: list "${target}" in request.sensitive`);
      }
      const value = compileRule(rule, target, at, readEnv);
      return {
        applies: compileWhen(rule.when),
        value: sensitive.has(target) ? hideValue(value) : value,
        optional: rule.optional === true,
        sources,
      };
    });
    return { target, rules };
  });

  const declared = new Map(fields.map((field) => [field.target, field]));
  const overridable = new Set(document.request.parameters?.override ?? []);
  for (const [index, name] of [...overridable].entries()) {
    const at = ['request', 'parameters', 'override', index];
    const field = declared.get(name);
    if (!field) fail(at, `"${name}" is not a field of request.fields`);
    if (sensitive.has(name) || field!.rules.some((rule) => rule.sources.some((s) => s.startsWith('auth.') || s.startsWith('env.')))) {
      fail(at, `"${name}" carries card, bank or credential data and can never be overridden by a parameter`);
    }
  }
  const allow = document.request.parameters?.allow ?? [];
  const isAllowed = allow === '*' ? () => true : (key: string) => allow.includes(key);

  const supports = document.supports;
  const credentials = compileCredentialCheck(document, readSecret, fail);
  const headers = Object.entries(document.request.headers ?? {}).map(([name, value]) => {
    if (typeof value === 'string') return [name, () => value] as const;
    const [username, password] = value.basic.map((from, index) => compilePart({ from }, ['request', 'headers', name, 'basic', index], readEnv));
    return [name, (values: RequestValues) => basicAuthorization(username!(values), password!(values))] as const;
  });
  const method = document.request.method ?? 'POST';
  const encoding = document.request.encoding;

  return {
    name: document.name,
    title: document.title ?? document.name,
    supports: (payMethod, tender) => (supports[payMethod] ?? []).includes(tender),
    credentials,

    buildRequest(values, payMethod, tender) {
      const out: Array<[string, MaybeSecret]> = [];
      const missing: string[] = [];
      for (const field of fields) {
        const rule = field.rules.find((candidate) => candidate.applies(payMethod, tender));
        if (!rule) continue;
        const value = rule.value(values);
        if (value !== undefined && value.length > 0) out.push([field.target, value]);
        else if (!rule.optional) missing.push(`${field.target} (from ${rule.sources.join(' + ') || 'a constant'})`);
      }
      if (missing.length > 0) {
        throw new InvalidRequest(`Invalid request: ${document.name} needs ${missing.join(', ')}, which is empty`);
      }
      for (const [key, value] of values) {
        if (!key.startsWith('parameters.')) continue;
        const name = key.slice('parameters.'.length);
        if (!isAllowed(name)) continue;
        if (!declared.has(name)) out.push([name, value]);
        else if (overridable.has(name)) {
          const index = out.findIndex(([target]) => target === name);
          if (index >= 0) out[index] = [name, value];
          else out.push([name, value]);
        }
      }
      const headerValues: Record<string, MaybeSecret> = {};
      for (const [name, build] of headers) {
        const value = build(values);
        if (value === undefined) throw new InvalidRequest(`Invalid request: ${document.name} needs the ${name} header, whose credentials are empty`);
        headerValues[name] = value;
      }
      return { method, encoding, headers: headerValues, fields: out };
    },

    readAnswer: compileAnswerReader(document.response),
  };
}

/** The longest constant part a sensitive field's concat may hold: a separator or a century ('20'), never a key. */
const MAX_SENSITIVE_CONSTANT_PART = 4;

/**
 * A mapping file is not a place for a gateway secret: a field declared sensitive
 * cannot take a value written in the file (const, default, map, or a concat made of
 * constants), and an Authorization or Proxy-Authorization header cannot be a constant.
 * Secrets come from the request's credentials (auth.*) or the environment (env.*).
 */
function refuseSecretsInFile(
  document: MappingSource['document'],
  sensitive: ReadonlySet<string>,
  fail: (at: Array<string | number>, message: string) => never,
): void {
  const instead = 'a secret never goes in a mapping file; read it with from: auth.password or from: env.<VARIABLE>';
  for (const [target, ruleOrRules] of Object.entries(document.request.fields)) {
    if (!sensitive.has(target)) continue;
    const list = Array.isArray(ruleOrRules) ? ruleOrRules : [ruleOrRules];
    list.forEach((rule, index) => {
      const at = Array.isArray(ruleOrRules) ? ['request', 'fields', target, index] : ['request', 'fields', target];
      if (rule.const !== undefined) fail([...at, 'const'], `"${target}" is sensitive and cannot be a constant: ${instead}`);
      if (rule.default !== undefined) fail([...at, 'default'], `"${target}" is sensitive and cannot have a default: ${instead}`);
      if (rule.map !== undefined) fail([...at, 'map'], `"${target}" is sensitive and cannot have a value map: ${instead}`);
      if (!rule.concat) return;
      if (rule.concat.every((part) => part.const !== undefined)) {
        fail([...at, 'concat'], `"${target}" is sensitive and cannot be made of constants only: ${instead}`);
      }
      rule.concat.forEach((part, partIndex) => {
        if (part.const !== undefined && part.const.length > MAX_SENSITIVE_CONSTANT_PART) {
          fail(
            [...at, 'concat', partIndex, 'const'],
            `"${target}" is sensitive: a constant part of its concat may have at most ${MAX_SENSITIVE_CONSTANT_PART} characters (a separator, a century); ${instead}`,
          );
        }
      });
    });
  }
  for (const [name, value] of Object.entries(document.request.headers ?? {})) {
    if (typeof value === 'string' && /^(proxy-)?authorization$/i.test(name)) {
      fail(
        ['request', 'headers', name],
        `a constant ${name} header would put a credential in the mapping file: use { basic: [username source, password source] } with auth.* or env.* sources`,
      );
    }
  }
}

function sourcesOf(rule: FieldRule): string[] {
  const parts: PartRule[] = rule.concat ?? [rule];
  return parts.map((part) => part.from).filter((from): from is string => from !== undefined);
}

function compileWhen(when: FieldRule['when']): (method: PaymentMethod, tender: Tender) => boolean {
  if (!when) return () => true;
  const methods = when.method === undefined ? undefined : ([] as string[]).concat(when.method);
  const tenders = when.tender === undefined ? undefined : ([] as string[]).concat(when.tender);
  return (method, tender) => (methods?.includes(method) ?? true) && (tenders?.includes(tender) ?? true);
}

function compileRule(
  rule: FieldRule,
  target: string,
  at: Array<string | number>,
  readEnv: (variable: string, at: Array<string | number>) => Secret,
): ValueOf {
  let read: ValueOf;
  if (rule.concat) {
    const parts = rule.concat.map((part, index) => compilePart(part, [...at, 'concat', index], readEnv));
    read = (values) => {
      const pieces = parts.map((part) => part(values));
      if (pieces.some((piece) => piece === undefined || piece.length === 0)) return undefined;
      return joinValues(pieces as MaybeSecret[]);
    };
  } else {
    read = compilePart(rule, at, readEnv);
  }

  const { map, format } = rule;
  const mapped: ValueOf = map
    ? (values) => {
        const value = read(values);
        if (value === undefined) return undefined;
        const replacement = Object.hasOwn(map, String(reveal(value))) ? map[reveal(value)] : undefined;
        if (replacement === undefined) {
          throw new InvalidRequest(`Invalid request: ${target} has no mapping for the value given`);
        }
        return replacement;
      }
    : read;
  const formatted: ValueOf = format ? (values) => applyFormat(mapped(values), format, target) : mapped;
  const fallback = rule.default;
  return fallback === undefined ? formatted : (values) => {
    const value = formatted(values);
    return value === undefined || value.length === 0 ? fallback : value;
  };
}

function compilePart(part: PartRule, at: Array<string | number>, readEnv: (variable: string, at: Array<string | number>) => Secret): ValueOf {
  let read: ValueOf;
  if (part.const !== undefined) {
    const constant = part.const;
    read = () => constant;
  } else if (part.from!.startsWith('env.')) {
    const configured = readEnv(part.from!.slice('env.'.length), [...at, 'from']);
    read = () => configured;
  } else {
    const from = part.from!;
    read = (values) => values.get(from);
  }
  const { first, last, pad } = part;
  if (first === undefined && last === undefined && pad === undefined) return read;
  return (values) => {
    const value = read(values);
    if (value === undefined) return undefined;
    return transform(value, (text) => {
      const kept = last !== undefined ? text.slice(-last) : first !== undefined ? text.slice(0, first) : text;
      return pad === undefined ? kept : kept.padStart(pad, '0');
    });
  };
}

function applyFormat(value: Value, format: ValueFormat, target: string): Value {
  if (value === undefined) return undefined;
  switch (format) {
    case 'upper':
      return transform(value, (text) => text.toUpperCase());
    case 'lower':
      return transform(value, (text) => text.toLowerCase());
    case 'decimal':
    case 'minor-units': {
      const canonical = /^[0-9]+(\.[0-9]+)?$/.test(reveal(value)) ? canonicalAmount(reveal(value)) : undefined;
      if (canonical === undefined) throw new InvalidRequest(`Invalid request: ${target} must be an amount`);
      return format === 'decimal' ? canonical : toMinorUnits(canonical);
    }
  }
}

/** Transforming a secret gives a secret: derived card data stays hidden. */
function transform(value: MaybeSecret, change: (text: string) => string): MaybeSecret {
  return value instanceof Secret ? secret.hidden(change(value.reveal())) : change(value);
}

function joinValues(pieces: MaybeSecret[]): MaybeSecret {
  const text = pieces.map(reveal).join('');
  return pieces.some((piece) => piece instanceof Secret) ? secret.hidden(text) : text;
}

function hideValue(read: ValueOf): ValueOf {
  return (values) => {
    const value = read(values);
    return value === undefined || value instanceof Secret ? value : secret.hidden(value);
  };
}

/** `Authorization: Basic base64(username:password)`, held as a Secret. */
function basicAuthorization(username: Value, password: Value): Secret | undefined {
  if (username === undefined || password === undefined || username.length === 0 || password.length === 0) return undefined;
  return secret.hidden(`Basic ${Buffer.from(`${reveal(username)}:${reveal(password)}`).toString('base64')}`);
}
