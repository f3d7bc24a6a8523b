import { createActiveTrial, screen, serviceUserInput } from './support/factories';
import { startTestApp, TestApp } from './support/test-app';

/* Searching participants by label (#17, the console's participants list): a prefix, ignoring case. */
let t: TestApp;
let trialId: string;

beforeAll(async () => {
  t = await startTestApp();
  trialId = (await createActiveTrial(t)).id;
  for (const label of ['ABC-001', 'abc-002', 'ABD-003', 'X_1', 'X%2', 'XY1', 'Ａ-1'])
    await screen(t, trialId, serviceUserInput({ label, siteCode: label === 'abc-002' ? 'B' : 'A' }));
});
afterAll(() => t.close());

async function labels(query: string): Promise<string[]> {
  const res = await t.call('get', `/v1/trials/${trialId}/participants?${query}`);
  expect(res.status).toBe(200);
  return res.body.items.map((p: { label: string }) => p.label).sort();
}

describe('participants by label', () => {
  it('match a prefix ignoring case, combined with the other filters and pages', async () => {
    expect(await labels('label=abc')).toEqual(['ABC-001', 'abc-002']);
    expect(await labels('label=AB')).toEqual(['ABC-001', 'ABD-003', 'abc-002']);
    expect(await labels('label=abc&siteCode=B')).toEqual(['abc-002']);
    expect(await labels('label=ABC-0012')).toEqual([]);
    const first = await t.call('get', `/v1/trials/${trialId}/participants?label=ab&limit=2`);
    expect(first.body.items).toHaveLength(2);
    const second = await t.call(
      'get',
      `/v1/trials/${trialId}/participants?label=ab&limit=2&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((p: { label: string }) => p.label)).toHaveLength(1);
  });

  it('take % and _ literally, and compare in Unicode NFC', async () => {
    expect(await labels('label=X_')).toEqual(['X_1']);
    expect(await labels(`label=${encodeURIComponent('X%')}`)).toEqual(['X%2']);
    expect(await labels(`label=${encodeURIComponent('Ａ')}`)).toEqual(['Ａ-1']);
  });

  it('refuse an empty or over-long search at its pointer', async () => {
    const res = await t.call('get', `/v1/trials/${trialId}/participants?label=${'a'.repeat(101)}`);
    expect(res.status).toBe(422);
    expect(res.body.errors[0].pointer).toBe('/query/label');
  });
});
