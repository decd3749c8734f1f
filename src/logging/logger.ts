import winston from 'winston';

export type Logger = winston.Logger;

/**
 * Structured JSON lines on stdout. Nothing sensitive can reach a line by accident:
 * card data travels as `Secret` values, whose JSON form is the mask, and call
 * sites log chosen fields, never a request body or an error from a library.
 */
export function createLogger(level: string, transports?: winston.transport[]): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), jsonLine()),
    transports: transports ?? [new winston.transports.Console()],
  });
}

/** What may be said of an unexpected error: its type and where it happened, not its message. */
export function describeUnexpected(error: unknown): { error_type: string; stack?: string } {
  if (!(error instanceof Error)) return { error_type: typeof error };
  // A library's message can quote the data it failed on; the frames cannot.
  const frames = error.stack?.split('\n').filter((line) => line.trimStart().startsWith('at ')).slice(0, 8);
  return { error_type: error.name, stack: frames?.join('\n') };
}

/** What winston's transports write (triple-beam's MESSAGE). */
const MESSAGE = Symbol.for('message');

/**
 * winston's json() with the native JSON.stringify first: logform's configures safe-stable-stringify
 * anew for every line, a measurable share of a payment's CPU. The keys keep logform's sorted order
 * (`"message":"listening","port":...` is what scripts look for); the service's lines are flat, so
 * only the top level is sorted. A line JSON.stringify cannot write (a cycle, a BigInt) still goes
 * through logform's json(), as before.
 */
const logformJson = winston.format.json();
const jsonLine = winston.format((info) => {
  try {
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(info).sort()) sorted[key] = info[key];
    (info as unknown as Record<symbol, string>)[MESSAGE] = JSON.stringify(sorted);
    return info;
  } catch {
    return logformJson.transform(info, logformJson.options);
  }
});
