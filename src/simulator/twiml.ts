import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { CAPTURE_FIELDS, type CaptureField } from './card-rules';

/** A custom `<Prompt>`: what to say for one field, optionally only at some attempts or after some errors. */
export interface PayPrompt {
  for: CaptureField;
  attempts?: number[];
  errorTypes?: string[];
  text: string;
}

/** What a TwiML `<Pay>` verb carries: its attributes, its `<Parameter>` nouns and its `<Prompt>`s. */
export interface PayTwiml {
  attributes: Record<string, string>;
  parameters: Record<string, string>;
  prompts: PayPrompt[];
}

/** A document Twilio would refuse to run (its error 12100, "Document parse failure"). */
export class TwimlError extends Error {}

type Element = Record<string, unknown>;

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  isArray: (name) => ['Pay', 'Parameter', 'Prompt', 'Say'].includes(name),
});

/**
 * Reads the `<Pay>` verb of a TwiML document, as an IVR app would return it to Twilio:
 * `<Response><Pay chargeAmount="10.00" action="..."><Parameter name="k" value="v"/></Pay></Response>`.
 * A bare `<Pay>` element is accepted as well. Documents with a DOCTYPE are refused: TwiML
 * has none, and refusing it rules out entity expansion.
 */
export function readPayTwiml(document: string): PayTwiml {
  if (/<!DOCTYPE/i.test(document)) throw new TwimlError('TwiML must not contain a DOCTYPE');
  const valid = XMLValidator.validate(document);
  if (valid !== true) throw new TwimlError(`TwiML is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const root = parser.parse(document) as Element;
  const response = (root.Response ?? root) as Element;
  const verbs = response.Pay as Element[] | undefined;
  if (!verbs || verbs.length === 0) throw new TwimlError('TwiML has no <Pay> verb');
  if (verbs.length > 1) throw new TwimlError('TwiML has more than one <Pay> verb');
  const pay = verbs[0]!;

  const attributes: Record<string, string> = {};
  for (const [name, value] of Object.entries(pay)) {
    if (typeof value === 'string') attributes[name] = value;
  }
  const parameters: Record<string, string> = {};
  for (const parameter of (pay.Parameter as Element[] | undefined) ?? []) {
    if (typeof parameter.name !== 'string' || parameter.name === '') throw new TwimlError('<Parameter> needs a name');
    parameters[parameter.name] = typeof parameter.value === 'string' ? parameter.value : '';
  }
  return { attributes, parameters, prompts: ((pay.Prompt as Element[] | undefined) ?? []).map(readPrompt) };
}

function readPrompt(prompt: Element): PayPrompt {
  const field = prompt.for;
  if (typeof field !== 'string' || !(CAPTURE_FIELDS as readonly string[]).includes(field)) {
    throw new TwimlError(`<Prompt for> must be one of ${CAPTURE_FIELDS.join(', ')}`);
  }
  const list = (value: unknown) => (typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : undefined);
  const text = ((prompt.Say as unknown[] | undefined) ?? [])
    .map((say) => (typeof say === 'string' ? say : String((say as Element)['#text'] ?? '')))
    .filter(Boolean)
    .join(' ');
  return {
    for: field as CaptureField,
    attempts: list(prompt.attempt)?.map(Number),
    errorTypes: list(prompt.errorType),
    text,
  };
}
