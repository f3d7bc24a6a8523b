import { api, Me } from './api';
import { locale, setLocale } from './i18n';

/**
 * The language is remembered per person on the server (`setPreferences`), so it follows them to any computer;
 * the browser's localStorage only covers the sign-in screen, before anyone is known.
 */
export function applyRememberedLanguage(me: Me | null): void {
  if (me?.language && me.language !== locale()) setLocale(me.language);
}

export async function rememberLanguage(me: Me | null): Promise<void> {
  if (me) await api.PUT('/v1/session/preferences', { body: { language: locale() } });
}
