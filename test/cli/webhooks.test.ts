import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore, type Store } from '../../src/store/open-journal';
import { WebhookOutbox } from '../../src/store/webhook-outbox';
import { REPO_ROOT, temporaryDataDir } from '../helpers/service';
import { enqueue, startWebhookAdminServer } from '../helpers/webhooks';

const run = promisify(execFile);
const CLI = path.join(REPO_ROOT, 'dist', 'cli', 'webhooks.js');
const ADMIN_TOKEN = 'admin-token-for-the-cli-0123456789';

describe('npm run webhooks (against the admin API of a running service)', () => {
  let store: Store;
  let outbox: WebhookOutbox;
  let server: { url: string; close(): Promise<void> };
  let delivered: string, failed: string;
  beforeAll(async () => {
    store = await openStore({ dataDir: temporaryDataDir(), databaseUrl: undefined });
    outbox = new WebhookOutbox(store.sql);
    [delivered, failed] = (await enqueue(store.sql, [
      { sessionId: 'ps_1', sequence: 1 },
      { sessionId: 'ps_2', sequence: 1, type: 'session.failed' },
    ])) as [string, string];
    await outbox.markDelivered(delivered, Date.now());
    await outbox.giveUp(failed, 'HTTP 500', true);
    server = await startWebhookAdminServer(outbox, ADMIN_TOKEN);
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  const webhooks = (args: string[], env: Record<string, string> = { ADMIN_TOKEN }) =>
    run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });

  test('when events are listed as a table, then each is a row with its status and last error', async () => {
    const { stdout } = await webhooks(['list', '--url', server.url]);
    expect(stdout).toContain(delivered);
    expect(stdout).toContain(failed);
    expect(stdout).toContain('HTTP 500');
    expect(stdout).toContain('2 event(s)');
  });

  test('when failed events are asked for as JSON, then only those are printed', async () => {
    const { stdout } = await webhooks(['list', '--status', 'failed', '--format', 'json', '--url', server.url]);
    expect(JSON.parse(stdout)).toEqual([expect.objectContaining({ id: failed, status: 'failed', session_id: 'ps_2', last_error: 'HTTP 500' })]);
    const bySession = await webhooks(['list', '--session', 'ps_1', '--format', 'json', '--url', server.url]);
    expect((JSON.parse(bySession.stdout) as Array<{ id: string }>).map((event) => event.id)).toEqual([delivered]);
  });

  test('when no --url is given, then it calls http://127.0.0.1:<PORT> from the settings', async () => {
    const { stdout } = await webhooks(['list', '--format', 'json'], { ADMIN_TOKEN, PORT: new URL(server.url).port });
    expect(JSON.parse(stdout)).toHaveLength(2);
  });

  test('when a failed event is retried, then the service makes it pending again; a delivered one is refused', async () => {
    const { stdout } = await webhooks(['retry', failed, '--url', server.url]);
    expect(stdout).toBe(`${failed} is pending again: it is sent now\n`);
    expect(await outbox.get(failed)).toMatchObject({ status: 'pending', attempts: 0 });
    await expect(webhooks(['retry', delivered, '--url', server.url])).rejects.toMatchObject({
      code: 1,
      stderr: 'webhooks: WEBHOOK_ALREADY_DELIVERED: This webhook event was already delivered\n',
    });
    await expect(webhooks(['retry', 'evt_unknown', '--url', server.url])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('No webhook event with that id') });
  });

  test('when ADMIN_TOKEN is missing or wrong, then it exits 1 saying so', async () => {
    await expect(webhooks(['list', '--url', server.url], {})).rejects.toMatchObject({ code: 1, stdout: '', stderr: expect.stringContaining('ADMIN_TOKEN is not set') });
    await expect(webhooks(['list', '--url', server.url], { ADMIN_TOKEN: 'not-the-admin-token-at-all' })).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('the service refused ADMIN_TOKEN'),
    });
  });

  test('when the service is not running there, then it exits 1 saying it is not reachable', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(webhooks(['list', '--url', `http://127.0.0.1:${port}`])).rejects.toMatchObject({
      code: 1,
      stderr: `webhooks: the service is not reachable at http://127.0.0.1:${port} (is it running? --url says where it is)\n`,
    });
  });

  test('when the service runs without ADMIN_TOKEN (no admin API), then it exits 1 saying so', async () => {
    // What the service answers on a path it does not serve.
    const plain = http.createServer((_req, res) => {
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ charge_id: null, error_code: 'NOT_FOUND', error_message: 'No such path; POST / or /connectors/{name}' }));
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
      await expect(webhooks(['list', '--url', url])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('has no webhook admin API (is ADMIN_TOKEN set there?)') });
    } finally {
      await new Promise((resolve) => plain.close(resolve));
    }
  });

  test('when the status filter is not one of the statuses, then it exits 1 before calling anything', async () => {
    await expect(webhooks(['list', '--status', 'lost', '--url', server.url])).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining('Allowed choices are pending, delivered, failed') });
  });
});
