import { test as base, expect, BrowserContext, Page } from '@playwright/test';

export { expect };

/**
 * Every spec's `test`: the same as Playwright's, except that a Content-Security-Policy
 * violation on any page the test opens fails the test. Pages report one through the DOM's
 * `securitypolicyviolation` event (and Chromium logs a refused script or style as a console
 * error); both are collected here.
 */
export const test = base.extend<{ cspGuard: void }>({
  cspGuard: [
    async ({ browser }, use) => {
      const violations: string[] = [];
      const watch = (page: Page) =>
        page.on('console', (message) => {
          if (message.type() === 'error' && /Content Security Policy|csp-violation/.test(message.text())) {
            violations.push(`${page.url()}: ${message.text()}`);
          }
        });
      const guard = async (context: BrowserContext) => {
        await context.addInitScript(() =>
          document.addEventListener('securitypolicyviolation', (event) =>
            console.error(`csp-violation: ${event.violatedDirective} blocked ${event.blockedURI || 'inline'}`),
          ),
        );
        context.pages().forEach(watch);
        context.on('page', watch);
        return context;
      };
      const newContext = browser.newContext.bind(browser);
      const newPage = browser.newPage.bind(browser);
      browser.newContext = async (...args) => guard(await newContext(...args));
      browser.newPage = async (...args) => {
        const context = await guard(await newContext(...args));
        return context.newPage();
      };
      await use();
      browser.newContext = newContext;
      browser.newPage = newPage;
      expect(violations, 'Content-Security-Policy violations').toEqual([]);
    },
    { auto: true },
  ],
});
