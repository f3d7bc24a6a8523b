import { Locator, Page } from 'playwright-core';
import { smcmFollowUp } from '../scripts/smcm-trial';
import { serviceUserInput, smcmTrialInput } from './support/factories';
import { ConsoleHarness, PASSWORD, startConsoleHarness } from './support/console-browser';

/*
 * The coordinator's participant work in a real browser (#17): the whole screen → consent → randomize → coupon
 * flow with the keyboard alone; the electronic signature (password re-entered, a wrong one refused at the field,
 * the signer's printed name and the meaning in the audit row); consent withdrawal with scope, a follow-up event,
 * a coupon voided, the timeline with the visits; the coupon log with totals, the visit work list, the search by
 * label; the language remembered on the server across browsers; a blinded monitor who sees none of the actions
 * and no arm. axe-core checks every screen, and any CSP violation or page error fails the test.
 */
const TRIAL_CODE = 'HK-CMW-2019';
const ARM_WORDS = ['SMCM', 'TAU', 'Strengths model', 'Treatment as usual'];

jest.setTimeout(300_000);

let h: ConsoleHarness;
let base: string;
let trialId: string;
const api: ConsoleHarness['api'] = (...args) => h.api(...args);

beforeAll(async () => {
  h = await startConsoleHarness('participant');
  base = h.base;
  const trial = await api(
    'POST',
    '/v1/trials',
    smcmTrialInput({ code: TRIAL_CODE, title: 'Case management for mental wellness, Kowloon', ...smcmFollowUp() }),
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
  await h.user('Ho Ka Yan', 'coordinator2@centre-a.hk', { role: 'coordinator', trialIds: [trialId], siteCodes: ['A'] });
  await h.user('Lee Mei Ling', 'monitor@trial.hk', { role: 'monitor', blinded: true });
});

afterAll(async () => {
  await h?.close();
});

/** Presses Tab (and only Tab) until the element has the focus; fails if 120 presses do not reach it. */
async function tabTo(page: Page, target: Locator): Promise<void> {
  await target.waitFor();
  for (let i = 0; i < 120; i++) {
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab did not reach ${target.toString()}`);
}

/** A consented service user at centre A, made through the API. */
async function consentedParticipant(label: string): Promise<{ id: string; consentId: string }> {
  const p = await api('POST', `/v1/trials/${trialId}/participants`, serviceUserInput({ label }));
  const consent = await api('POST', `/v1/trials/${trialId}/participants/${p.id}/consents`, {
    form: 'trial',
    version: '1.0',
    decision: 'granted',
    signedOn: '2018-03-02',
    obtainedBy: 'IW',
    method: 'written',
  });
  return { id: p.id, consentId: consent.id };
}

async function auditRows(entityId: string, action: string) {
  const page = await api('GET', `/v1/trials/${trialId}/audit?entityId=${entityId}&limit=100`);
  return page.items.filter((e: { action: string }) => e.action === action);
}

describe('the participant screens in Chromium', () => {
  it('run screen → consent → randomize → coupon with the keyboard alone', async () => {
    const { context, page, problems } = await h.newPage();
    await page.goto(`${base}/`);
    await tabTo(page, page.locator('#email'));
    await page.keyboard.type('coordinator@centre-a.hk');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Trials' }).waitFor();

    await tabTo(page, page.getByRole('link', { name: TRIAL_CODE }));
    await page.keyboard.press('Enter');
    await tabTo(page, page.getByRole('link', { name: 'Screen a person' }));
    await page.keyboard.press('Enter');

    await tabTo(page, page.getByLabel(/^Label$/));
    await page.keyboard.type('KB-0001');
    // Each criterion: Tab reaches the group's first radio (Yes); Space answers yes, the arrow key moves to No.
    for (const fieldset of await page.locator('fieldset[data-criterion]').all()) {
      const inclusion = /inclusion/.test(await fieldset.locator('legend').innerText());
      await tabTo(page, fieldset.getByLabel('Yes', { exact: true }));
      await page.keyboard.press(inclusion ? 'Space' : 'ArrowRight');
    }
    await tabTo(page, page.getByLabel(/^Age$/));
    await page.keyboard.type('45');
    await tabTo(page, page.getByRole('button', { name: 'Save the screening' }));
    await page.keyboard.press('Enter');
    await page
      .locator('#participant-status')
      .filter({ hasText: /^eligible$/ })
      .waitFor();
    const participantId = /participants\/([0-9a-f-]{36})/.exec(page.url())![1]!;

    await tabTo(page, page.getByLabel(/Obtained by/));
    await page.keyboard.type('IW');
    await page.keyboard.press('Enter');
    await page.locator('#participant-status').filter({ hasText: 'consented' }).waitFor();

    await tabTo(page, page.getByRole('button', { name: 'Randomize…' }));
    await page.keyboard.press('Enter');
    // The dialog opens with the focus in the password field: the signature.
    const password = page.getByRole('dialog').getByLabel('Your password');
    expect(await password.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    await page.locator('#allocation').waitFor();

    await tabTo(page, page.getByLabel('Serial number'));
    await page.keyboard.type('KB-HK50-0001');
    await page.keyboard.press('Enter');
    await page.locator('#coupons').filter({ hasText: 'KB-HK50-0001' }).waitFor();
    await h.check(page, 'en-participant-keyboard');

    const [randomized] = await auditRows(participantId, 'participant.randomized');
    expect(randomized.after.signature).toMatchObject({ name: 'Chan Tai Man', meaning: 'randomized' });
    expect(problems).toEqual([]);
    await context.close();
  });

  it('signs with the password, withdraws with scope, records an event, voids a coupon, shows the timeline', async () => {
    const { context, page, problems } = await h.newPage();
    const { id, consentId } = await consentedParticipant('SIGN-0001');
    await h.signIn(page, 'coordinator@centre-a.hk');
    await page.goto(`${base}/#/trials/${trialId}/participants/${id}`);

    await page.getByRole('button', { name: 'Randomize…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Enter your password to sign this as Chan Tai Man').waitFor();
    await dialog.getByRole('button', { name: 'Randomize now' }).click();
    await dialog.getByText('Enter your password to sign.').waitFor();
    await dialog.getByLabel('Your password').fill('not the password');
    await dialog.getByRole('button', { name: 'Randomize now' }).click();
    await dialog.getByText('The password is wrong.').waitFor();
    expect(await dialog.getByLabel('Your password').getAttribute('aria-invalid')).toBe('true');
    await h.check(page, 'en-sign-wrong-password-confirm');
    expect(await auditRows(id, 'participant.randomized')).toHaveLength(0);
    await dialog.getByLabel('Your password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Randomize now' }).click();
    await page.locator('#allocation').waitFor();
    const [randomized] = await auditRows(id, 'participant.randomized');
    expect(randomized.after.signature).toMatchObject({ name: 'Chan Tai Man', meaning: 'randomized' });

    await page.getByLabel('Serial number').fill('SIGN-HK50-0001');
    await page.getByRole('button', { name: 'Issue the coupon' }).click();
    await page.locator('#coupons').filter({ hasText: 'SIGN-HK50-0001' }).waitFor();

    await page.locator('summary', { hasText: 'Void a coupon' }).click();
    await page.locator('#void-reason').fill('printed with the wrong serial');
    await page.getByRole('button', { name: 'Void the coupon' }).click();
    await page.locator('#coupons').filter({ hasText: 'voided' }).waitFor();

    await page.locator('summary', { hasText: 'Record an event' }).click();
    await page.getByLabel('Event', { exact: true }).selectOption('discontinued_intervention');
    await page.getByLabel('Reason (optional)').fill('moved to Tuen Mun');
    await page.getByRole('button', { name: 'Record the event' }).click();
    await page.locator('#timeline').filter({ hasText: 'discontinued the intervention (moved to Tuen Mun)' }).waitFor();

    await page.locator('summary', { hasText: 'Withdraw consent' }).click();
    await page.getByLabel('What the person stops').selectOption('follow_up');
    await page.locator('#withdraw-reason').fill('no longer wishes to be interviewed');
    await page.locator('#withdraw-form').getByLabel('Your password').fill(PASSWORD);
    await h.check(page, 'en-participant-withdraw-form');
    await page.getByRole('button', { name: 'Sign and record the withdrawal' }).click();
    await page.locator('#timeline').filter({ hasText: 'withdrawn' }).waitFor();
    const timeline = await page.locator('#timeline').innerText();
    // Withdrawn from follow-up today: no visit whose window is still open is expected any more.
    expect(timeline).toMatch(/Visit Baseline interview: not expected/);
    expect(timeline).toMatch(/Visit 6-month follow-up: not expected/);
    expect(timeline).toMatch(/Coupon SIGN-HK50-0001 issued \(HKD 50\) · voided/);
    const [withdrawn] = await auditRows(consentId, 'consent.withdrawn');
    expect(withdrawn.after.signature).toMatchObject({ name: 'Chan Tai Man', meaning: 'recorded withdrawal' });
    expect(withdrawn.after.withdrawal).toMatchObject({ scope: 'follow_up' });
    await h.check(page, 'en-participant-actions');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('lists coupons with totals, the visits due, and participants by label', async () => {
    const { context, page, problems } = await h.newPage();
    await h.signIn(page, 'coordinator@centre-a.hk');
    await page.goto(`${base}/#/trials/${trialId}`);
    await page.getByRole('link', { name: 'Coupon log' }).click();
    await page.locator('#coupon-log').waitFor();
    const totals = await page.locator('#coupon-totals').innerText();
    // Two issued in the earlier tests (the keyboard one and SIGN-HK50-0001), one voided.
    expect(totals).toMatch(/interview_coupon\s+2 · HKD 100\s+1 · HKD 50\s+1 · HKD 50/);
    await h.check(page, 'en-coupon-log');

    await page.goto(`${base}/#/trials/${trialId}`);
    await page.getByRole('link', { name: 'Visit work list' }).click();
    await page.locator('#worklist').waitFor();
    const worklist = await page.locator('#worklist').innerText();
    expect(worklist).toContain('KB-0001');
    expect(worklist).toContain('Baseline interview');
    // SIGN-0001 withdrew from follow-up: none of its visits is on the list; later visits are not due yet.
    expect(worklist).not.toContain('SIGN-0001');
    expect(worklist).not.toContain('6-month follow-up');
    await h.check(page, 'en-visit-worklist');

    await page.goto(`${base}/#/trials/${trialId}/participants`);
    await page.locator('table').waitFor();
    await page.getByLabel('Label begins with').fill('sign-');
    await page.locator('tbody tr').filter({ hasText: 'SIGN-0001' }).waitFor();
    await page.waitForTimeout(500);
    expect(await page.locator('tbody tr').count()).toBe(1);
    await h.check(page, 'en-participants-search');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('records an assessment from the work list and marks a visit missed from the timeline, in both languages', async () => {
    const DAY = 86_400_000;
    /** A consented service user randomized 200 days ago: the baseline is overdue and the 6-month visit is due. */
    async function randomizedLongAgo(label: string): Promise<string> {
      const { id } = await consentedParticipant(label);
      // The service's clock goes back for the randomization only (day 0 is the randomization's date).
      h.advanceClock(-200 * DAY);
      try {
        await api('POST', `/v1/trials/${trialId}/participants/${id}/randomization`);
      } finally {
        h.advanceClock(200 * DAY);
      }
      return id;
    }
    /** Fills a scale's items in order. */
    async function fillScale(page: Page, measure: string, answers: string[], itemLabel: (n: number) => string) {
      const fieldset = page.locator(`fieldset[data-measure="${measure}"]`);
      for (const [i, answer] of answers.entries())
        await fieldset.getByLabel(itemLabel(i + 1), { exact: true }).fill(answer);
    }
    const first = await randomizedLongAgo('FU-0001');
    const second = await randomizedLongAgo('FU-0002');

    const { context, page, problems } = await h.newPage();
    const sent: string[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST') sent.push(`${r.method()} ${new URL(r.url()).pathname}`);
    });
    await h.signIn(page, 'coordinator@centre-a.hk');
    await page.goto(`${base}/#/trials/${trialId}/visits`);
    await page.locator('#worklist').waitFor();
    const row = page.locator('#worklist tbody tr', { hasText: 'FU-0001' }).filter({ hasText: '6-month follow-up' });
    await row.getByRole('link', { name: 'Record 6-month follow-up' }).click();
    await page.getByRole('heading', { level: 1, name: '6-month follow-up: FU-0001' }).waitFor();
    // The form is the trial's measures at this visit: two scales with their items, a yes/no and a count.
    expect(await page.locator('fieldset[data-measure="hope"] input').count()).toBe(12);
    expect(await page.locator('fieldset[data-measure="gse"] input').count()).toBe(10);
    await h.check(page, 'en-visit-form');

    // Item 4 of the hope scale answered 7 on a 1–4 scale: the API's 422 pointer lands at that item.
    await fillScale(page, 'hope', ['3', '3', '2', '7', '3', '4', '3', '3', '2', '3', '3', '3'], (n) => `Item ${n}`);
    await fillScale(page, 'gse', ['2', '2', '3', '2', '2', '3', '2', '2', '3', '2'], (n) => `Item ${n}`);
    await page.getByLabel('In paid employment').selectOption('true');
    await page.getByLabel('Psychiatric admissions in the period').fill('1');
    await page.getByRole('button', { name: 'Save the assessment' }).click();
    const itemFour = page.locator('fieldset[data-measure="hope"]').getByLabel('Item 4', { exact: true });
    await page.locator('#error-values-hope-items-3').filter({ hasText: 'Enter a whole number from 1 to 4' }).waitFor();
    expect(await itemFour.getAttribute('aria-invalid')).toBe('true');
    await h.check(page, 'en-visit-form-errors');

    await itemFour.fill('4');
    await page.getByRole('button', { name: 'Save the assessment' }).click();
    await page.locator('#timeline').filter({ hasText: 'Visit 6-month follow-up: assessed' }).waitFor();
    // From the timeline: the baseline interview never happened.
    await page.getByRole('link', { name: 'Record Baseline interview' }).click();
    await page.getByRole('heading', { level: 1, name: 'Baseline interview: FU-0001' }).waitFor();
    await page.getByLabel('Why it was missed').fill('could not be contacted');
    await page.getByRole('button', { name: 'Mark the visit missed' }).click();
    await page
      .locator('#timeline')
      .filter({ hasText: 'Visit Baseline interview: missed (could not be contacted)' })
      .waitFor();
    const timeline = await page.locator('#timeline').innerText();
    expect(timeline).toMatch(/Visit 6-month follow-up: assessed/);
    // Neither visit offers to be recorded again; the 12-month visit is not due yet.
    expect(await page.getByRole('link', { name: /^Record / }).count()).toBe(0);
    await h.check(page, 'en-visit-timeline');
    expect(sent.filter((r) => /assessments$|\/missed$/.test(r))).toEqual([
      `POST /v1/trials/${trialId}/participants/${first}/assessments`,
      `POST /v1/trials/${trialId}/participants/${first}/assessments`,
      `POST /v1/trials/${trialId}/participants/${first}/visits/baseline/missed`,
    ]);
    const schedule = await api('GET', `/v1/trials/${trialId}/participants/${first}/schedule`);
    expect(schedule.visits.map((v: { status: string }) => v.status)).toEqual(['missed', 'completed', 'not_due']);
    const assessments = await api('GET', `/v1/trials/${trialId}/audit?entityType=assessment&limit=100`);
    const recorded = assessments.items.find(
      (e: { action: string; after: { participantId: string } }) =>
        e.action === 'assessment.recorded' && e.after.participantId === first,
    );
    expect(recorded.after.values).toMatchObject({ employed: true, admissions: 1 });
    expect(recorded.after.values.hope.items).toEqual([3, 3, 2, 4, 3, 4, 3, 3, 2, 3, 3, 3]);

    // The same in Chinese, from the timeline: the field error in Chinese, then the visit marked missed.
    await page.getByRole('button', { name: '中文' }).click();
    await page.goto(`${base}/#/trials/${trialId}/participants/${second}`);
    await page.getByRole('link', { name: '記錄6-month follow-up' }).click();
    await page.getByRole('heading', { level: 1, name: '6-month follow-up：FU-0002' }).waitFor();
    await h.check(page, 'zh-visit-form');
    await fillScale(page, 'hope', ['0'], (n) => `第 ${n} 題`);
    await page.getByRole('button', { name: '儲存評估' }).click();
    await page.locator('#error-values-hope-items-0').filter({ hasText: '請輸入 1 至 4 的整數，或留空。' }).waitFor();
    await h.check(page, 'zh-visit-form-errors');
    await page.getByLabel('錯過的原因').fill('已搬離香港');
    await page.getByRole('button', { name: '標示探訪為錯過' }).click();
    await page.locator('#timeline').filter({ hasText: '6-month follow-up: 錯過 (已搬離香港)' }).waitFor();
    await h.check(page, 'zh-visit-timeline');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('remembers the language on the server, so it follows the person to another browser', async () => {
    const first = await h.newPage();
    await h.signIn(first.page, 'coordinator2@centre-a.hk');
    // The switch is saved through setPreferences.
    const saved = first.page.waitForResponse((r) => r.url().endsWith('/v1/session/preferences'));
    await first.page.getByRole('button', { name: '中文' }).click();
    expect((await saved).status()).toBe(200);
    await first.page.getByRole('heading', { level: 1, name: '研究' }).waitFor();
    await first.context.close();

    const { context, page, problems } = await h.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await h.signIn(page, 'coordinator2@centre-a.hk');
    expect(await page.evaluate('document.documentElement.lang')).toBe('zh-HK');

    const { id } = await consentedParticipant('ZH-0001');
    await page.goto(`${base}/#/trials/${trialId}/participants/${id}`);
    await page.getByRole('button', { name: '隨機分組…' }).click();
    await page.getByRole('dialog').getByLabel('你的密碼').fill(PASSWORD);
    await h.check(page, 'zh-sign-confirm');
    await page.getByRole('button', { name: '立即分組' }).click();
    await page.locator('#allocation').waitFor();
    await page.locator('summary', { hasText: '撤回同意' }).click();
    await page.locator('summary', { hasText: '記錄事件' }).click();
    await h.check(page, 'zh-participant-actions');
    await page.goto(`${base}/#/trials/${trialId}/coupons`);
    await page.locator('#coupon-log').waitFor();
    await h.check(page, 'zh-coupon-log');
    await page.goto(`${base}/#/trials/${trialId}/visits`);
    await page.locator('#worklist').waitFor();
    await h.check(page, 'zh-visit-worklist');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('shows a blinded monitor the lists and the timeline, with no action and no arm', async () => {
    const { context, page, problems } = await h.newPage();
    const { id } = await consentedParticipant('MON-0001');
    await api('POST', `/v1/trials/${trialId}/participants/${id}/randomization`);
    await api('POST', `/v1/trials/${trialId}/participants/${id}/incentives`, {
      incentive: 'interview_coupon',
      issuedOn: new Date().toISOString().slice(0, 10),
      reference: 'MON-HK50-0001',
    });
    await h.signIn(page, 'monitor@trial.hk');
    const texts: string[] = [];
    await page.goto(`${base}/#/trials/${trialId}/participants/${id}`);
    await page.locator('#timeline').waitFor();
    texts.push(await page.locator('body').innerText());
    for (const action of ['Withdraw consent', 'Record an event', 'Void a coupon', 'Randomize…'])
      expect(await page.getByText(action, { exact: true }).count()).toBe(0);
    await h.check(page, 'en-monitor-timeline');
    await page.goto(`${base}/#/trials/${trialId}/coupons`);
    await page.locator('#coupon-log').waitFor();
    texts.push(await page.locator('body').innerText());
    await page.goto(`${base}/#/trials/${trialId}/visits`);
    await page.locator('#worklist').waitFor();
    texts.push(await page.locator('body').innerText());
    // A monitor reads the work list; recording a visit is not theirs to do.
    expect(await page.getByRole('link', { name: /^Record / }).count()).toBe(0);
    for (const text of texts) for (const word of ARM_WORDS) expect(text).not.toContain(word);
    expect(problems).toEqual([]);
    await context.close();
  });
});
