/** Variables as the environment gives them. */
export type Env = Record<string, string | undefined>;

/**
 * The process environment. This folder, the settings module, is the only reader of it: every other
 * part of the service and its tools receives validated settings (an ESLint rule holds this).
 */
export function processEnvironment(): Env {
  return process.env;
}
