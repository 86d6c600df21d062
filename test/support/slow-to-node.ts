import type { Browser, BrowserContext, BrowserContextOptions, Request, Route } from 'playwright-core';

/**
 * While `work` runs, every request whose URL ends with `suffix` reaches the route handlers of the
 * browser's new contexts (the render's asset proxy) `ms` late: the trip from the page through the
 * browser and Playwright on a loaded machine. The browser and its contexts stay the same objects
 * (the render keys state on them).
 */
export async function slowToNode<T>(browser: Browser, suffix: string, ms: number, work: () => Promise<T>): Promise<T> {
  const newContext = browser.newContext;
  browser.newContext = async (options?: BrowserContextOptions) => {
    const context = await newContext.call(browser, options);
    const route = context.route;
    context.route = (url: Parameters<BrowserContext['route']>[0], handler: Parameters<BrowserContext['route']>[1]) =>
      route.call(context, url, async (r: Route, request: Request) => {
        if (request.url().endsWith(suffix)) await new Promise((done) => setTimeout(done, ms));
        return handler(r, request);
      });
    return context;
  };
  try {
    return await work();
  } finally {
    browser.newContext = newContext;
  }
}
