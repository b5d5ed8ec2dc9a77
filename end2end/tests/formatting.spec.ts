import { test, expect } from './fixtures';

import { roomOfTheirOwn, twoPeople } from './helpers';

test('a formatted message shows formatted in the other browser, live and after a reload, and markup shows as text', async ({ browser }) => {
  const { ana, bob } = await twoPeople(browser);
  const suffix = Date.now().toString(36);
  await roomOfTheirOwn(ana, `Format ${suffix}`, [bob]);

  await ana.getByLabel('Message').fill(`**loud** and \`code\` <b>not bold</b> see https://example.org/${suffix}.`);
  await ana.getByLabel('Message').press('Enter');
  const check = async () => {
    const body = bob.locator('.messages .message:not(.pending) .body').last();
    await expect(body.locator('strong')).toHaveText('loud');
    await expect(body.locator('code')).toHaveText('code');
    await expect(body).toContainText('<b>not bold</b>');
    await expect(body.locator('b')).toHaveCount(0);
    const link = body.getByRole('link', { name: `https://example.org/${suffix}` });
    await expect(link).toHaveAttribute('href', `https://example.org/${suffix}`);
    await expect(link).toHaveAttribute('rel', 'noopener nofollow ugc');
  };
  await check();
  await bob.reload();
  await check();
});
