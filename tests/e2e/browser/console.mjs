// The jobs console in a real headless Chromium (Debian's, driven by playwright-core), as a
// person uses it: a refused key, sign in, a finished video job's thumbnails, a dead job
// retried until it succeeds. Prints what it saw as one JSON line; the pytest test judges it.
import { chromium } from "playwright-core";

const { CONSOLE_URL, API_KEY, VIDEO_JOB, DEAD_JOB, SCREENSHOT, CHROMIUM } = process.env;
const seen = { consoleErrors: [], cspViolations: [], requestsWithKey: [], steps: [] };
const step = (name) => seen.steps.push(name);

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on("console", (message) => { if (message.type() === "error") seen.consoleErrors.push(message.text()); });
  page.on("pageerror", (error) => seen.consoleErrors.push(String(error)));
  page.on("request", (request) => { if (request.url().includes(API_KEY)) seen.requestsWithKey.push(request.url()); });

  await page.goto(CONSOLE_URL);
  await page.fill("#api-key", "ck_not_a_real_key");
  await page.click("#sign-in-form button");
  await page.waitForFunction(() => document.querySelector("#sign-in-error").textContent.includes("refused"));
  seen.refusedKeyMessage = await page.textContent("#sign-in-error");
  step("refused key");
  seen.consoleErrors.length = 0; // the browser logs the 401 itself; only errors after sign-in count

  await page.fill("#api-key", API_KEY);
  await page.click("#sign-in-form button");
  await page.waitForSelector("#signed-in:not([hidden])");
  seen.keyInSessionStorage = await page.evaluate(() => sessionStorage.getItem("courier.apiKey")) === API_KEY;
  seen.keyInLocalStorage = await page.evaluate(() => JSON.stringify(localStorage)).then((all) => all.includes(API_KEY));
  step("signed in");

  const dead = `#dead-jobs tr[data-job-id="${DEAD_JOB}"]`;
  await page.waitForSelector(`${dead}[data-status="dead"] button.retry`);
  await page.click(`${dead} button.retry`);
  step("retry clicked");
  await page.waitForSelector(`#jobs tr[data-job-id="${DEAD_JOB}"][data-status="succeeded"]`, { timeout: 60_000 });
  seen.deadJobAfterRetry = await page.getAttribute(`#jobs tr[data-job-id="${DEAD_JOB}"]`, "data-status");
  seen.deadListAfterRetry = await page.locator(dead).count();
  step("dead job succeeded");

  await page.click(`#jobs tr[data-job-id="${VIDEO_JOB}"]`);
  await page.waitForSelector("#keyframes img.keyframe");
  await page.waitForFunction(() => [...document.querySelectorAll("#keyframes img.keyframe")].every((img) => img.complete && img.naturalWidth > 0));
  seen.thumbnails = await page.$$eval("#keyframes img.keyframe", (images) => images.map((img) => ({ width: img.naturalWidth, src: img.src })));
  seen.detailStatus = await page.textContent("#detail-actions .status");
  step("thumbnails shown");

  seen.schedules = await page.$$eval("#schedules tbody tr", (rows) => rows.map((row) => row.dataset.scheduleId));
  seen.usage = await page.textContent("#usage");
  seen.pageUrl = page.url();
  seen.cspViolations = await page.evaluate(() => window.__csp);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  step("screenshot");
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
