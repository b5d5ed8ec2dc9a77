import { test, expect } from './fixtures';

import { signUp } from './helpers';

test('with notifications on, a private message or a mention notifies a person whose tab is out of view', async ({ browser }) => {
  const suffix = Date.now().toString(36);
  const [a, b] = [`ana_${suffix}`, `bob_${suffix}`];
  const ana = await signUp(await browser.newContext(), a);

  // Bob's browser: its tab is out of view, and its notifications are recorded instead of
  // shown (headless Chromium has no notification centre to look at).
  const bobContext = await browser.newContext();
  await bobContext.addInitScript(() => {
    const shown: { title: string; body?: string }[] = [];
    (window as any).__shown = shown;
    class RecordedNotification {
      static permission = 'default';
      static async requestPermission() {
        RecordedNotification.permission = 'granted';
        return 'granted';
      }
      onclick: unknown = null;
      constructor(title: string, options?: { body?: string }) {
        shown.push({ title, body: options?.body });
      }
    }
    (window as any).Notification = RecordedNotification;
    Object.defineProperty(document, 'hidden', { get: () => true });
  });
  const bob = await signUp(bobContext, b);
  const shown = () => bob.evaluate(() => (window as any).__shown as { title: string; body?: string }[]);

  // Bob turns notifications on in his settings.
  await bob.getByRole('link', { name: 'Settings' }).click();
  await expect(bob.getByTestId('notifications-state')).toHaveText('Notifications are off in this browser.');
  await bob.getByRole('button', { name: 'Turn notifications on' }).click();
  await expect(bob.getByTestId('notifications-state')).toHaveText('Notifications are on in this browser.');
  await bob.getByRole('link', { name: 'Chat', exact: true }).click();
  await expect(bob.getByRole('heading', { name: 'People' })).toBeVisible();

  // A private message.
  await ana.goto(`/chat/${b}/`);
  await ana.getByLabel('Message').fill('psst');
  await ana.getByLabel('Message').press('Enter');
  await expect.poll(shown).toEqual([{ title: a, body: 'psst' }]);

  // A mention in the public room; then a message that mentions nobody, which stays quiet.
  await ana.goto('/chat/room/public-chat/');
  await ana.getByLabel('Message').fill(`@${b} lunch?`);
  await ana.getByLabel('Message').press('Enter');
  await expect.poll(shown).toHaveLength(2);
  expect((await shown())[1]).toEqual({ title: 'Public chat', body: `${a} mentioned you: @${b} lunch?` });
  await ana.getByLabel('Message').fill('nobody in particular');
  await ana.getByLabel('Message').press('Enter');
  await expect(ana.locator('.messages .message').filter({ hasText: 'nobody in particular' })).toHaveCount(1);
  await bob.waitForTimeout(500);
  expect(await shown()).toHaveLength(2);

  // Leave the public room as it was found: other tests count who is in it.
  await ana.context().close();
  await bobContext.close();
});
