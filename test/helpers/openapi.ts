import { execFile } from 'node:child_process';
import type { Express } from 'express';
import { CONNECTOR_ROUTES } from '../../src/http/routes';

export interface OpenApiDocument {
  paths: Record<string, Record<string, unknown>>;
  components: { securitySchemes: Record<string, unknown> };
}

/** The validator is an ES module: it runs in a Node process of its own, reading the document on stdin (an argument has a size limit). */
export async function validateOpenApi(text: string): Promise<unknown> {
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
    import { text } from 'node:stream/consumers';
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(await text(process.stdin)));
    console.log(JSON.stringify({ ...result, version: validator.version }));`;
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], (error, out) => (error ? reject(error) : resolve(out)));
    child.stdin?.end(text);
  });
  return JSON.parse(stdout);
}

/** `GET /transactions/{transaction_id}`, sorted. */
export function documentedOperations(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`)).sort();
}

/**
 * Every route the service serves, in the document's notation, sorted: the payment route's, which
 * node:http serves before Express (test/http/connector-endpoint.test.ts proves each is), and the
 * Express app's.
 */
export function servedOperations(app: Express): string[] {
  const served = new Set<string>(CONNECTOR_ROUTES.map((route) => `POST ${route.replace(/:(\w+)/g, '{$1}')}`));
  const walk = (router: Express['router']) => {
    for (const layer of router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> }; handle: { stack?: unknown } }>) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method !== '_all') served.add(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
        }
      } else if (layer.handle.stack) walk(layer.handle as Express['router']);
    }
  };
  walk(app.router);
  return [...served].sort();
}

