import fs from 'node:fs';
import path from 'node:path';
import { en } from './messages/en';
import { zhHK } from './messages/zh-HK';

/** Every source file of the console, messages excluded. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'messages' ? [] : sources(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const used = new Set<string>();
for (const file of sources(__dirname)) {
  const text = fs.readFileSync(file, 'utf8');
  for (const match of text.matchAll(/\bt\(\s*'([^']+)'/g)) used.add(match[1]!);
  // A key must be written out whole: a computed key (t(`status.${x}`)) would escape this check.
  expect(text).not.toMatch(/\bt\(\s*`/);
}

describe('message catalogues', () => {
  it('have the same keys in English and Traditional Chinese', () => {
    expect(Object.keys(zhHK).sort()).toEqual(Object.keys(en).sort());
  });

  it('have every key the console uses, and no key it does not use', () => {
    const keys = new Set(Object.keys(en));
    expect([...used].filter((key) => !keys.has(key))).toEqual([]);
    expect([...keys].filter((key) => !used.has(key))).toEqual([]);
  });

  it('have the same placeholders in both languages, and no empty or untranslated message', () => {
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect([key, placeholders(zhHK[key])]).toEqual([key, placeholders(en[key])]);
      expect(zhHK[key].trim()).not.toBe('');
      if (!/^[A-Z0-9 {}()\-.:]*$/.test(en[key]) && key !== 'header.switchLanguage')
        expect([key, zhHK[key]]).not.toEqual([key, en[key]]);
    }
  });
});
