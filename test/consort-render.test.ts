import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { addSites, createTrial, grantConsent, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Renders the CONSORT SVG in headless Chromium (Debian's chromium; .ci/run installs it) and reads
 * back, from the laid-out page, every count the browser actually drew, comparing it with the JSON.
 */
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(() => t.close());

it('draws in Chromium exactly the numbers of the JSON counts', async () => {
  expect(CHROMIUM).toBeDefined();
  const trial = await createTrial(t, { randomization: { method: 'list' } });
  await addSites(t, trial.id, ['A']);
  await t.call('put', `/v1/trials/${trial.id}/allocation-table`, {
    body: { rows: ['SMCM', 'TAU', 'TAU'].map((arm) => ({ stratum: {}, arm })) },
  });
  await t.call('post', `/v1/trials/${trial.id}/activation`);
  const eligibility = serviceUserInput().eligibility;
  await screen(t, trial.id, serviceUserInput({ eligibility: { ...eligibility, cantonese: false } }));
  for (let i = 0; i < 3; i++) {
    const p = await screen(t, trial.id, serviceUserInput());
    await grantConsent(t, trial.id, p.id);
    await t.call('post', `/v1/trials/${trial.id}/participants/${p.id}/randomization`);
  }
  const report = (await t.call('get', `/v1/trials/${trial.id}/consort`)).body;
  const svg = (await t.call('get', `/v1/trials/${trial.id}/consort.svg`)).text;

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'consort-render-'));
  const page = path.join(dir, 'page.html');
  fs.writeFileSync(
    page,
    `<!doctype html><html><body>${svg.replace(/^<\?xml[^>]*>/, '')}<pre id="drawn"></pre><script>
      const drawn = [...document.querySelectorAll('tspan[data-pointer]')]
        .filter((el) => el.getComputedTextLength() > 0)
        .map((el) => [el.getAttribute('data-pointer'), el.textContent]);
      document.getElementById('drawn').textContent = JSON.stringify(drawn);
    </script></body></html>`,
  );
  const dom = execFileSync(CHROMIUM!, [...FLAGS, '--dump-dom', `file://${page}`], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const json = /<pre id="drawn">(.*?)<\/pre>/s.exec(dom)?.[1];
  expect(json).toBeDefined();
  const drawn: [string, string][] = JSON.parse(json!.replace(/&quot;/g, '"').replace(/&amp;/g, '&'));
  expect(drawn.length).toBeGreaterThan(15);
  for (const [pointer, text] of drawn) {
    const value = pointer
      .split('/')
      .slice(1)
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], report);
    expect([pointer, text]).toEqual([pointer, `n = ${value}`]);
  }
  expect(drawn.map(([p]) => p)).toEqual(
    expect.arrayContaining([
      '/enrollment/assessedForEligibility',
      '/enrollment/randomized',
      '/arms/0/allocated',
      '/arms/1/analysed',
    ]),
  );

  const png = path.join(dir, 'consort.png');
  execFileSync(CHROMIUM!, [...FLAGS, `--screenshot=${png}`, '--window-size=1200,1000', `file://${page}`], {
    timeout: 60_000,
    stdio: 'ignore',
  });
  const header = fs.readFileSync(png).subarray(0, 8);
  expect(header.equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
});
