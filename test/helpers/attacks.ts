import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';

/** How each attacking connection ended: the status line it was answered with, or how it closed. */
export type Ending = number | 'closed without an answer' | 'still open' | 'refused';

export interface HeldRequests {
  /** Count of connections per ending, once `end()` was called. */
  endings(): Map<Ending, number>;
  /** Closes whatever is still open. */
  end(): void;
}

/**
 * Opens `count` connections from `localAddress` (any 127.x address is loopback on Linux), each
 * sending `headFor(index)` (a request line and headers) and then nothing, as a client that holds
 * requests open would. At most `parallel` connect at once.
 */
export async function holdRequests(
  url: string,
  options: { count: number; localAddress: string; headFor: (index: number) => string; parallel?: number },
): Promise<HeldRequests> {
  const { hostname, port } = new URL(url);
  const endings: Ending[] = new Array(options.count).fill('still open');
  const sockets: net.Socket[] = [];
  let next = 0;
  const openOne = (): Promise<void> =>
    new Promise((resolve) => {
      const index = next++;
      const socket = net.connect({ host: hostname, port: Number(port), localAddress: options.localAddress });
      sockets.push(socket);
      let reply = '';
      socket.on('connect', () => {
        socket.write(options.headFor(index));
        resolve();
      });
      socket.on('data', (chunk) => {
        reply += chunk.toString('latin1');
        const status = /^HTTP\/1\.1 (\d{3})/.exec(reply);
        if (status) endings[index] = Number(status[1]);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED') endings[index] = 'refused';
        resolve();
      });
      socket.on('close', () => {
        if (endings[index] === 'still open') endings[index] = 'closed without an answer';
        resolve();
      });
    });
  const workers = Array.from({ length: options.parallel ?? 100 }, async () => {
    while (next < options.count) await openOne();
  });
  await Promise.all(workers);
  return {
    endings: () => {
      const counts = new Map<Ending, number>();
      for (const ending of endings) counts.set(ending, (counts.get(ending) ?? 0) + 1);
      return counts;
    },
    end: () => sockets.forEach((socket) => socket.destroy()),
  };
}

/**
 * Sends `count` requests, `parallel` at a time, built by `requestFor(index)`; resolves with the
 * count of answers per status (0 for a request that got no answer).
 */
export async function flood(
  url: string,
  count: number,
  requestFor: (index: number) => { path?: string; headers: Record<string, string>; body?: string },
  options: { parallel?: number; localAddress?: string } = {},
): Promise<Map<number, number>> {
  const parallel = options.parallel ?? 50;
  const agent = new http.Agent({ keepAlive: true, maxSockets: parallel, localAddress: options.localAddress });
  const statuses = new Map<number, number>();
  let next = 0;
  const sendOne = (index: number) =>
    new Promise<number>((resolve) => {
      const { path = '/', headers, body } = requestFor(index);
      const call = http.request(`${url}${path}`, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      call.on('error', () => resolve(0));
      call.end(body);
    });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const status = await sendOne(next++);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  agent.destroy();
  return statuses;
}

/** Samples a process's resident set size every `everyMs`; `stop()` gives the highest seen, in MB. */
export function watchRss(pid: number, everyMs = 100): { stop(): number; current(): number } {
  let peak = 0;
  const read = () => {
    try {
      const kilobytes = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      peak = Math.max(peak, kilobytes / 1024);
      return kilobytes / 1024;
    } catch {
      return 0; // the process is gone
    }
  };
  read();
  const timer = setInterval(read, everyMs);
  return {
    current: read,
    stop: () => {
      clearInterval(timer);
      read();
      return Math.round(peak);
    },
  };
}

/** One POST from `localAddress`: its status and parsed JSON body. */
export function postFrom(
  url: string,
  localAddress: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const call = http.request(url, { method: 'POST', localAddress, headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    call.on('error', reject);
    call.end(body);
  });
}
