import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { CaptureField } from './card-rules';
import { isCaptureField } from './pay-options';

/** A custom `<Prompt>`: what to say for one step, optionally only at some attempts, after some errors, or for some card types. */
export interface PayPrompt {
  for: CaptureField | 'payment-processing';
  attempts?: number[];
  errorTypes?: string[];
  cardTypes?: string[];
  /** Said when the caller is asked to type the field a second time, to match. */
  requireMatchingInputs: boolean;
  text: string;
}

/** What a TwiML `<Pay>` verb carries: its attributes, its `<Parameter>` nouns and its `<Prompt>`s. */
export interface PayTwiml {
  attributes: Record<string, string>;
  parameters: Record<string, string>;
  prompts: PayPrompt[];
}

/** The verbs the simulator runs, in document order. */
export type TwimlVerb =
  | { verb: 'Say'; text: string }
  | { verb: 'Play'; url: string }
  | { verb: 'Pause'; seconds: number }
  | { verb: 'Pay'; pay: PayTwiml }
  | { verb: 'Redirect'; url: string; method: 'GET' | 'POST' }
  | { verb: 'Hangup' }
  | { verb: 'Unsupported'; name: string };

/** A document Twilio would refuse to run (its error 12100, "Document parse failure"). */
export class TwimlError extends Error {}

/** One element of fast-xml-parser's ordered output: `{ Tag: [children], ':@': {attributes} }` or `{ '#text': '...' }`. */
type Node = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
});

const PROMPT_STEPS = ['payment-card-number', 'expiration-date', 'security-code', 'postal-code', 'bank-routing-number', 'bank-account-number', 'payment-processing'];

/**
 * Reads a TwiML document, as an app returns it to Twilio: `<Response>` and its verbs in order.
 * Documents with a DOCTYPE are refused: TwiML has none, and refusing it rules out entity expansion.
 */
export function readTwiml(document: string): TwimlVerb[] {
  const response = parse(document).find((node) => tagOf(node) === 'Response');
  if (!response) throw new TwimlError('TwiML must have a <Response> root');
  return childrenOf(response).filter((node) => tagOf(node) !== undefined).map(readVerb);
}

/**
 * The `<Pay>` verb of a document (`<Response>…<Pay>…</Pay></Response>`, or a bare `<Pay>`):
 * what the simulator's direct `<Pay>` endpoint runs. Exactly one is expected.
 */
export function readPayTwiml(document: string): PayTwiml {
  const top = parse(document);
  const response = top.find((node) => tagOf(node) === 'Response');
  const verbs = (response ? childrenOf(response) : top).filter((node) => tagOf(node) === 'Pay');
  if (verbs.length === 0) throw new TwimlError('TwiML has no <Pay> verb');
  if (verbs.length > 1) throw new TwimlError('TwiML has more than one <Pay> verb');
  return readPay(verbs[0] as Node);
}

function parse(document: string): Node[] {
  if (/<!DOCTYPE/i.test(document)) throw new TwimlError('TwiML must not contain a DOCTYPE');
  const valid = XMLValidator.validate(document);
  if (valid !== true) throw new TwimlError(`TwiML is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  return parser.parse(document) as Node[];
}

const tagOf = (node: Node): string | undefined => Object.keys(node).find((key) => key !== ':@' && key !== '#text' && !key.startsWith('?'));
const childrenOf = (node: Node): Node[] => {
  const tag = tagOf(node);
  return tag ? ((node[tag] as Node[] | undefined) ?? []) : [];
};
const attributesOf = (node: Node): Record<string, string> => {
  const attributes = (node[':@'] ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(attributes).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
};
const textOf = (node: Node): string =>
  childrenOf(node)
    .map((child) => (typeof child['#text'] === 'string' ? child['#text'] : ''))
    .join(' ')
    .trim();

function readVerb(node: Node): TwimlVerb {
  const name = tagOf(node) ?? '';
  const attributes = attributesOf(node);
  switch (name) {
    case 'Say':
      return { verb: 'Say', text: textOf(node) };
    case 'Play':
      return { verb: 'Play', url: textOf(node) };
    case 'Pause': {
      const length = Number(attributes.length ?? '1');
      return { verb: 'Pause', seconds: Number.isFinite(length) && length >= 0 ? length : 1 };
    }
    case 'Pay':
      return { verb: 'Pay', pay: readPay(node) };
    case 'Redirect': {
      const url = textOf(node);
      if (!url) throw new TwimlError('<Redirect> needs a URL');
      return { verb: 'Redirect', url, method: attributes.method?.toUpperCase() === 'GET' ? 'GET' : 'POST' };
    }
    case 'Hangup':
      return { verb: 'Hangup' };
    default:
      return { verb: 'Unsupported', name };
  }
}

function readPay(node: Node): PayTwiml {
  const parameters: Record<string, string> = {};
  const prompts: PayPrompt[] = [];
  for (const child of childrenOf(node)) {
    const tag = tagOf(child);
    const attributes = attributesOf(child);
    if (tag === 'Parameter') {
      if (!attributes.name) throw new TwimlError('<Parameter> needs a name');
      parameters[attributes.name] = attributes.value ?? '';
    } else if (tag === 'Prompt') {
      prompts.push(readPrompt(child));
    }
  }
  return { attributes: attributesOf(node), parameters, prompts };
}

function readPrompt(prompt: Node): PayPrompt {
  const attributes = attributesOf(prompt);
  const step = attributes.for;
  if (!step || !PROMPT_STEPS.includes(step)) throw new TwimlError(`<Prompt for> must be one of ${PROMPT_STEPS.join(', ')}`);
  const list = (value: string | undefined) => (value === undefined ? undefined : value.split(/\s+/).filter(Boolean));
  const text = childrenOf(prompt)
    .filter((child) => tagOf(child) === 'Say')
    .map(textOf)
    .filter(Boolean)
    .join(' ');
  return {
    for: isCaptureField(step) ? step : 'payment-processing',
    attempts: list(attributes.attempt)?.map(Number),
    // TwiML names the timeout `timeout`; status callbacks name it `input-timeout`.
    errorTypes: list(attributes.errorType)?.map((type) => (type === 'timeout' ? 'input-timeout' : type)),
    cardTypes: list(attributes.cardType),
    requireMatchingInputs: attributes.requireMatchingInputs === 'true',
    text,
  };
}
