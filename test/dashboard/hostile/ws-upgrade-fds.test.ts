import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { makeFixture, fixtureConfig } from '../fixture.js';
import { listen } from '../../../dashboard/server.js';

// Issue 13, item 1: every refused WebSocket upgrade must close the server's socket.
// Counted as the process's open file descriptors (client and server run in this process).
const f = await makeFixture({
  config: fixtureConfig({ server: { rateLimit: { writesPerMinute: 100000, failedAuthPerMinute: 100000 } } }),
});
const base = await listen(f.app, '127.0.0.1', 0);
after(() => f.app.close());
const { port } = new URL(base);

const openFds = (): number => readdirSync('/proc/self/fd').length;

/**
 * One upgrade request; resolves with the status once the server closed the connection (or after the response, if it
 * keeps it).
 */
function refusedUpgrade(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1',
      port,
      path,
      agent: false,
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`${path} was upgraded`));
    });
    req.on('response', (res) => {
      res.resume();
      // The client closes its side too: a server that keeps its socket (CLOSE-WAIT) is what this counts.
      res.on('end', () => {
        req.destroy();
        resolve(res.statusCode ?? 0);
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** Waits until the fd count is back at or below `limit` (the server closes its side asynchronously). */
async function settle(limit: number): Promise<number> {
  for (let i = 0; i < 200 && openFds() > limit; i++) await new Promise((r) => setTimeout(r, 10));
  return openFds();
}

test('500 upgrades with a wrong token each get 401 and leave no socket open', async () => {
  // Warm up: the first requests open lazily created handles (the route table, the logger).
  await refusedUpgrade('/api/stream', { authorization: 'Bearer wrongwrongwrongwrong' });
  const before = openFds();
  for (let i = 0; i < 500; i++)
    assert.equal(await refusedUpgrade('/api/stream', { authorization: 'Bearer wrongwrongwrongwrong' }), 401);
  const afterFds = await settle(before + 5);
  assert.ok(afterFds <= before + 5, `open fds ${before} before, ${afterFds} after 500 refused upgrades`);
});

test('refused upgrades of every other kind close their socket too: unknown route, bad query, malformed token', async () => {
  const before = openFds();
  for (let i = 0; i < 100; i++) {
    assert.equal(await refusedUpgrade('/api/nowhere', {}), 404);
    assert.equal(await refusedUpgrade('/api/stream?since=abc', {}), 400);
    assert.equal(await refusedUpgrade('/api/stream', { authorization: 'Basic abc' }), 401);
  }
  const afterFds = await settle(before + 5);
  assert.ok(afterFds <= before + 5, `open fds ${before} before, ${afterFds} after 300 refused upgrades`);
  const health = await fetch(`${base}/api/health`);
  assert.equal(health.status, 200, 'the server still answers');
});
