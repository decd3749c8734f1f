import { createAjv } from '../ajv';
import { loadCheckedFile } from '../config/data-file';
import { ConfigError } from '../errors';
import schema from './ivr-prompts.schema.json';
import type { FieldKey, SessionState } from './session';

/** A step of `<Pay>` a prompt is for: a field, or the wait while the connector is called. */
export type PromptStep = FieldKey | 'processing';

export interface PromptEntry {
  say: string;
  attempt?: number[];
  error_type?: string[];
  card_type?: string[];
  matching?: boolean;
}

export interface LanguagePrompts {
  prompts?: Partial<Record<PromptStep, PromptEntry[]>>;
  goodbye?: Partial<Record<Extract<SessionState, 'succeeded' | 'failed' | 'cancelled' | 'expired'>, string>>;
}

export interface IvrPromptsFile {
  languages: Record<string, LanguagePrompts>;
}

/** What a session without a language speaks: Twilio's default. */
export const DEFAULT_LANGUAGE = 'en-US';

const validatePrompts = createAjv({ useDefaults: true, verbose: true }).compile<IvrPromptsFile>(schema);

/** Prompts by language, from IVR_PROMPTS_FILE (YAML or JSON), checked at start-up; an error names the file, line and path. */
export class IvrPrompts {
  private constructor(private readonly file: IvrPromptsFile) {}

  static load(path: string): IvrPrompts {
    return new IvrPrompts(loadCheckedFile(path, validatePrompts, (message) => new ConfigError(`IVR_PROMPTS_FILE ${message}`)).document);
  }

  /** None: Twilio's own prompts, in English goodbyes. */
  static none(): IvrPrompts {
    return new IvrPrompts({ languages: {} });
  }

  for(language: string | undefined): LanguagePrompts {
    return this.file.languages[language ?? DEFAULT_LANGUAGE] ?? {};
  }
}
