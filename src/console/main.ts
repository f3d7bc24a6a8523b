import { api, Me, whenSignedOut } from './api';
import { h, show } from './dom';
import { initialLocale, locale, setLocale, t } from './i18n';
import { applyRememberedLanguage, rememberLanguage } from './preferences';
import { activationScreen } from './screens/activation';
import { auditScreen, systemAuditScreen } from './screens/audit';
import { consortScreen } from './screens/consort';
import { exportsScreen } from './screens/exports';
import { roleLabel } from './screens/labels';
import { participantScreen } from './screens/participant';
import { participantsScreen } from './screens/participants';
import { couponLogScreen } from './screens/coupon-log';
import { visitWorklistScreen } from './screens/visit-worklist';
import { visitScreen } from './screens/visit';
import { screeningScreen } from './screens/screening';
import { editSetupScreen, setupScreen } from './screens/setup';
import { setPasswordScreen, signInScreen } from './screens/sign-in';
import { tableOneScreen } from './screens/table-one';
import { trialScreen } from './screens/trial';
import { trialsScreen } from './screens/trials';
import { usersScreen } from './screens/users';
import type { Session } from './session';

/** The signed-in person, or null. */
let me: Me | null = null;
let signedOutNotice = false;

function header(): void {
  const top = document.getElementById('top')!;
  const other = locale() === 'en' ? 'zh-HK' : 'en';
  top.replaceChildren(
    h('a', { class: 'brand', href: '#/trials' }, 'trialdesk'),
    me
      ? h(
          'span',
          { class: 'who' },
          t('header.signedInAs', { name: me.name, role: roleLabel(me.role) }),
          me.blinded ? ` · ${t('header.blinded')}` : '',
        )
      : '',
    h(
      'button',
      {
        class: 'secondary',
        type: 'button',
        lang: other,
        onclick: () => {
          setLocale(other);
          void rememberLanguage(me);
          void route();
        },
      },
      t('header.switchLanguage'),
    ),
    me
      ? h(
          'button',
          {
            class: 'secondary',
            type: 'button',
            onclick: async () => {
              await api.DELETE('/v1/session');
              me = null;
              location.hash = '#/sign-in';
            },
          },
          t('header.signOut'),
        )
      : '',
  );
  const skip = document.querySelector('.skip');
  if (skip) skip.textContent = t('header.skip');
  document.title = `trialdesk`;
}

async function currentUser(): Promise<Me | null> {
  const { data } = await api.GET('/v1/session');
  return data ?? null;
}

async function route(): Promise<void> {
  const path = location.hash.replace(/^#/, '') || '/trials';
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'set-password' && parts[1]) {
    header();
    setPasswordScreen(parts[1]);
    return;
  }
  if (!me) {
    me = await currentUser();
    applyRememberedLanguage(me);
  }
  header();
  if (!me || parts[0] === 'sign-in') {
    if (me && parts[0] === 'sign-in') {
      location.hash = '#/trials';
      return;
    }
    signInScreen(signedOutNotice, async (signedIn) => {
      me = signedIn;
      applyRememberedLanguage(me);
      signedOutNotice = false;
      location.hash = '#/trials';
      if (path === '/trials') await route();
    });
    return;
  }
  const session: Session = { me };
  const [, trialId, section, participantId, subsection, visitCode] = parts;
  const admin = me.role === 'admin' && !me.trialIds;
  try {
    if (parts[0] === 'admin' && parts[1] === 'audit' && admin) await systemAuditScreen(session);
    else if (parts[0] === 'admin' && admin) await usersScreen(session);
    else if (trialId === 'new' && admin) setupScreen();
    else if (parts[0] !== 'trials' || !trialId) await trialsScreen(session);
    else if (!section) await trialScreen(session, trialId);
    else if (section === 'participants' && participantId && subsection === 'visits' && visitCode)
      await visitScreen(session, trialId, participantId, visitCode);
    else if (section === 'participants' && participantId) await participantScreen(session, trialId, participantId);
    else if (section === 'participants') await participantsScreen(session, trialId);
    else if (section === 'screening') await screeningScreen(session, trialId);
    else if (section === 'consort') await consortScreen(session, trialId);
    else if (section === 'table-one') await tableOneScreen(session, trialId);
    else if (section === 'exports') await exportsScreen(session, trialId);
    else if (section === 'audit') await auditScreen(session, trialId);
    else if (section === 'activation' && me.role === 'admin') await activationScreen(trialId);
    else if (section === 'edit' && admin) await editSetupScreen(trialId);
    else if (section === 'coupons') await couponLogScreen(session, trialId);
    else if (section === 'visits') await visitWorklistScreen(session, trialId);
    else await trialsScreen(session);
  } catch (error) {
    show(h('h1', {}, t('error.title')), h('p', { class: 'alert', role: 'alert' }, String(error)));
  }
}

whenSignedOut(() => {
  if (!me) return;
  me = null;
  signedOutNotice = true;
  location.hash = '#/sign-in';
});

setLocale(initialLocale());
window.addEventListener('hashchange', () => void route());
void route();
