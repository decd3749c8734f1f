import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import Database from 'better-sqlite3';
import request from 'supertest';
import { AUTH_THROTTLE_ENTRIES, AuthThrottle } from '../../src/http/auth-throttle';
import { clientAddress } from '../../src/http/client-address';
import { RecordingGateway } from '../helpers/recording-gateway';
import { CREDENTIAL_HASH_KEY, REPO_ROOT, startService, temporaryDataDir, type TestService } from '../helpers/service';
import { ACCESS_KEY, basicAuth, cardCharge, cardTokenize } from '../helpers/test-data';

/**
 * The adversarial review of the bridge (SECURITY.md, "Adversarial review, 2026-11"): one test
 * or more per finding, each reproducing the attack against the real service on loopback. The
 * memory exhaustion of finding 1 runs as the image does, in test/security/memory-under-attack.test.ts.
 */

const APPROVED = (id: string) => JSON.stringify({ transaction_id: id, transaction_approved: true, error: false, error_code: 0 });
const REFUSED_ACCOUNT = JSON.stringify({ error: true, error_code: 20001, error_message: 'Invalid account_id' });
const OTHER_KEY = 'fedcba9876543210FEDCBA0123456789';

/** Sends raw bytes from `localAddress`; resolves with the status line's code (or 'closed') once the service answers or hangs up. */
function rawRequest(url: string, head: string, localAddress = '127.0.0.1'): Promise<{ status: number | 'closed'; reply: string; socket: net.Socket }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), localAddress }, () => socket.write(head));
    let reply = '';
    const settle = () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply);
      resolve({ status: status ? Number(status[1]) : 'closed', reply, socket });
    };
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n\r\n') && /Content-Length: (\d+)/i.test(reply)) {
        const length = Number(/Content-Length: (\d+)/i.exec(reply)![1]);
        if (Buffer.byteLength(reply.split('\r\n\r\n').slice(1).join('\r\n\r\n')) >= length) settle();
      }
    });
    socket.on('close', settle);
    socket.on('error', () => undefined);
  });
}

/** Opens a connection from `localAddress` and sends nothing: a client holding a slot. */
function idleConnection(url: string, localAddress: string): Promise<net.Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port), localAddress }, () => resolve(socket));
    socket.on('error', () => undefined);
  });
}

/** A POST from `localAddress` (supertest always connects from 127.0.0.1). */
function payFrom(url: string, localAddress: string, body: object, headers: Record<string, string> = { Authorization: basicAuth() }) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const call = http.request(`${url}/`, { method: 'POST', localAddress, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    call.on('error', reject);
    call.end(JSON.stringify(body));
  });
}

const pay = (service: TestService, body: object, auth = basicAuth()) => request(service.url).post('/').set('Authorization', auth).send(body);

describe('finding 1: a client that has not authenticated holds nothing for long', () => {
  let service: TestService;
  beforeAll(async () => {
    service = await startService({
      LOG_LEVEL: 'info',
      BODY_TIMEOUT_MS: '1000',
      MAX_UNAUTHENTICATED_PER_ADDRESS: '5',
      MAX_UNAUTHENTICATED_CONNECTIONS: '12',
    });
  });
  afterAll(async () => {
    await service.stop();
  });

  test('when the Authorization header is over 2 KB, then 431 at once, before any body, and the connection closes', async () => {
    const head = `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic ${'QUFB'.repeat(600)}\r\nContent-Length: 500\r\n\r\n`;
    const { status, reply } = await rawRequest(service.url, head);
    expect(status).toBe(431);
    expect(reply).toMatch(/\r\nConnection: close\r\n/i);
    expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toEqual({
      charge_id: null,
      error_code: 'HEADERS_TOO_LARGE',
      error_message: 'The Authorization header is larger than the service accepts',
    });
  });

  test('when the credentials are wrong and the body never comes, then 401 at once (not a 408 after waiting for it)', async () => {
    const head = `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth('1234', 'short')}\r\nContent-Length: 500\r\n\r\n`;
    const { status, socket } = await rawRequest(service.url, head);
    expect(status).toBe(401);
    // The unread body is waited for no longer than BODY_TIMEOUT_MS: then the connection closes.
    await new Promise((resolve) => (socket.destroyed ? resolve(undefined) : socket.once('close', resolve)));
  });

  test('when good credentials come with a body that never arrives, then 408 after BODY_TIMEOUT_MS and the connection closes', async () => {
    const head = `POST / HTTP/1.1\r\nHost: x\r\nAuthorization: ${basicAuth()}\r\nContent-Length: 500\r\n\r\n{"method":`;
    const { status, reply } = await rawRequest(service.url, head);
    expect(status).toBe(408);
    expect(JSON.parse(reply.split('\r\n\r\n')[1]!)).toEqual({
      charge_id: null,
      error_code: 'REQUEST_TIMEOUT',
      error_message: 'The request body was not received in time',
    });
  });

  test('when headers exceed MAX_HEADER_BYTES (8 KB by default), then 431', async () => {
    const { status } = await rawRequest(service.url, `POST / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'p'.repeat(9000)}\r\n\r\n`);
    expect(status).toBe(431);
  });

  test('when one address holds MAX_UNAUTHENTICATED_PER_ADDRESS idle connections, then its next is refused with 503 at once, another address still pays, and a slot comes back when one closes', async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => idleConnection(service.url, '127.0.0.2')));
    try {
      const refused = await rawRequest(service.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.2');
      expect(refused.status).toBe(503);
      expect(refused.reply).toMatch(/\r\nRetry-After: 1\r\n/);
      expect(JSON.parse(refused.reply.split('\r\n\r\n')[1]!)).toMatchObject({ error_code: 'TOO_MANY_CONNECTIONS' });
      expect((await payFrom(service.url, '127.0.0.3', cardCharge())).body.charge_id).toMatch(/^\d{12}$/);

      held.pop()!.destroy();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect((await payFrom(service.url, '127.0.0.2', cardCharge())).body.charge_id).toMatch(/^\d{12}$/);
    } finally {
      held.forEach((socket) => socket.destroy());
    }
    const metrics = (await request(service.url).get('/metrics')).text;
    expect(metrics).toMatch(/^paybridge_unauthenticated_refused_total\{limit="per_address"\} [1-9]/m);
  });

  test('when many addresses together hold MAX_UNAUTHENTICATED_CONNECTIONS, then any new connection is refused with 503', async () => {
    const held = (
      await Promise.all(['127.0.0.2', '127.0.0.3', '127.0.0.4'].map((address) => Promise.all(Array.from({ length: 4 }, () => idleConnection(service.url, address)))))
    ).flat();
    try {
      expect((await rawRequest(service.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.6')).status).toBe(503);
    } finally {
      held.forEach((socket) => socket.destroy());
    }
  });
});

describe('finding 1: authenticated traffic is not held to the unauthenticated limits', () => {
  test('when connections have authenticated, then they hold no slot: twenty open connections of an agent floor behind one address do not stop a twenty-first', async () => {
    const service = await startService({ MAX_UNAUTHENTICATED_PER_ADDRESS: '5', KEEP_ALIVE_TIMEOUT_MS: '60000', ADMIN_TOKEN: 'admin-token-for-tests-0123456789' });
    const open: net.Socket[] = [];
    try {
      for (let agent = 0; agent < 20; agent++) {
        const head = 'GET /transactions?limit=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer admin-token-for-tests-0123456789\r\n\r\n';
        const { status, socket } = await rawRequest(service.url, head, '127.0.0.7');
        expect(status).toBe(200);
        expect(socket.destroyed).toBe(false); // kept alive, as an event stream would be
        open.push(socket);
      }
      expect((await payFrom(service.url, '127.0.0.7', cardCharge())).body.charge_id).toMatch(/^\d{12}$/);
    } finally {
      open.forEach((socket) => socket.destroy());
      await service.stop();
    }
  });
});

describe('finding 1: behind a trusted proxy, requests are limited by their client address', () => {
  test('when one client holds MAX_UNAUTHENTICATED_PER_ADDRESS requests through the proxy, then its next is 503 and another client still pays', async () => {
    const service = await startService({ TRUST_PROXY: '127.0.0.5', MAX_UNAUTHENTICATED_PER_ADDRESS: '3', BODY_TIMEOUT_MS: '10000' });
    const held: net.Socket[] = [];
    try {
      // Credentials of the right shape whose body never comes: in doubt until the gateway answers.
      const head = (client: string) =>
        `POST / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${client}\r\nAuthorization: ${basicAuth('999999999999')}\r\nContent-Length: 500\r\n\r\n`;
      for (let i = 0; i < 3; i++) {
        const socket = await idleConnection(service.url, '127.0.0.5');
        socket.write(head('198.51.100.1'));
        held.push(socket);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await rawRequest(service.url, head('198.51.100.1'), '127.0.0.5')).status).toBe(503);
      const other = await payFrom(service.url, '127.0.0.5', cardCharge(), { Authorization: basicAuth(), 'X-Forwarded-For': '198.51.100.2' });
      expect(other.body.charge_id).toMatch(/^\d{12}$/);
    } finally {
      held.forEach((socket) => socket.destroy());
      await service.stop();
    }
  });
});

describe('finding 1: the throttle holds a bounded number of entries', () => {
  test('when three times its capacity of addresses and usernames fail, then it holds at most its capacity per table', () => {
    const throttle = new AuthThrottle();
    for (let i = 0; i < 3 * AUTH_THROTTLE_ENTRIES; i++) {
      throttle.fail({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, account: `payconex:${'u'.repeat(1000)}${i}` });
    }
    expect(throttle.size).toBeLessThanOrEqual(2 * AUTH_THROTTLE_ENTRIES);
  });
});

describe('finding 2: concurrent guesses are counted as they arrive', () => {
  test('when 1,000 guesses of configured credentials arrive at once, then 10 are answered 401 and 990 are 429', async () => {
    const gateway = await new RecordingGateway().start();
    const held = {
      name: 'heldkey',
      endpoints: { sandbox: `${gateway.url}/pay` },
      credentials: { account: 'username', mode: 'configured' },
      supports: { charge: ['card'] },
      request: { encoding: 'form', fields: { ref: { from: 'transaction_id' } } },
      response: { encoding: 'json', success: { path: 'ok', equals: true }, id: 'id', error_code: 'code', error_message: 'message' },
    };
    const { mappingFolder, payconexMappingText } = await import('../helpers/mapping-files');
    const service = await startService({
      LOG_LEVEL: 'warn',
      MAPPINGS_DIR: mappingFolder({ 'payconex.yaml': payconexMappingText(), 'heldkey.yaml': held }),
      CONNECTOR_HELDKEY_USERNAME: 'twilio-connector',
      CONNECTOR_HELDKEY_PASSWORD: 'the-right-password',
      MAX_UNAUTHENTICATED_PER_ADDRESS: '5000',
      MAX_UNAUTHENTICATED_CONNECTIONS: '5000',
    });
    try {
      const statuses = await Promise.all(
        Array.from({ length: 1000 }, (_, guess) =>
          request(service.url).post('/connectors/heldkey').set('Authorization', basicAuth('twilio-connector', `guess-${guess}`)).send(cardCharge()).then((r) => r.status),
        ),
      );
      expect(statuses.filter((status) => status === 401)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(990);
      expect(gateway.requests).toHaveLength(0);
    } finally {
      await service.stop();
      await gateway.stop();
    }
  });

  describe('with pass-through credentials the gateway alone can judge', () => {
    const gateway = new RecordingGateway();
    let service: TestService;
    beforeAll(async () => {
      await gateway.start();
    });
    beforeEach(async () => {
      service = await startService({
        LOG_LEVEL: 'warn',
        GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`,
        MAX_UNAUTHENTICATED_PER_ADDRESS: '5000',
        MAX_UNAUTHENTICATED_CONNECTIONS: '5000',
      });
    });
    afterEach(async () => {
      await service.stop();
    });
    afterAll(async () => {
      await gateway.stop();
    });

    test('when 1,000 guesses at one account arrive at once, then 10 reach the gateway and the 11th on are 429', async () => {
      gateway.willAnswer({ body: REFUSED_ACCOUNT, delayMs: 300 });
      const before = gateway.requests.length;
      const statuses = await Promise.all(
        Array.from({ length: 1000 }, (_, guess) => pay(service, cardCharge(), basicAuth('123456789012', `guess${String(guess).padStart(27, '0')}`)).then((r) => r.status)),
      );
      expect(statuses.filter((status) => status === 401)).toHaveLength(10);
      expect(statuses.filter((status) => status === 429)).toHaveLength(990);
      expect(gateway.requests.length - before).toBe(10);
    });

    test('when guesses are abandoned by their client before the 401, then they are counted all the same', async () => {
      gateway.willAnswer({ body: REFUSED_ACCOUNT, delayMs: 400 });
      const before = gateway.requests.length;
      for (let guess = 0; guess < 10; guess++) {
        const abandoned = request(service.url).post('/').set('Authorization', basicAuth('123456789012', `gone${String(guess).padStart(28, '0')}`)).timeout(100).send(cardCharge());
        await expect(abandoned).rejects.toThrow(/Timeout/);
      }
      await gateway.received(before + 10);
      await new Promise((resolve) => setTimeout(resolve, 600)); // the gateway's 401s come back
      expect((await pay(service, cardCharge(), basicAuth('123456789012', OTHER_KEY))).status).toBe(429);
    });

    test('when a burst of genuine payments with the same credentials arrives at once for an account not yet proven, then none is throttled', async () => {
      gateway.willAnswer({ body: APPROVED('000000000042'), delayMs: 200 });
      const answers = await Promise.all(Array.from({ length: 50 }, () => pay(service, cardCharge())));
      expect(answers.map((answer) => answer.body.charge_id)).toEqual(answers.map(() => '000000000042'));
    });
  });
});

describe('finding 3: a retry must bring the credentials of the first request', () => {
  const gateway = new RecordingGateway();
  let service: TestService;
  const dataDir = temporaryDataDir();
  beforeAll(async () => {
    await gateway.start();
    service = await startService({ DATA_DIR: dataDir, GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`, LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await service.stop();
    await gateway.stop();
  });

  test('when a charge is replayed with the right account id and another key, then 401 as for any refused key, no gateway call, and no charge_id', async () => {
    gateway.willAnswer({ body: APPROVED('000000003001') });
    const body = cardCharge();
    expect((await pay(service, body)).body.charge_id).toBe('000000003001');
    const calls = gateway.requests.length;

    const replay = await pay(service, body, basicAuth('123456789012', OTHER_KEY));
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ charge_id: null, error_code: 'UNAUTHORIZED', error_message: 'The gateway refused the credentials' });
    // A different card under the same transaction_id: the wrong key still learns nothing (no TRANSACTION_ID_REUSED).
    const probe = await pay(service, { ...body, cardnumber: '5555555555554444' }, basicAuth('123456789012', OTHER_KEY));
    expect(probe.body.error_code).toBe('UNAUTHORIZED');
    expect(gateway.requests.length).toBe(calls);
    // The holder of the key gets the first answer, and TRANSACTION_ID_REUSED for a different card.
    expect((await pay(service, body)).body.charge_id).toBe('000000003001');
    expect((await pay(service, { ...body, cardnumber: '5555555555554444' })).body.error_code).toBe('TRANSACTION_ID_REUSED');
  });

  test('when wrong keys keep probing a recorded payment, then each counts as a failed authentication and the 11th is 429', async () => {
    gateway.willAnswer({ body: APPROVED('000000003002') });
    const body = cardTokenize();
    await pay(service, body, basicAuth('210987654321'));
    const statuses: number[] = [];
    for (let probe = 0; probe < 11; probe++) {
      statuses.push((await pay(service, body, basicAuth('210987654321', `probe${String(probe).padStart(27, '0')}`))).status);
    }
    expect(statuses).toEqual([...Array.from({ length: 10 }, () => 401), 429]);
  });

  test('when the journal is read, then it holds a keyed hash of the credentials, never the key', () => {
    const db = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true });
    const rows = db.prepare<[], { account: string; credential_hash: string }>('SELECT account, credential_hash FROM transactions').all();
    db.close();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.credential_hash).toMatch(/^[0-9a-f]{32}$/);
      expect(JSON.stringify(row)).not.toContain(ACCESS_KEY);
    }
  });
});

describe('finding 3: the hash key', () => {
  test('when CREDENTIAL_HASH_KEY is rotated (the old one as _PREVIOUS), then a retry of a payment recorded under the old key still gets its first answer', async () => {
    const gateway = await new RecordingGateway().start();
    const env = { DATA_DIR: temporaryDataDir(), GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`, GATEWAY_URL_NMI: `${gateway.url}/api/transact.php`, LOG_LEVEL: 'warn' };
    const nmiTokenize = cardTokenize();
    const charge = cardCharge();
    try {
      let service = await startService({ ...env, CREDENTIAL_HASH_KEY: 'the-old-credential-hash-key-0123456789' });
      gateway.willAnswer({ contentType: 'text/plain', body: 'response=1&responsetext=Customer Added&customer_vault_id=V-OLD' });
      expect((await request(service.url).post('/connectors/nmi').set('Authorization', basicAuth('twilio', ACCESS_KEY)).send(nmiTokenize)).body.token_id).toBe('V-OLD');
      gateway.willAnswer({ body: APPROVED('000000004001') });
      expect((await pay(service, charge)).body.charge_id).toBe('000000004001');
      await service.stop();

      service = await startService({
        ...env,
        CREDENTIAL_HASH_KEY: 'the-new-credential-hash-key-0123456789',
        CREDENTIAL_HASH_KEY_PREVIOUS: 'the-old-credential-hash-key-0123456789',
      });
      const calls = gateway.requests.length;
      expect((await request(service.url).post('/connectors/nmi').set('Authorization', basicAuth('twilio', ACCESS_KEY)).send(nmiTokenize)).body.token_id).toBe('V-OLD');
      expect((await pay(service, charge)).body.charge_id).toBe('000000004001');
      expect((await pay(service, charge, basicAuth('123456789012', OTHER_KEY))).status).toBe(401);
      expect(gateway.requests.length).toBe(calls);
      await service.stop();
    } finally {
      await gateway.stop();
    }
  });

  test('when no key is set outside production, then one is generated into DATA_DIR (mode 0600) and reused after a restart', async () => {
    const dataDir = temporaryDataDir();
    const body = cardCharge();
    let service = await startService({ DATA_DIR: dataDir, CREDENTIAL_HASH_KEY: undefined });
    const first = await pay(service, body);
    await service.stop();
    const file = path.join(dataDir, 'credential-hash-key.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim().length).toBeGreaterThanOrEqual(32);

    service = await startService({ DATA_DIR: dataDir, CREDENTIAL_HASH_KEY: undefined });
    try {
      expect((await pay(service, body)).text).toBe(first.text);
    } finally {
      await service.stop();
    }
  });

  test('when GATEWAY_ENV=production has no CREDENTIAL_HASH_KEY, then start-up is refused naming it', async () => {
    await expect(startService({ GATEWAY_ENV: 'production', CREDENTIAL_HASH_KEY: undefined })).rejects.toThrow(
      /CREDENTIAL_HASH_KEY \(or CREDENTIAL_HASH_KEY_FILE\) is required with GATEWAY_ENV=production/,
    );
  });
});

describe('finding 4: a mismatched request cannot spoil the answer of genuine retries', () => {
  test('when 16 loops send the same transaction_id with another card while 200 genuine retries arrive, then every genuine retry gets the approved charge_id', async () => {
    const gateway = await new RecordingGateway().start();
    const service = await startService({ GATEWAY_URL_PAYCONEX: `${gateway.url}/api/qsapi/3.8`, LOG_LEVEL: 'warn' });
    try {
      gateway.willAnswer({ body: APPROVED('000000005001'), delayMs: 200 });
      const genuine = cardCharge();
      const mismatched = { ...genuine, cardnumber: '5555555555554444' };
      const first = pay(service, genuine).then((answer) => answer.text);
      await gateway.received(1);
      let running = true;
      const attackers = Array.from({ length: 16 }, async () => {
        const answers: string[] = [];
        while (running) answers.push((await pay(service, mismatched)).body.error_code);
        return answers;
      });
      // Genuine retries in 8 loops, while the payment runs and after it has settled.
      const retries: string[] = [await first];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (retries.length < 200) retries.push((await pay(service, genuine)).text);
        }),
      );
      running = false;
      const attackerAnswers = (await Promise.all(attackers)).flat();
      expect(new Set(retries)).toEqual(new Set(['{"charge_id":"000000005001","error_code":null,"error_message":null}']));
      expect(new Set(attackerAnswers)).toEqual(new Set(['TRANSACTION_ID_REUSED']));
      expect(gateway.requests).toHaveLength(1);
    } finally {
      await service.stop();
      await gateway.stop();
    }
  });
});

describe('finding 5: NMI knows an account by its security key', () => {
  const KEY_A = ACCESS_KEY;
  const KEY_B = OTHER_KEY;
  const gateway = new RecordingGateway();
  beforeAll(async () => {
    await gateway.start();
  });
  afterAll(async () => {
    await gateway.stop();
  });
  const nmi = (service: TestService, body: object, key: string) =>
    request(service.url).post('/connectors/nmi').set('Authorization', basicAuth('twilio', key)).send(body);

  test('when two merchants with the same username send the same transaction_id, then each reaches the gateway and gets its own token', async () => {
    const dataDir = temporaryDataDir();
    const service = await startService({ DATA_DIR: dataDir, GATEWAY_URL_NMI: `${gateway.url}/api/transact.php`, LOG_LEVEL: 'warn' });
    try {
      const body = cardTokenize();
      gateway.willAnswer({ contentType: 'text/plain', body: 'response=1&responsetext=Customer Added&customer_vault_id=VAULT-A' });
      expect((await nmi(service, body, KEY_A)).body.token_id).toBe('VAULT-A');
      gateway.willAnswer({ contentType: 'text/plain', body: 'response=1&responsetext=Customer Added&customer_vault_id=VAULT-B' });
      expect((await nmi(service, body, KEY_B)).body.token_id).toBe('VAULT-B');
      expect(gateway.lastForm().find(([name]) => name === 'security_key')?.[1]).toBe(KEY_B);
    } finally {
      await service.stop();
    }
    const db = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true });
    const accounts = db.prepare<[], { account: string }>("SELECT account FROM transactions WHERE connector = 'nmi'").all().map((row) => row.account);
    db.close();
    expect(accounts).toHaveLength(2);
    for (const account of accounts) expect(account).toMatch(/^key:[0-9a-f]{32}$/);
  });

  test('when ALLOWED_ACCOUNTS lists a merchant by the id `npm run account-id` prints, then another key with the same username is refused', async () => {
    // The CLI reads the credentials from stdin, so they reach no process list.
    const id = await new Promise<string>((resolve, reject) => {
      const cli = path.join(REPO_ROOT, 'dist', 'cli', 'account-id.js');
      const env = { PATH: process.env.PATH ?? '', CREDENTIAL_HASH_KEY, DATA_DIR: temporaryDataDir() };
      const child = execFile(process.execPath, [cli, 'nmi'], { env }, (error, out) => (error ? reject(error) : resolve(out.trim())));
      child.stdin!.end(`twilio:${KEY_A}\n`);
    });
    expect(id).toMatch(/^key:[0-9a-f]{32}$/);
    expect(id).not.toContain(KEY_A);

    const service = await startService({ GATEWAY_URL_NMI: `${gateway.url}/api/transact.php`, ALLOWED_ACCOUNTS: id, LOG_LEVEL: 'warn' });
    try {
      gateway.willAnswer({ contentType: 'text/plain', body: 'response=1&responsetext=SUCCESS&transactionid=77' });
      const before = gateway.requests.length;
      expect((await nmi(service, cardCharge(), KEY_B)).body).toMatchObject({ error_code: 'UNAUTHORIZED', error_message: 'This gateway account may not use this service' });
      expect(gateway.requests.length).toBe(before);
      expect((await nmi(service, cardCharge(), KEY_A)).body.charge_id).toBe('77');
    } finally {
      await service.stop();
    }
  });
});

describe('finding 8: per-address limits cannot be dodged', () => {
  test('when TRUST_PROXY=true, then start-up is refused with what to set instead', async () => {
    await expect(startService({ TRUST_PROXY: 'true' })).rejects.toThrow(/TRUST_PROXY=true .* set the number of proxies in front \(TRUST_PROXY=1\) or their addresses/);
  });

  test('when IPv6 clients change addresses within one /64, then they share one limit', async () => {
    const service = await startService({ TRUST_PROXY: '1', LOG_LEVEL: 'warn' });
    try {
      const wrong = basicAuth('123456789012', 'x'.repeat(31));
      const from = (address: string) => request(service.url).post('/').set('Authorization', wrong).set('X-Forwarded-For', address).send(cardCharge());
      for (let i = 1; i <= 10; i++) expect((await from(`2001:db8:0:0:${i.toString(16)}::1`)).status).toBe(401);
      expect((await from('2001:db8::ffff:ffff:ffff:1')).status).toBe(429);
      expect((await from('2001:db8:0:1::1')).status).toBe(401);
    } finally {
      await service.stop();
    }
  });

  test('when an address is given in any of its forms, then it is limited by its IPv4 address or its /64', () => {
    expect(clientAddress('::ffff:198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddress('198.51.100.7')).toBe('198.51.100.7');
    expect(clientAddress('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('2001:DB8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(clientAddress('not an address')).toBe('unknown');
  });
});

describe('finding 9: admin and metrics tokens are throttled like Basic credentials', () => {
  test.each([
    ['GET /transactions', '/transactions'],
    ['GET /metrics', '/metrics'],
  ])('when %s is guessed at 10 times, then the 11th try is 429, even with the right token', async (_label, route) => {
    const token = 'operations-token-0123456789abcdef';
    const service = await startService({ ADMIN_TOKEN: token, METRICS_TOKEN: token, LOG_LEVEL: 'warn' });
    try {
      for (let guess = 0; guess < 10; guess++) {
        expect((await request(service.url).get(route).set('Authorization', `Bearer guess-${guess}-0123456789`)).status).toBe(401);
      }
      const refused = await request(service.url).get(route).set('Authorization', `Bearer ${token}`);
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({ error_code: 'TOO_MANY_AUTH_FAILURES', error_message: 'Too many failed authentications from this address; try again later' });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await service.stop();
    }
  });
});
