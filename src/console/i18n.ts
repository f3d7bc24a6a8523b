import { en, MessageKey } from './messages/en';
import { zhHK } from './messages/zh-HK';

export type Locale = 'en' | 'zh-HK';
export const LOCALES: readonly Locale[] = ['en', 'zh-HK'];
const CATALOGUES: Record<Locale, Record<MessageKey, string>> = { en, 'zh-HK': zhHK };
const STORAGE_KEY = 'trialdesk.locale';

let current: Locale = 'en';

/** The remembered language (not a secret: the only thing the console keeps in localStorage), else the browser's. */
export function initialLocale(): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored === 'en' || stored === 'zh-HK') return stored;
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-HK' : 'en';
}

export function setLocale(locale: Locale): void {
  current = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

export function locale(): Locale {
  return current;
}

/** The message in the current language, with `{name}` placeholders filled. */
export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  return CATALOGUES[current][key].replace(/\{(\w+)\}/g, (_, name: string) => String(params[name] ?? `{${name}}`));
}

/** An ISO date (YYYY-MM-DD) as the current language writes it; stored values stay ISO. */
export function formatDate(iso: string): string {
  const [y, m, d] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: 'UTC' }).format(
    new Date(Date.UTC(y, m - 1, d)),
  );
}

export function formatDateTime(iso: string): string {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}
