import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ValidateFunction } from 'ajv';
import { describeAjvError } from '../ajv';
import { ConfigError } from '../errors';
import type { Logger } from '../logging/logger';

/** How often the file is looked at (one stat) in case fs.watch misses a change, as it can on network and container file systems. */
export const WATCHED_FILE_POLL_INTERVAL_MS = 2000;
/** Editors and the CLIs touch the file in several steps: one reload after they settle. */
const WATCH_SETTLE_MS = 100;

/** What reading a file found. Problems name the JSON path and the rule, never a value. */
export type FileReading<T> = { state: 'missing' } | { state: 'invalid'; problems: string[] } | { state: 'valid'; document: T };

export interface WatchedFileOptions<T> {
  file: string;
  logger: Logger;
  /** How log lines name the file's content: `api clients`, `console users`. */
  label: string;
  /** What a missing or removed file means, for its log line: `no session API clients`. */
  whenMissing: string;
  /** What an invalid or unreadable file leaves in force: `the last good clients`. */
  keeping: string;
  /** The start-up error's text: `API_CLIENTS_FILE /data/api-clients.json: clients[0].scopes: ...`. */
  describeProblems(file: string, problems: readonly string[]): string;
  parse(text: string): FileReading<T>;
  /** A valid file was read (at start or after a change); the fields are logged with `<label> loaded`. */
  apply(document: T): Record<string, unknown>;
  /** The file is gone (after having been there). */
  clear(): void;
  /** Logged (with the mode) when other users may read the file. */
  permissionWarning?: string;
  pollIntervalMs?: number;
  /** Watch the file's folder (default); off, only the periodic stat notices changes. */
  watch?: boolean;
}

/**
 * A configuration file that CLIs edit and the running service re-reads (decisions item 8): read at
 * start, where an invalid file stops start-up and a missing one means nothing configured; then
 * re-read when it changes (fs.watch on its folder, and a periodic stat as a fallback), validated
 * the same way: an invalid file keeps the last good content and logs why, by JSON path, never a
 * value.
 */
export class WatchedFile<T> {
  /** The text last read (undefined: no file): a change that changes nothing is not reloaded or logged again. */
  private lastText?: string;
  private lastSignature = 'missing';
  private watcher?: fs.FSWatcher;
  private settleTimer?: NodeJS.Timeout;
  private readonly pollTimer: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private closed = false;

  constructor(private readonly options: WatchedFileOptions<T>) {
    this.loadAtStart();
    if (options.watch !== false) this.watch();
    this.pollTimer = setInterval(() => void this.poll(), options.pollIntervalMs ?? WATCHED_FILE_POLL_INTERVAL_MS);
    this.pollTimer.unref();
  }

  get file(): string {
    return this.options.file;
  }

  /** Reads the file again now (the watcher and the poll call this; so may an operator's command). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      try {
        do {
          this.reloadAgain = false;
          await this.readAndApply();
        } while (this.reloadAgain && !this.closed);
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.settleTimer);
    this.watcher?.close();
    await this.reloading;
  }

  private loadAtStart(): void {
    const { file, logger, label } = this.options;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`Invalid configuration: ${this.options.describeProblems(file, [unreadable(error)])}`);
      logger.info(`${label} file not found: ${this.options.whenMissing}`, { file });
      return;
    }
    this.lastSignature = signature(file);
    const reading = this.options.parse(text);
    if (reading.state !== 'valid') {
      throw new ConfigError(`Invalid configuration: ${this.options.describeProblems(file, reading.state === 'invalid' ? reading.problems : [])}`);
    }
    this.apply(text, reading.document);
  }

  private async readAndApply(): Promise<void> {
    const { file, logger, label } = this.options;
    this.lastSignature = signature(file);
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        logger.warn(`${label} file unreadable; keeping ${this.options.keeping}`, { file, problems: [unreadable(error)] });
        return;
      }
      if (this.lastText === undefined) return;
      this.lastText = undefined;
      this.options.clear();
      logger.warn(`${label} file removed: ${this.options.whenMissing}`, { file });
      return;
    }
    if (this.closed || text === this.lastText) return;
    this.lastText = text;
    const reading = this.options.parse(text);
    if (reading.state !== 'valid') {
      const problems = reading.state === 'invalid' ? reading.problems : [];
      logger.warn(`${label} file invalid; keeping ${this.options.keeping}`, { file, problems });
      return;
    }
    this.apply(text, reading.document);
  }

  private apply(text: string, document: T): void {
    const { file, logger, label } = this.options;
    this.lastText = text;
    logger.info(`${label} loaded`, { file, ...this.options.apply(document) });
    const mode = statMode(file);
    if (this.options.permissionWarning && mode !== undefined && (mode & 0o077) !== 0) {
      logger.warn(this.options.permissionWarning, { file, mode: mode.toString(8) });
    }
  }

  /** Watches the folder, not the file: the CLIs replace the file by a rename, which ends a watch on the file itself. */
  private watch(): void {
    const { file } = this.options;
    try {
      this.watcher = fs.watch(path.dirname(file), { persistent: false }, (_event, name) => {
        if (name !== null && name !== path.basename(file)) return;
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.reload(), WATCH_SETTLE_MS);
        this.settleTimer.unref();
      });
      this.watcher.on('error', () => {
        // The folder went away or the platform gave up: the poll carries on, and watches again later.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // no folder yet: the poll notices the file when it comes
    }
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    if (this.options.watch !== false && !this.watcher) this.watch();
    if (signature(this.options.file) !== this.lastSignature) await this.reload();
  }
}

/** Identity, size and time of the file: a rename over it, or an edit in place, changes it. */
function signature(file: string): string {
  try {
    const stat = fs.statSync(file, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch {
    return 'missing';
  }
}

function statMode(file: string): number | undefined {
  if (process.platform === 'win32') return undefined;
  try {
    return fs.statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

function unreadable(error: unknown): string {
  return `cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`;
}

/**
 * Writes the whole file at once: a temporary file in the same folder (mode 0600, flushed), then
 * a rename over the old one, so the service never reads half a file and a crash leaves either the
 * old one or the new one.
 */
export function writeFileAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const draft = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const descriptor = fs.openSync(draft, 'wx', 0o600);
    try {
      fs.writeFileSync(descriptor, text);
      fs.fsyncSync(descriptor);
    } finally {
      fs.closeSync(descriptor);
    }
    fs.renameSync(draft, file);
  } finally {
    fs.rmSync(draft, { force: true });
  }
}

/** A file read from disk: missing, unreadable (its error code only), or parsed by `parse`. */
export function readWatchedFile<T>(file: string, parse: (text: string) => FileReading<T>): FileReading<T> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'missing' };
    return { state: 'invalid', problems: [`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`] };
  }
  return parse(text);
}

/** How to check the entries of a JSON file of named entries (API clients, console users). */
export interface EntriesRules<T, E> {
  /** The document's schema, compiled. */
  validate: ValidateFunction<T>;
  /** The list's key in the document (`clients`, `users`). */
  list: string;
  entries(document: T): readonly E[];
  /** The entry's field that names it, unique in the file (`client_id`, `name`). */
  nameField: string;
  nameOf(entry: E): string;
  /** Each entry's own problems, as `field: rule` (never a value). */
  problemsOf(entry: E): string[];
}

/**
 * A JSON file of named entries, checked: its schema, each name once, each entry's own rules.
 * Problems name the JSON path and the rule, never a value (JSON.parse's own message quotes the
 * text around the mistake, which may be a secret, so it is not passed on).
 */
export function parseEntriesFile<T, E>(text: string, rules: EntriesRules<T, E>): FileReading<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: 'invalid', problems: ['is not valid JSON'] };
  }
  if (!rules.validate(parsed)) return { state: 'invalid', problems: (rules.validate.errors ?? []).map(describeAjvError) };
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  rules.entries(parsed).forEach((entry, index) => {
    const at = `${rules.list}[${index}]`;
    const name = rules.nameOf(entry);
    const earlier = firstIndex.get(name);
    if (earlier !== undefined) problems.push(`${at}.${rules.nameField}: the same as ${rules.list}[${earlier}].${rules.nameField}`);
    else firstIndex.set(name, index);
    problems.push(...rules.problemsOf(entry).map((problem) => `${at}.${problem}`));
  });
  return problems.length > 0 ? { state: 'invalid', problems } : { state: 'valid', document: parsed };
}
