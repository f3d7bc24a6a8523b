import { Page } from 'playwright-core';
import { serviceUserInput, smcmTrialInput } from './support/factories';
import { ConsoleHarness, PASSWORD, startConsoleHarness } from './support/console-browser';

/*
 * The console in a real browser (Debian's Chromium through playwright-core; .ci/run installs chromium): a
 * coordinator of centre A signs in, screens an ineligible and an eligible person (422 pointers shown at their
 * fields), records consent, randomizes with a double click that randomizes once, issues the HK$50 coupon; a
 * blinded monitor finds no arm; the same flow runs in Chinese; an idle session asks to sign in again. axe-core
 * checks every screen (no serious or critical violation) and any CSP violation fails the test. Screenshots go
 * to docs/console/.
 */
const TRIAL_CODE = 'HK-CMW-2018';
const ARM_WORDS = ['SMCM', 'TAU', 'Strengths model', 'Treatment as usual'];

// Each test drives a browser through several screens; on a loaded 2-core machine that can take minutes.
jest.setTimeout(300_000);

let h: ConsoleHarness;
let base: string;
let trialId: string;
const api: ConsoleHarness['api'] = (...args) => h.api(...args);
const check: ConsoleHarness['check'] = (...args) => h.check(...args);
const signIn: ConsoleHarness['signIn'] = (...args) => h.signIn(...args);
const newPage: ConsoleHarness['newPage'] = () => h.newPage();

beforeAll(async () => {
  h = await startConsoleHarness('coordinator');
  base = h.base;
  // A code and title that name no arm, so that a blinded page showing them is not taken for a leak.
  const trial = await api(
    'POST',
    '/v1/trials',
    smcmTrialInput({ code: TRIAL_CODE, title: 'Case management for mental wellness, Hong Kong' }),
  );
  trialId = trial.id;
  for (const code of ['A', 'B', 'C'])
    await api('POST', `/v1/trials/${trialId}/sites`, { code, name: `ICCMW centre ${code}` });
  await api('POST', `/v1/trials/${trialId}/activation`);
  await h.user('Chan Tai Man', 'coordinator@centre-a.hk', {
    role: 'coordinator',
    trialIds: [trialId],
    siteCodes: ['A'],
  });
  await h.user('Lee Mei Ling', 'monitor@trial.hk', { role: 'monitor', blinded: true });
});

afterAll(async () => {
  await h?.close();
});

/** Answers every criterion: yes to inclusion, no to exclusion, except the ones in `flip`. */
async function answerCriteria(page: Page, yes: string, no: string, flip: string[] = []): Promise<void> {
  for (const fieldset of await page.locator('fieldset[data-criterion]').all()) {
    const code = (await fieldset.getAttribute('data-criterion'))!;
    const inclusion = (await fieldset.locator('legend').innerText()).match(/inclusion|納入/) !== null;
    const answerYes = inclusion !== flip.includes(code);
    await fieldset.getByLabel(answerYes ? yes : no, { exact: true }).check();
  }
}

interface Words {
  yes: string;
  no: string;
  screen: RegExp;
  save: RegExp;
  record: RegExp;
  randomize: RegExp;
  confirm: RegExp;
  issue: RegExp;
  label: RegExp;
  obtainedBy: RegExp;
  serial: RegExp;
  age: RegExp;
  signature: RegExp;
}

const EN: Words = {
  yes: 'Yes',
  no: 'No',
  screen: /Screen a person/,
  save: /Save the screening/,
  record: /^Record$/,
  randomize: /^Randomize…$/,
  confirm: /Randomize now/,
  issue: /Issue the coupon/,
  label: /^Label$/,
  obtainedBy: /Obtained by/,
  serial: /Serial number/,
  age: /^Age$/,
  signature: /^Your password$/,
};
const ZH: Words = {
  yes: '是',
  no: '否',
  screen: /篩選參加者/,
  save: /儲存篩選結果/,
  record: /^記錄$/,
  randomize: /^隨機分組…$/,
  confirm: /立即分組/,
  issue: /發出禮券/,
  label: /^代號$/,
  obtainedBy: /取得同意的職員/,
  serial: /序號/,
  age: /^Age$/,
  signature: /^你的密碼$/,
};

/** Screens one ineligible and one eligible person, consents, randomizes with a double click, issues a coupon. */
async function coordinatorFlow(page: Page, words: Words, prefix: string): Promise<string> {
  await page.getByRole('link', { name: TRIAL_CODE }).click();
  await page.getByRole('heading', { level: 2, name: /Enrollment by site|各中心招募人數/ }).waitFor();
  // Polled from here: waitForFunction would eval in the page, which the console's CSP (rightly) forbids.
  const consortLoaded = () =>
    page.locator('img.consort').evaluate((img) => (img as unknown as { complete: boolean }).complete);
  for (let i = 0; i < 600 && !(await consortLoaded()); i++) await page.waitForTimeout(100);
  expect(await consortLoaded()).toBe(true);
  await check(page, `${prefix}-trial-home`);

  // Saving with nothing answered shows each 422 pointer at its field.
  await page.getByRole('link', { name: words.screen }).click();
  await page.getByLabel(words.label).waitFor();
  await page.getByRole('button', { name: words.save }).click();
  await page.locator('#error-label').filter({ hasText: /.+/ }).waitFor();
  expect(await page.getByLabel(words.label).getAttribute('aria-invalid')).toBe('true');
  await page.getByLabel(words.label).fill(`${prefix.toUpperCase()}-INEL-1`);
  await page.getByRole('button', { name: words.save }).click();
  await page.locator('#error-eligibility-age18').filter({ hasText: /.+/ }).waitFor();
  expect(await page.locator('#error-eligibility-overt_symptoms').innerText()).toMatch(/Answer this question|請回答/);
  await check(page, `${prefix}-screening-errors`);

  // Ineligible: not Cantonese-speaking; the form explains it before saving.
  await answerCriteria(page, words.yes, words.no, ['cantonese']);
  await page.locator('.notice li').filter({ hasText: 'Cantonese speaking' }).waitFor();
  await page.getByRole('button', { name: words.save }).click();
  await page
    .locator('#participant-status')
    .filter({ hasText: /not eligible|不符合資格/ })
    .waitFor();
  await check(page, `${prefix}-participant-ineligible`);

  // Eligible, with an out-of-range age first (the API's 422 shown at the field), then corrected.
  await page.goto(`${base}/#/trials/${trialId}/screening`);
  await page.getByLabel(words.label).fill(`${prefix.toUpperCase()}-ELIG-1`);
  await answerCriteria(page, words.yes, words.no);
  await page.getByLabel(words.age).fill('12');
  await page.getByRole('button', { name: words.save }).click();
  await page.locator('#error-baseline-age').filter({ hasText: /.+/ }).waitFor();
  await page.getByLabel(words.age).fill('45');
  await page.getByRole('button', { name: words.save }).click();
  await page
    .locator('#participant-status')
    .filter({ hasText: /^(eligible|符合資格)$/ })
    .waitFor();
  const participantId = /participants\/([0-9a-f-]{36})/.exec(page.url())![1]!;

  await page.getByLabel(words.obtainedBy).fill('IW');
  await page.getByRole('button', { name: words.record }).click();
  await page
    .locator('#participant-status')
    .filter({ hasText: /consented|已同意/ })
    .waitFor();
  await check(page, `${prefix}-participant-consented`);

  await page.getByRole('button', { name: words.randomize }).click();
  await page.getByRole('dialog').waitFor();
  await check(page, `${prefix}-randomize-confirm`);
  // The electronic signature: the person's password, re-entered (21 CFR 11.200).
  await page.getByRole('dialog').getByLabel(words.signature).fill(PASSWORD);
  await page.getByRole('button', { name: words.confirm }).dblclick();
  await page.locator('#allocation').waitFor();

  await page.getByLabel(words.serial).fill(`${prefix.toUpperCase()}-HK50-0001`);
  await page.getByRole('button', { name: words.issue }).click();
  await page.locator('#coupons').filter({ hasText: 'HK50-0001' }).waitFor();
  await check(page, `${prefix}-participant-randomized`);

  await page.goto(`${base}/#/trials/${trialId}/participants`);
  await page.getByRole('link', { name: `${prefix.toUpperCase()}-ELIG-1` }).waitFor();
  await check(page, `${prefix}-participants`);
  return participantId;
}

async function allocationsOf(participantId: string): Promise<unknown[]> {
  const page = await api('GET', `/v1/trials/${trialId}/allocations?limit=500`);
  return page.items.filter((a: { participantId: string }) => a.participantId === participantId);
}

describe('the console in Chromium', () => {
  it('lets a coordinator of centre A screen, consent, randomize once on a double click and issue a coupon', async () => {
    const { context, page, problems } = await newPage();
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await check(page, 'en-sign-in');
    await page.getByLabel('E-mail').fill('coordinator@centre-a.hk');
    await page.getByLabel(/^Password$/).fill('wrong password here');
    await page.getByRole('button', { name: /^Sign in$/ }).click();
    await page.getByText('The e-mail or the password is wrong.').waitFor();

    await signIn(page, 'coordinator@centre-a.hk');
    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: '__Host-trialdesk-session', httpOnly: true, secure: true, sameSite: 'Strict' }),
    ]);
    expect(await page.evaluate('document.cookie')).toBe('');
    await check(page, 'en-trials');

    const participantId = await coordinatorFlow(page, EN, 'en');
    expect(await allocationsOf(participantId)).toHaveLength(1);
    const audit = await api('GET', `/v1/trials/${trialId}/audit?entityId=${participantId}&limit=100`);
    const randomizations = audit.items.filter((e: { action: string }) => /randomi[sz]/.test(e.action));
    expect(randomizations).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a blinded monitor no arm anywhere', async () => {
    const { context, page, problems } = await newPage();
    // A participant randomized through the API, so this test does not depend on the coordinator's.
    const p = await api('POST', `/v1/trials/${trialId}/participants`, serviceUserInput({ label: 'MON-1' }));
    await api('POST', `/v1/trials/${trialId}/participants/${p.id}/consents`, {
      form: 'trial',
      version: '1.0',
      decision: 'granted',
      signedOn: '2018-03-02',
      obtainedBy: 'IW',
      method: 'written',
    });
    await api('POST', `/v1/trials/${trialId}/participants/${p.id}/randomization`);
    await signIn(page, 'monitor@trial.hk');
    await page.goto(`${base}/#/trials/${trialId}/participants/${p.id}`);
    await page.locator('#allocation').waitFor();
    expect(await page.locator('#allocation dd').first().innerText()).toMatch(/^Group [12]$/);
    await check(page, 'en-monitor-participant');
    const texts = [await page.locator('body').innerText()];
    await page.goto(`${base}/#/trials/${trialId}`);
    await page.getByRole('heading', { level: 2, name: /Enrollment by site/ }).waitFor();
    texts.push(await page.locator('body').innerText());
    await page.goto(`${base}/#/trials/${trialId}/participants`);
    await page.locator('table').waitFor();
    texts.push(await page.locator('body').innerText());
    for (const text of texts) for (const word of ARM_WORDS) expect(text).not.toContain(word);
    // The screens a blinded monitor cannot act on have no action buttons.
    expect(await page.getByRole('link', { name: /Screen a person/ }).count()).toBe(0);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('runs the same flow in Traditional Chinese, and remembers the language', async () => {
    const { context, page, problems } = await newPage();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: '中文' }).click();
    await page.getByRole('heading', { level: 1, name: '登入' }).waitFor();
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-HK');
    await check(page, 'zh-sign-in');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: '登入' }).waitFor();
    await signIn(page, 'coordinator@centre-a.hk');
    await check(page, 'zh-trials');
    const id = await coordinatorFlow(page, ZH, 'zh');
    expect(await allocationsOf(id)).toHaveLength(1);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('asks to sign in again when the session has been idle for 30 minutes', async () => {
    const { context, page } = await newPage();
    await signIn(page, 'coordinator@centre-a.hk');
    h.advanceClock(31 * 60_000);
    await page.getByRole('link', { name: TRIAL_CODE }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await page.getByText('Your session ended. Sign in again to continue.').waitFor();
    await check(page, 'en-session-expired');
    await context.close();
  });
});
