import { test, expect } from './fixtures';

import { signUp } from './helpers';

// What a push from the chat carries (the server encrypts it; the browser's push service hands
// it to the service worker decrypted), delivered here through the DevTools protocol the way
// Chromium's push service would.
test('a push shows a notification from the service worker, one per room, even with no tab in view', async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: baseURL });
  const bob = await signUp(context, `bob_${Date.now().toString(36)}`);
  await bob.evaluate(() => navigator.serviceWorker.ready.then(() => true));

  const cdp = await context.newCDPSession(bob);
  const registration = new Promise<string>((resolve) =>
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
      const ours = registrations.find((r: { scopeURL: string; isDeleted: boolean }) => r.scopeURL.startsWith(baseURL!) && !r.isDeleted);
      if (ours) resolve(ours.registrationId);
    }),
  );
  await cdp.send('ServiceWorker.enable');
  const registrationId = await registration;
  const push = (notice: object) =>
    cdp.send('ServiceWorker.deliverPushMessage', { origin: new URL(baseURL!).origin, registrationId, data: JSON.stringify(notice) });
  const shown = () =>
    bob.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag })),
    );

  // Chromium sometimes drops a DevTools push (while the worker starts, or handles another):
  // each is sent again until what it should show is shown; a repeat changes nothing shown.
  const pushUntil = (notice: object, expected: object[]) =>
    expect(async () => {
      await push(notice);
      await expect.poll(async () => (await shown()).sort((x, y) => x.tag.localeCompare(y.tag)), { timeout: 2000 }).toEqual(expected);
    }).toPass({ timeout: 20000 });

  await pushUntil({ title: 'ana', body: 'are you in?', url: '/chat/room/dm-1/#m1', tag: 'dm-1' }, [{ title: 'ana', body: 'are you in?', tag: 'dm-1' }]);
  // A newer message in the same room replaces the notification; another room has its own.
  await pushUntil({ title: 'ana', body: 'call me', url: '/chat/room/dm-1/#m2', tag: 'dm-1' }, [{ title: 'ana', body: 'call me', tag: 'dm-1' }]);
  await pushUntil({ title: 'Public chat', body: 'ana mentioned you: lunch?', url: '/chat/room/public-chat/#m9', tag: 'public-chat' }, [
    { title: 'ana', body: 'call me', tag: 'dm-1' },
    { title: 'Public chat', body: 'ana mentioned you: lunch?', tag: 'public-chat' },
  ]);
  await context.close();
});

test('settings turn push notifications on, or say why this browser cannot', async ({ browser, baseURL }) => {
  const context = await browser.newContext();
  await context.grantPermissions(['notifications'], { origin: baseURL });
  const bob = await signUp(context, `bob_${Date.now().toString(36)}`);
  await bob.getByRole('link', { name: 'Settings' }).click();
  await expect(bob.getByTestId('push-state')).toHaveText('Push notifications are off for this browser.');
  await bob.getByRole('button', { name: 'Turn push notifications on' }).click();
  // This machine's Chromium has no push service to reach (no network, no Google keys): it
  // says so, and stays off. Where it has one, it turns on.
  const on = bob.getByTestId('push-state').filter({ hasText: 'Push notifications are on for this browser.' });
  const cannot = bob.getByRole('alert').filter({ hasText: 'could not reach its push service' });
  await expect(on.or(cannot)).toBeVisible();
  if (await cannot.isVisible()) {
    await expect(bob.getByTestId('push-state')).toHaveText('Push notifications are off for this browser.');
    await expect(bob.getByRole('button', { name: 'Turn push notifications on' })).toBeEnabled();
  }
  await context.close();
});
