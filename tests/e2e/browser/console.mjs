// The jobs console in a real headless Chromium (Debian's, driven by playwright-core), as a
// person uses it: a refused key, sign in, a finished video job's thumbnails, a dead job
// retried until it succeeds. Prints what it saw as one JSON line; the pytest test judges it.
import { chromium } from "playwright-core";

const { CONSOLE_URL, API_KEY, EMPTY_KEY, VIDEO_JOB, DEAD_JOB, NARROW_DEAD_JOB, BATCH_JOB, SOURCE, SCREENSHOT, NARROW_SCREENSHOT, CHROMIUM } = process.env;
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
  // The browser logs the 401 itself, and its log can arrive after the page has shown the
  // refusal: wait for that log, then count only the errors after it.
  const logged401 = page.waitForEvent("console", { predicate: (m) => m.type() === "error" && m.text().includes("401") });
  await page.click("#sign-in-form button");
  await page.waitForFunction(() => document.querySelector("#sign-in-error").textContent.includes("refused"));
  seen.refusedKeyMessage = await page.textContent("#sign-in-error");
  await logged401;
  step("refused key");
  seen.consoleErrors.length = 0;

  await page.fill("#api-key", API_KEY);
  await page.click("#sign-in-form button");
  await page.waitForSelector("#signed-in:not([hidden])");
  seen.keyInSessionStorage = await page.evaluate(() => sessionStorage.getItem("courier.apiKey")) === API_KEY;
  seen.keyInLocalStorage = await page.evaluate(() => JSON.stringify(localStorage)).then((all) => all.includes(API_KEY));
  await page.waitForSelector("#tenant:not([hidden])");
  seen.tenant = await page.textContent("#tenant");
  step("signed in");

  const dead = `#dead-jobs tr[data-job-id="${DEAD_JOB}"]`;
  await page.waitForSelector(`${dead}[data-status="dead"] button.retry`);
  await page.click(`${dead} button.retry`);
  await page.waitForFunction(() => document.querySelector("#info").textContent.includes("queued again"));
  seen.retryInfo = await page.textContent("#info");
  step("retry clicked");
  await page.waitForSelector(`#jobs tr[data-job-id="${DEAD_JOB}"][data-status="succeeded"]`, { timeout: 60_000 });
  seen.deadJobAfterRetry = await page.getAttribute(`#jobs tr[data-job-id="${DEAD_JOB}"]`, "data-status");
  seen.deadListAfterRetry = await page.locator(dead).count();
  step("dead job succeeded");

  await page.click(`#jobs tr[data-job-id="${VIDEO_JOB}"]`);
  await page.waitForSelector("#keyframes img.keyframe");
  await page.waitForFunction(() => [...document.querySelectorAll("#keyframes img.keyframe")].every((img) => img.complete && img.naturalWidth > 0));
  seen.thumbnails = await page.$$eval("#keyframes img.keyframe", (images) => images.map((img) => ({
    width: img.naturalWidth, src: img.src, shownHeight: img.getBoundingClientRect().height })));
  seen.detailStatus = await page.textContent("#detail-actions .status");
  // The detail opens where the eye is: its top inside the window after the click.
  seen.detailTop = await page.$eval("#detail", (e) => e.getBoundingClientRect().top);
  seen.viewportHeight = await page.evaluate(() => window.innerHeight);
  seen.summary = await page.$$eval("#detail-summary dt", (terms) => Object.fromEntries(terms.map((t) => [t.textContent, t.nextElementSibling.textContent])));
  seen.createdCell = await page.textContent(`#jobs tr[data-job-id="${VIDEO_JOB}"] td:nth-child(7)`);
  step("thumbnails shown");

  await page.click(`#jobs tr[data-job-id="${BATCH_JOB}"]`);
  await page.waitForSelector("#detail-children li");
  seen.children = await page.$$eval("#detail-children li", (items) => items.map((li) => li.textContent));
  step("children shown");

  seen.nextRunCell = await page.textContent("#schedules tbody tr td:nth-child(5)");
  await page.click("#schedules tbody tr button.schedule-pause");
  await page.waitForSelector('#schedules tbody tr[data-paused="true"] button.schedule-resume');
  seen.scheduleInfo = await page.textContent("#info");
  step("schedule paused");

  await page.click(`#sources tr[data-source-id="${SOURCE}"] button.show-deliveries`);
  await page.waitForSelector("#deliveries tbody tr");
  seen.deliveries = await page.$$eval("#deliveries tbody tr", (rows) => rows.map((row) => row.dataset.verdict));
  seen.sourceUrl = await page.textContent(`#sources tr[data-source-id="${SOURCE}"] td:nth-child(5)`);
  step("deliveries shown");

  seen.schedules = await page.$$eval("#schedules tbody tr", (rows) => rows.map((row) => row.dataset.scheduleId));
  seen.usage = await page.textContent("#usage");
  seen.pageUrl = page.url();
  seen.cspViolations = await page.evaluate(() => window.__csp);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  step("screenshot");

  // A phone's width: nothing wider than the window, a dead job's Retry button inside it.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForSelector(`#dead-jobs tr[data-job-id="${NARROW_DEAD_JOB}"] button.retry`);
  seen.narrow = await page.evaluate((id) => ({
    pageWidth: document.documentElement.scrollWidth,
    retryRight: document.querySelector(`#dead-jobs tr[data-job-id="${id}"] button.retry`).getBoundingClientRect().right,
    jobsTableRight: document.querySelector("#jobs").getBoundingClientRect().right,
  }), NARROW_DEAD_JOB);
  await page.screenshot({ path: NARROW_SCREENSHOT, fullPage: true });
  step("narrow");

  // A tenant with nothing yet is told how to enqueue a first job.
  await page.click("#sign-out");
  await page.fill("#api-key", EMPTY_KEY);
  await page.click("#sign-in-form button");
  await page.waitForSelector("#first-job:not([hidden])");
  seen.firstJobHint = await page.textContent("#first-job");
  seen.emptyTenant = await page.textContent("#tenant");
  step("first-job hint");
} finally {
  await browser.close();
  console.log(JSON.stringify(seen));
}
