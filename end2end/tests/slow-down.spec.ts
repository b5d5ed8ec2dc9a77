import { test, expect } from './fixtures';

import { bodies, roomOfTheirOwn, signUp } from './helpers';

test('messages sent faster than the limit wait with a "slow down" notice, then go out once each', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const ana = await signUp(browser, `ana_${suffix}`);
  const room = await roomOfTheirOwn(ana, `Fast ${suffix}`);

  // Ana is posting as fast as she may (a script, say) and keeps at it while she types, so the
  // limit stays spent however slowly this machine types: what she types has to wait.
  let refused = false;
  let scripting = true;
  const script = (async () => {
    for (let n = 0; scripting; n++) {
      const response = await ana.request.post('/api/send_message', { form: { room, body: `burst ${n}` } });
      refused ||= response.status() === 429;
    }
  })();
  await expect.poll(() => refused).toBe(true);

  // What she types now waits, and the page says why.
  for (const n of [1, 2, 3]) {
    await ana.getByLabel('Message').fill(`typed ${n} ${suffix}`);
    await ana.getByLabel('Message').press('Enter');
  }
  await expect(ana.getByTestId('slow-down')).toBeVisible();
  scripting = false;
  await script;

  // Then each goes out by itself, once, in order, and the notice goes away.
  await expect.poll(() => bodies(ana, suffix)).toEqual([1, 2, 3].map((n) => `typed ${n} ${suffix}`));
  await expect(ana.getByTestId('sending')).toHaveCount(0);
  await expect(ana.getByTestId('slow-down')).toHaveCount(0);
  await ana.reload();
  await expect.poll(() => bodies(ana, suffix)).toEqual([1, 2, 3].map((n) => `typed ${n} ${suffix}`));
});
