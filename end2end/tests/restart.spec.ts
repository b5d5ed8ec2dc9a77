import { test, expect } from './fixtures';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { bodies, signUp } from './helpers';

// A server of this spec's own (the suite's must keep running), restarted on the same database.
const port = Number(process.env.E2E_RESTART_PORT ?? 3108);
const origin = `http://127.0.0.1:${port}`;
const dataDir = mkdtempSync(join(tmpdir(), 'chat-e2e-restart-'));

async function start(): Promise<ChildProcess> {
  const server = spawn('../target/debug/chat-server', ['serve'], {
    env: {
      ...process.env,
      DATABASE_URL: `sqlite://${dataDir}/chat.db`,
      DATA_DIR: dataDir,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: '../target/site',
      RUST_LOG: 'warn',
    },
    stdio: 'ignore',
  });
  for (let tries = 0; tries < 200; tries++) {
    try {
      if ((await fetch(`${origin}/healthz`)).ok) return server;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  server.kill('SIGKILL');
  throw new Error('the server did not start');
}

/** SIGTERM, and the exit code once it has stopped by itself. */
async function stop(server: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
  server.kill('SIGTERM');
  return exited;
}

test('a restarted server: the page says so, comes back by itself, and sends what was typed meanwhile, once', async ({ browser }) => {
  let server = await start();
  try {
    const suffix = Date.now().toString(36);
    const ana = await signUp(await browser.newContext({ baseURL: origin }), `ana_${suffix}`);
    const bob = await signUp(await browser.newContext({ baseURL: origin }), `bob_${suffix}`);
    await ana.goto('/chat/room/public-chat/');
    await bob.goto('/chat/room/public-chat/');
    await expect(bob.getByTestId('online-count')).toHaveText('2 online');
    await ana.getByLabel('Message').fill(`before ${suffix}`);
    await ana.getByLabel('Message').press('Enter');
    await expect.poll(() => bodies(bob, suffix)).toEqual([`before ${suffix}`]);

    // Stopped (as for an upgrade): the sockets close with 1012 and the pages say they reconnect.
    expect(await stop(server)).toBe(0);
    await expect(ana.getByRole('status')).toHaveText('reconnecting…');
    await ana.getByLabel('Message').fill(`during ${suffix}`);
    await ana.getByLabel('Message').press('Enter');
    await expect(ana.getByTestId('sending')).toHaveCount(1);

    // Back: both pages reconnect without a reload, and Ana's message goes out once.
    server = await start();
    await expect(ana.getByRole('status')).toHaveCount(0, { timeout: 20_000 });
    await expect(bob.getByRole('status')).toHaveCount(0, { timeout: 20_000 });
    const expected = [`before ${suffix}`, `during ${suffix}`];
    await expect.poll(() => bodies(bob, suffix)).toEqual(expected);
    await expect.poll(() => bodies(ana, suffix)).toEqual(expected);
    await bob.getByLabel('Message').fill(`after ${suffix}`);
    await bob.getByLabel('Message').press('Enter');
    await expect.poll(() => bodies(ana, suffix)).toEqual([...expected, `after ${suffix}`]);
    await ana.reload();
    await expect.poll(() => bodies(ana, suffix)).toEqual([...expected, `after ${suffix}`]);
  } finally {
    server.kill('SIGKILL');
  }
});
