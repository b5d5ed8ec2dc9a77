import { test, expect } from './fixtures';

import { bodies, roomOfTheirOwn, signUp } from './helpers';

test('a browser cut off the network catches up on reconnect: every message once, in order, and its own sent once', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUp(browser, `ana_${suffix}`);
  const bob = await signUp(browser, `bob_${suffix}`);
  await roomOfTheirOwn(ana, `Away ${suffix}`, [bob]);

  // Bob's network goes; his page says it is reconnecting.
  await bob.context().setOffline(true);
  await expect(bob.locator('.room-header').getByRole('status')).toHaveText('reconnecting…');
  // The browser knows it is offline, and the page says so.
  await expect(bob.getByTestId('offline')).toBeVisible();

  // Ana writes five messages meanwhile; Bob writes one, which waits as "sending…".
  for (let n = 1; n <= 5; n++) {
    await ana.getByLabel('Message').fill(`while away ${n} ${suffix}`);
    await ana.getByLabel('Message').press('Enter');
  }
  await expect.poll(() => bodies(ana, suffix)).toHaveLength(5);
  await bob.getByLabel('Message').fill(`written offline ${suffix}`);
  await bob.getByLabel('Message').press('Enter');
  await expect(bob.getByTestId('sending')).toHaveCount(1);

  // Back online: Bob's page catches up and his message goes out, once.
  await bob.context().setOffline(false);
  await expect(bob.getByRole('status')).toHaveCount(0, { timeout: 40_000 });
  await expect(bob.getByTestId('offline')).toBeHidden();
  const expected = [1, 2, 3, 4, 5].map((n) => `while away ${n} ${suffix}`).concat(`written offline ${suffix}`);
  await expect.poll(() => bodies(bob, suffix)).toEqual(expected);
  await expect.poll(() => bodies(ana, suffix)).toEqual(expected);
  await expect(bob.getByTestId('sending')).toHaveCount(0);

  // A reload shows the same, from the database.
  await bob.reload();
  await expect.poll(() => bodies(bob, suffix)).toEqual(expected);
});
