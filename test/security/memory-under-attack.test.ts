import request from 'supertest';
import { flood, holdRequests, postFrom, watchRss, type HeldRequests } from '../helpers/attacks';
import { PRODUCTION_ENV } from '../../src/bench/production';
import { temporaryDataDir } from '../helpers/service';
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process';
import { basicAuth, cardCharge } from '../helpers/test-data';

/**
 * Finding 1 of the adversarial review (SECURITY.md): unauthenticated clients held thousands of
 * requests open (headers near 16 KB, a body never sent) and flooded failed logins with a new
 * X-Forwarded-For each time, until the process died of `JavaScript heap out of memory`. Here the
 * same attacks, scaled up, run against the service as the image runs it (NODE_ENV=production,
 * its memory settings, src/bench/production.ts) in a process of its own, while a genuine payment is sent.
 */
/** The image caps the old space at 128 MB; with Node's own ~45 MB and the young space, 200 MB is the ceiling. */
const RSS_LIMIT_MB = 200;
const HELD_PER_ADDRESS = 4_000;
const FAILED_LOGINS = 20_000;
/** The proxy in front: its X-Forwarded-For is believed, and the flood comes through it. */
const PROXY = '127.0.0.5';

/** Three ways of holding a request open, taken in turn. */
function heldHead(index: number): string {
  const host = 'Host: bridge\r\n';
  switch (index % 3) {
    case 0: // an Authorization header of 7 KB, a body announced and never sent
      return `POST / HTTP/1.1\r\n${host}Authorization: Basic ${'QUFB'.repeat(1750)}\r\nContent-Length: 1000\r\n\r\n`;
    case 1: // credentials of the right shape, headers padded to the limit, no body
      return `POST / HTTP/1.1\r\n${host}Authorization: ${basicAuth('999999999999')}\r\nX-Pad: ${'p'.repeat(7000)}\r\nContent-Length: 1000\r\n\r\n`;
    default: // headers never finished
      return `POST / HTTP/1.1\r\n${host}X-Pad: ${'p'.repeat(7000)}`;
  }
}

/** A failed login through the proxy, from a new client address each time, with a long username. */
function failedLogin(index: number) {
  const address = index % 2 === 0 ? `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}` : `2001:db8:${index.toString(16)}::1`;
  return {
    headers: {
      Authorization: `Basic ${Buffer.from(`${'u'.repeat(900)}${index}:wrong`).toString('base64')}`,
      'X-Forwarded-For': address,
      'Content-Type': 'application/json',
    },
    body: '{}',
  };
}

let service: ServiceProcess;
beforeAll(async () => {
  service = await startServiceProcess({
    ...PRODUCTION_ENV,
    DATA_DIR: temporaryDataDir(),
    TRUST_PROXY: PROXY,
  });
});
afterAll(async () => {
  await service?.stop();
});

test('when thousands of requests are held open and failed logins flood in from rotating addresses, then the process stays alive, under its memory limit, and a genuine payment is answered', async () => {
  const rss = watchRss(service.child.pid!);
  const held: HeldRequests[] = [];
  try {
    const holding = Promise.all(
      ['127.0.0.2', '127.0.0.3'].map(async (localAddress) => {
        held.push(await holdRequests(service.url, { count: HELD_PER_ADDRESS, localAddress, headFor: heldHead }));
      }),
    );
    const logins = flood(service.url, FAILED_LOGINS, failedLogin, { parallel: 100, localAddress: PROXY });

    await holding;
    // Mid-attack: a genuine payment from an address of its own.
    const genuine = await postFrom(service.url, '127.0.0.9', { Authorization: basicAuth() }, JSON.stringify(cardCharge()));
    expect(genuine.body).toEqual({ charge_id: expect.stringMatching(/^\d{12}$/), error_code: null, error_message: null });

    // Each failed login is answered (401: every client address is new), none is left hanging.
    const statuses = await logins;
    expect(statuses).toEqual(new Map([[401, FAILED_LOGINS]]));
    // Past the per-address limit, held connections were refused at once, before their heads were read.
    for (const opened of held) expect(opened.endings().get(503) ?? 0).toBeGreaterThan(HELD_PER_ADDRESS * 0.8);
  } finally {
    held.forEach((opened) => opened.end());
  }
  expect((await request(service.url).get('/healthz')).body).toEqual({ status: 'ok' });
  const peak = rss.stop();
  expect(peak).toBeLessThan(RSS_LIMIT_MB);
}, 120_000);
