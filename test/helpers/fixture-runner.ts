import request from 'supertest';
import { gatewayUrlVariable } from '../../src/config/settings';
import { RecordingGateway } from './recording-gateway';
import { startService, type TestService } from './service';

/**
 * One fixture file per gateway mapping (test/fixtures/gateways/<connector>.yaml),
 * every case run through the real HTTP path against a recording gateway that
 * checks the exact request and replays the recorded answer.
 */
export interface FixtureCase {
  name: string;
  path?: string;
  twilio: Record<string, unknown>;
  /**
   * The exact gateway request expected, or `none` when the gateway must not be called.
   * A case that reaches the gateway must state its body (`form` or `json`), whatever the answer is.
   */
  gateway_request?:
    | 'none'
    | { method?: string; content_type?: string; headers?: Record<string, string>; form?: Record<string, string>; json?: unknown };
  gateway_answer?: { status?: number; content_type?: string; body?: unknown; raw?: string };
  connector_answer: { status?: number; body: Record<string, unknown> };
}

export interface FixtureFile {
  connector: string;
  endpoint_path: string;
  /** The HTTP method every case expects, unless a case says otherwise (default POST). */
  method?: string;
  /** Headers every case that reaches the gateway must send (a case's own `headers` add to these). */
  headers?: Record<string, string>;
  credentials: { username: string; password: string };
  cases: FixtureCase[];
}

/**
 * Why a case cannot be run as written, or undefined. A case that reaches the gateway
 * with no expected body would let any request through: every such case must state
 * the exact body, as `form` (ordered fields) or `json` (key order included).
 */
export function fixtureCaseProblem(fixtureCase: FixtureCase): string | undefined {
  const expected = fixtureCase.gateway_request;
  if (expected === 'none') return undefined;
  if (expected === undefined || (expected.form === undefined && expected.json === undefined)) {
    return `the case "${fixtureCase.name}" reaches the gateway but states no expected request body: add gateway_request.form or gateway_request.json (or gateway_request: none if the gateway must not be called)`;
  }
  if (expected.form !== undefined && expected.json !== undefined) {
    return `the case "${fixtureCase.name}" states both gateway_request.form and gateway_request.json: keep the one the mapping's encoding sends`;
  }
  return undefined;
}

/**
 * Runs every case of one fixture file through the real HTTP path: the service in
 * front, a recording gateway behind it that checks the request and replays the answer.
 * `env` adds settings (a MAPPINGS_DIR holding a mapping under test, for instance).
 */
export function describeFixtureFile(title: string, fixture: FixtureFile, env: Record<string, string> = {}): void {
  describe(title, () => {
    const gateway = new RecordingGateway();
    let service: TestService;

    beforeAll(async () => {
      await gateway.start();
      service = await startService({ ...env, [gatewayUrlVariable(fixture.connector)]: gateway.url + fixture.endpoint_path });
    });
    afterAll(async () => {
      await service?.stop();
      await gateway.stop();
    });

    test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', async (_name, fixtureCase) => {
      const problem = fixtureCaseProblem(fixtureCase);
      if (problem) throw new Error(problem);

      const answer = fixtureCase.gateway_answer ?? { body: {} };
      gateway.willAnswer({
        status: answer.status,
        contentType: answer.content_type,
        body: answer.raw ?? JSON.stringify(answer.body),
      });
      const before = gateway.requests.length;

      const response = await request(service.url)
        .post(fixtureCase.path ?? `/connectors/${fixture.connector}`)
        .auth(fixture.credentials.username, fixture.credentials.password)
        .send(fixtureCase.twilio);

      expect({ status: response.status, body: response.body }).toEqual({
        status: fixtureCase.connector_answer.status ?? 200,
        body: fixtureCase.connector_answer.body,
      });
      // The key order of the answer is part of the contract's look.
      expect(Object.keys(response.body)).toEqual(Object.keys(fixtureCase.connector_answer.body));

      const expected = fixtureCase.gateway_request!;
      if (expected === 'none') {
        expect(gateway.requests.length).toBe(before);
        return;
      }
      expect(gateway.requests.length).toBe(before + 1);
      const sent = gateway.lastRequest();
      expect(sent.path).toBe(fixture.endpoint_path);
      expect(sent.method).toBe(expected.method ?? fixture.method ?? 'POST');
      if (expected.content_type) expect(sent.headers['content-type']).toBe(expected.content_type);
      for (const [name, value] of Object.entries({ ...fixture.headers, ...expected.headers })) {
        expect(sent.headers[name.toLowerCase()]).toBe(value);
      }
      if (expected.form !== undefined) {
        expect(sent.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
        expect(gateway.lastForm()).toEqual(Object.entries(expected.form));
      } else {
        // Key order is compared too: some gateways (Authorize.Net) validate JSON against an XML schema.
        expect(sent.headers['content-type']).toMatch(/^application\/json/);
        expect(sent.body).toBe(JSON.stringify(expected.json));
      }
    });
  });
}
