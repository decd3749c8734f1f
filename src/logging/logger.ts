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
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
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
