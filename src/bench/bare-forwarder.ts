import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import axios from 'axios';
import express from 'express';
import { announce, connectorAnswer, qsapiForm, requiredSandboxUrl } from './forwarding';

/** The same stack as the service (Express + axios with a keep-alive agent), doing nothing of the service's own work. */
const gateway = axios.create({
  httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }),
  httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 256 }),
  responseType: 'text',
  transformResponse: [(data: unknown) => data],
});
const target = requiredSandboxUrl();

const app = express();
app.post('/', express.text({ type: () => true }), async (req, res) => {
  const body = JSON.parse(String(req.body)) as Record<string, string>;
  const answer = await gateway.post<string>(target, qsapiForm(body, req.get('authorization')), {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  res.type('application/json').send(connectorAnswer(answer.data));
});
const server = app.listen(0, '127.0.0.1', () => announce((server.address() as AddressInfo).port));
