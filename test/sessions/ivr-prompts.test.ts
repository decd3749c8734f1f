import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../src/errors';
import { IvrPrompts } from '../../src/sessions/ivr-prompts';
import { temporaryDataDir } from '../helpers/service';

/** The prompts file is data, checked at start-up: an error names the file, the line and the path. */
const EXAMPLE = path.join(__dirname, '..', '..', 'prompts', 'ivr-prompts.example.yaml');

function written(text: string, name = 'prompts.yaml'): string {
  const file = path.join(temporaryDataDir(), name);
  fs.writeFileSync(file, text);
  return file;
}

test('the example prompts file loads, with its languages; a language it lacks gets Twilio defaults', () => {
  const prompts = IvrPrompts.load(EXAMPLE);
  expect(prompts.for(undefined).prompts?.card_number?.[0]?.say).toBe('Please enter your card number, followed by the pound key.');
  expect(prompts.for('es-US').goodbye?.succeeded).toContain('Gracias');
  expect(prompts.for('fr-FR')).toEqual({});
  expect(IvrPrompts.none().for('en-US')).toEqual({});
});

test.each([
  ['an unknown step', 'languages:\n  en-US:\n    prompts:\n      card_numbr:\n        - say: Hello\n', /prompts\.yaml:4:7: at languages\.en-US\.prompts: unknown key "card_numbr"/],
  ['an unknown language', 'languages:\n  xx-XX:\n    prompts: {}\n', /prompts\.yaml:2:3: at languages: must be one of "de-DE", .*; key "xx-XX" is not allowed/],
  ['an attempt Twilio does not have', 'languages:\n  en-US:\n    prompts:\n      expiry:\n        - say: Hi\n          attempt: [4]\n', /prompts\.yaml:6:\d+: at languages\.en-US\.prompts\.expiry\[0\]\.attempt\[0\]: must be one of 1, 2, 3/],
  ['markup in a sentence', 'languages:\n  en-US:\n    goodbye:\n      failed: "<Hangup/>"\n', /prompts\.yaml:4:\d+: at languages\.en-US\.goodbye\.failed: must match pattern/],
  ['a prompt without words', 'languages:\n  en-US:\n    prompts:\n      expiry:\n        - attempt: [1]\n', /prompts\.yaml:5:\d+: at languages\.en-US\.prompts\.expiry\[0\]: missing required key "say"/],
  ['text that is not YAML', 'languages: [\n', /prompts\.yaml:\d+:\d+: not valid YAML/],
])('when the file has %s, then start-up stops with the file, line and path', (_what, text, message) => {
  const file = written(text);
  expect(() => IvrPrompts.load(file)).toThrow(ConfigError);
  expect(() => IvrPrompts.load(file)).toThrow(message);
});

test('when the file is missing, then the error says which', () => {
  expect(() => IvrPrompts.load('/nowhere/prompts.yaml')).toThrow('IVR_PROMPTS_FILE /nowhere/prompts.yaml: cannot be read');
});
