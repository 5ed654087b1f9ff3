// The staff console in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core):
// one step of tests/browser/console_browser_test.py per run.
//
//   node console_steps.cjs STEP CONFIG.json
//
// CONFIG: {url, password, artifacts, fifo, ...step values}. Each step logs in itself, does what
// a member of staff would do with the mouse and keyboard, checks what the page says, saves a
// screenshot of each page under `artifacts`, and exits non-zero with a message on the first
// surprise.
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [step, configPath] = process.argv.slice(2);
const cfg = JSON.parse(fs.readFileSync(configPath, "utf8"));

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function login(page, name, password = cfg.password) {
  await page.goto(cfg.url + "/login");
  await page.fill('input[name="name"]', name);
  await page.fill('input[name="password"]', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(cfg.artifacts, name + ".png"), fullPage: true });
}

async function text(page) {
  return page.textContent("body");
}

const steps = {
  // Each role lands on its page; five wrong passwords lock the account.
  async roles(context) {
    const landing = { sato: "/children", abe: "/children", mori: "/children", kanno: "/audit" };
    for (const [name, where] of Object.entries(landing)) {
      const own = await context.browser().newContext({ ignoreHTTPSErrors: true });
      const page = await own.newPage();
      await login(page, name);
      check(new URL(page.url()).pathname === where, `${name} landed on ${page.url()}`);
      check((await text(page)).includes(name), `${name}: the header does not name the account`);
      await shot(page, "home-" + name);
      await own.close();
    }
    const page = await context.newPage();
    for (let i = 0; i < 5; i++) await login(page, "locked", "wrong password here");
    await login(page, "locked");
    check((await text(page)).includes("アカウントはロックされています"), "no lock-out after 5 failures");
    await shot(page, "login-locked");
  },

  // A POST without the session's CSRF token is refused and changes nothing.
  async csrf(context) {
    const page = await context.newPage();
    await login(page, "abe");
    const res = await page.request.post(`${cfg.url}/children/${cfg.child}/card-lost`, {
      form: { csrf: "0".repeat(64) },
      maxRedirects: 0,
    });
    check(res.status() === 403, `a CSRF-less POST answered ${res.status()}`);
    const bare = await page.request.post(`${cfg.url}/children/${cfg.child}/card-lost`, {
      form: {},
      maxRedirects: 0,
    });
    check(bare.status() === 403, `a POST without a token answered ${bare.status()}`);
  },

  // A facility account asking for another facility's child: 403, and the auditor sees it.
  async forbidden(context) {
    const page = await context.newPage();
    await login(page, "sato");
    const res = await page.goto(`${cfg.url}/children/${cfg.other_child}`);
    check(res.status() === 403, `another facility's child answered ${res.status()}`);
    check((await text(page)).includes("権限がありません"), "the 403 page does not say why");
    await shot(page, "forbidden");
    const auditor = await context.browser().newContext({ ignoreHTTPSErrors: true });
    const audit = await auditor.newPage();
    await login(audit, "kanno");
    const body = await text(audit);
    check(body.includes("console.denied"), "no console.denied entry in the audit log");
    check(body.includes("検証済み"), "the audit page does not show the chain verified");
    await shot(audit, "audit");
    await auditor.close();
  },

  // The call centre finds the child by kana and enters the code the guardian reads out.
  async verify(context) {
    const page = await context.newPage();
    await login(page, "abe");
    await page.fill('input[name="q"]', cfg.kana);
    await Promise.all([page.waitForNavigation(), page.press('input[name="q"]', "Enter")]);
    await shot(page, "search");
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/children/${cfg.child}"]`)]);
    check((await text(page)).includes(cfg.name), "the child's page does not show the name");
    await page.fill(`form[action$="/code"]:has(input[value="${cfg.guardian}"]) input[name="code"]`, cfg.code);
    await Promise.all([
      page.waitForNavigation(),
      page.click(`form[action$="/code"]:has(input[value="${cfg.guardian}"]) button`),
    ]);
    check((await text(page)).includes("確認コードを受け付けました"), "the code was not accepted");
    await shot(page, "child-verified");
  },

  // The call centre marks the card lost; then the card is tapped at the club while the
  // facility's board is open: the alert shows within 2 s.
  async lost(context) {
    const page = await context.newPage();
    await login(page, "abe");
    await page.goto(`${cfg.url}/children/${cfg.child}`);
    await Promise.all([page.waitForNavigation(), page.click('button:has-text("紛失にする")')]);
    check((await text(page)).includes("カードを紛失にしました"), "the card was not marked lost");
    await shot(page, "child-lost");
  },
  async board_alert(context) {
    const page = await context.newPage();
    await login(page, "sato");
    await page.goto(`${cfg.url}/board`);
    await shot(page, "board-before");
    const tapped = Date.now();
    fs.appendFileSync(cfg.fifo, `0 ${cfg.idm} 60\n`);
    await page.waitForSelector(".board-alert.alert-lost_card_seen", { timeout: 2000 + cfg.upload_ms });
    const seconds = (Date.now() - tapped) / 1000;
    console.log(`board: the lost card's alert showed ${seconds.toFixed(2)} s after the tap`);
    await shot(page, "board-lost-card");
  },

  // The call centre binds the new card the guardian collected: its IDm as printed on it.
  async replace(context) {
    const page = await context.newPage();
    await login(page, "abe");
    await page.goto(`${cfg.url}/children/${cfg.child}`);
    await page.fill('form[action$="/card-replace"] input[name="card"]', cfg.idm_printed);
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/card-replace"] button')]);
    const body = await text(page);
    check(body.includes("新しいカードを登録しました"), "the new card was not bound: " + body.slice(0, 400));
    check(body.includes("使用中") && body.includes("廃止"), "the card table does not show the new and the old card");
    await shot(page, "child-replaced");
  },

  // Facility staff record a forgotten departure on the board.
  async forgotten(context) {
    const page = await context.newPage();
    await login(page, "sato");
    await page.goto(`${cfg.url}/board`);
    await page.click("details.record-tap summary");
    await page.selectOption('select[name="child"]', String(cfg.child));
    await page.check('input[name="direction"][value="departure"]');
    await page.fill('input[name="time"]', cfg.time);
    await page.fill('input[name="note"]', "お迎え時にカードを忘れたため職員が確認");
    await Promise.all([page.waitForNavigation(), page.click('details.record-tap button[type="submit"]')]);
    const body = await text(page);
    check(body.includes("記録しました: 退室（通知済み）"), "the forgotten departure was not mailed: " + body.slice(0, 400));
    await shot(page, "board-forgotten");
  },

  // The remaining pages, as each role sees them.
  async pages(context) {
    const page = await context.newPage();
    await login(page, "abe");
    await page.goto(`${cfg.url}/alerts`);
    check((await text(page)).includes("紛失届のカードがタッチされました"), "the alert page lacks the alert");
    await shot(page, "alerts");
    await page.fill('form[action$="/ack"] input[name="note"]', "保護者に連絡済み");
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/ack"] button')]);
    check((await text(page)).includes("保護者に連絡済み"), "the acknowledgement is not listed");
    const ops = await context.browser().newContext({ ignoreHTTPSErrors: true });
    const op = await ops.newPage();
    await login(op, "mori");
    await op.goto(`${cfg.url}/operations`);
    check((await op.locator("svg.chart").count()) === 1, "no chart on the operations page");
    await shot(op, "operations");
    await ops.close();
  },
};

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  let code = 0;
  try {
    const context = await browser.newContext({ ignoreHTTPSErrors: true, locale: "ja-JP" });
    await steps[step](context);
  } catch (e) {
    console.error(`step ${step}: ${e.message}`);
    for (const c of browser.contexts())
      for (const p of c.pages())
        await p.screenshot({ path: path.join(cfg.artifacts, `failed-${step}.png`), fullPage: true }).catch(() => {});
    code = 1;
  } finally {
    await browser.close();
  }
  process.exit(code);
})();
