import { meanWithInterval, trajectorySvg, TrajectoryPoint } from './trajectory';

const relative = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('mean with 95% CI', () => {
  it('matches R t.test(x)$conf.int', () => {
    // R 4.2.2: t.test(c(31, 27, 36, 29.5, 40))$conf.int; t.test(c(2, 4))$conf.int
    const five = meanWithInterval([31, 27, 36, 29.5, 40]);
    expect(five.n).toBe(5);
    expect(relative(five.mean!, 32.7)).toBeLessThan(1e-15);
    expect(relative(five.ciLower!, 26.194581155086894)).toBeLessThan(1e-13);
    expect(relative(five.ciUpper!, 39.205418844913112)).toBeLessThan(1e-13);
    const two = meanWithInterval([2, 4]);
    expect(relative(two.ciLower!, -9.7062047361746941)).toBeLessThan(1e-13);
    expect(relative(two.ciUpper!, 15.7062047361746941)).toBeLessThan(1e-13);
  });

  it('has no interval for one value and nothing for none', () => {
    expect(meanWithInterval([7])).toEqual({ n: 1, mean: 7, ciLower: null, ciUpper: null });
    expect(meanWithInterval([])).toEqual({ n: 0, mean: null, ciLower: null, ciUpper: null });
  });
});

describe('trajectory plot', () => {
  const points: TrajectoryPoint[] = [
    { arm: 'SMCM', visit: 'baseline', n: 5, mean: 30, ciLower: 28, ciUpper: 32 },
    { arm: 'SMCM', visit: 'm6', n: 4, mean: 33, ciLower: 30.5, ciUpper: 35.5 },
    { arm: 'SMCM', visit: 'm12', n: 0, mean: null, ciLower: null, ciUpper: null },
    { arm: 'TAU', visit: 'baseline', n: 5, mean: 29, ciLower: 27, ciUpper: 31 },
    { arm: 'TAU', visit: 'm6', n: 1, mean: 30, ciLower: null, ciUpper: null },
    { arm: 'TAU', visit: 'm12', n: 0, mean: null, ciLower: null, ciUpper: null },
  ];
  const svg = trajectorySvg({
    title: 'A <trial> & co',
    measure: 'Herth Hope Index',
    population: 'intention-to-treat',
    visits: ['baseline', 'm6', 'm12'],
    arms: ['SMCM', 'TAU'],
    points,
  });

  it('is an accessible image whose description states every number drawn', () => {
    expect(svg).toMatch(/^<svg [^>]*role="img" aria-labelledby="trajectory-title trajectory-desc"/);
    expect(svg).toContain(
      '<title id="trajectory-title">Herth Hope Index: mean with 95% CI by visit and arm – A &lt;trial&gt; &amp; co</title>',
    );
    const desc = /<desc id="trajectory-desc">([^<]*)<\/desc>/.exec(svg)![1];
    expect(desc).toContain(
      'SMCM: baseline: mean 30.00 (95% CI 28.00 to 32.00), n = 5; m6: mean 33.00 (95% CI 30.50 to 35.50), n = 4; m12: no data.',
    );
    expect(desc).toContain(
      'TAU: baseline: mean 29.00 (95% CI 27.00 to 31.00), n = 5; m6: mean 30.00, n = 1; m12: no data.',
    );
  });

  it('draws a marker per mean, an interval per CI and a line per arm with more than one mean', () => {
    const arm = (name: string) => new RegExp(`<g data-arm="${name}"[^>]*>(.*?)</g>`).exec(svg)![1]!;
    expect(arm('SMCM').match(/<circle/g)).toHaveLength(2);
    expect(arm('SMCM').match(/<line/g)).toHaveLength(2);
    expect(arm('TAU').match(/<rect/g)).toHaveLength(2);
    expect(arm('TAU').match(/<line/g)).toHaveLength(1);
    expect(arm('TAU')).toContain('stroke-dasharray');
    for (const visit of ['baseline', 'm6', 'm12']) expect(svg).toContain(`>${visit}</text>`);
  });

  it('says so when nothing is recorded yet', () => {
    const empty = trajectorySvg({
      title: 't',
      measure: 'm',
      population: 'per-protocol',
      visits: ['m6'],
      arms: ['Group 1', 'Group 2'],
      points: [],
    });
    expect(empty).toContain('No outcome is recorded yet.');
    expect(empty).not.toContain('NaN');
  });
});
