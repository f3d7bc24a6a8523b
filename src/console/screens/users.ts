import { api, Me, Trial } from '../api';
import { h, show } from '../dom';
import { formatDateTime, t } from '../i18n';
import { errorId, fieldId, labelled, problemForm } from './fields';
import type { Session } from '../session';
import { roleLabel } from './labels';

type Role = Me['role'];
const ROLES: Role[] = ['coordinator', 'statistician', 'monitor', 'admin'];

/**
 * The scope of a user or a key, as the API takes it: a role, all trials or one, the sites of that trial (for
 * coordinators) and blinding (not for admins). The API checks the combination; the console only builds it.
 */
function scopeFields(prefix: 'user' | 'key', trials: Trial[]) {
  const role = h(
    'select',
    {},
    ROLES.map((r) => h('option', { value: r }, roleLabel(r))),
  );
  const trial = h(
    'select',
    {},
    h('option', { value: '' }, t('users.allTrials')),
    trials.map((tr) => h('option', { value: tr.id }, `${tr.code} · ${tr.title}`)),
  );
  const sites = h('fieldset', { class: 'inline' }, h('legend', {}, t('users.sites')));
  const blinded = h('input', { type: 'checkbox' });
  const renderSites = () => {
    const chosen = trials.find((tr) => tr.id === trial.value);
    sites.replaceChildren(
      h('legend', {}, t('users.sites')),
      ...(chosen && role.value === 'coordinator'
        ? chosen.sites.map((s) =>
            h('label', {}, h('input', { type: 'checkbox', value: s.code }), ` ${s.code} · ${s.name}`),
          )
        : [h('p', { class: 'hint' }, t('users.sitesHint'))]),
    );
  };
  trial.addEventListener('change', renderSites);
  role.addEventListener('change', renderSites);
  renderSites();
  const read = () => {
    const siteCodes = [...sites.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    return {
      role: role.value as Role,
      trialIds: trial.value ? [trial.value] : undefined,
      siteCodes: siteCodes.length ? siteCodes : undefined,
      blinded: blinded.checked || undefined,
    };
  };
  sites.id = fieldId(`/${prefix}/siteCodes`);
  const elements = [
    labelled(`/${prefix}/role`, t('participants.role'), role),
    labelled(`/${prefix}/trialIds`, t('users.trial'), trial),
    h('div', {}, sites, h('p', { class: 'field-error', id: errorId(`/${prefix}/siteCodes`) })),
    labelled(`/${prefix}/blinded`, t('users.blinded'), blinded),
  ];
  return { elements, read };
}

const scopeText = (item: { trialIds: string[] | null; siteCodes: string[] | null }, trials: Trial[]) =>
  [
    item.trialIds
      ? item.trialIds.map((id) => trials.find((tr) => tr.id === id)?.code ?? id).join(', ')
      : t('users.allTrials'),
    item.siteCodes ? item.siteCodes.join(', ') : '',
  ]
    .filter(Boolean)
    .join(' · ');

/** Admin: people (users) and API keys. Only unscoped admins manage them; others get no link to this screen. */
export async function usersScreen(session: Session, shownOnce?: { message: string; secret: string }): Promise<void> {
  const [{ data: trialPage }, { data: userList }, { data: keyPage }] = await Promise.all([
    api.GET('/v1/trials', { params: { query: { limit: 100 } } }),
    api.GET('/v1/users', { params: { query: { includeDeactivated: true } } }),
    api.GET('/v1/api-keys', { params: { query: { includeRevoked: true, limit: 100 } } }),
  ]);
  const trials = trialPage?.items ?? [];
  /** The set-password link or the key: shown once after creation, never again (the API keeps only hashes). */
  const once = h(
    'div',
    { 'aria-live': 'polite', id: 'shown-once' },
    shownOnce &&
      h(
        'div',
        { class: 'success' },
        h('p', {}, shownOnce.message),
        h('p', {}, h('code', { class: 'secret' }, shownOnce.secret)),
      ),
  );

  const name = h('input', { type: 'text', autocomplete: 'off' });
  const email = h('input', { type: 'email', autocomplete: 'off' });
  const userScope = scopeFields('user', trials);
  const userForm = problemForm(
    t('users.createSubmit'),
    async () => {
      const { data, error } = await api.POST('/v1/users', {
        body: { name: name.value.trim(), email: email.value.trim(), ...userScope.read() },
      });
      if (!data) return error;
      await usersScreen(session, {
        message: t('users.linkOnce', { name: data.name, date: formatDateTime(data.setPasswordTokenExpiresAt) }),
        secret: `${location.origin}/#/set-password/${data.setPasswordToken}`,
      });
      return null;
    },
    [
      h('h2', {}, t('users.create')),
      labelled('/user/name', t('users.name'), name),
      labelled('/user/email', t('signIn.email'), email),
      ...userScope.elements,
    ],
    'user',
  );

  const keyName = h('input', { type: 'text', autocomplete: 'off' });
  const keyScope = scopeFields('key', trials);
  const keyForm = problemForm(
    t('keys.createSubmit'),
    async () => {
      const { data, error } = await api.POST('/v1/api-keys', {
        body: { name: keyName.value.trim(), ...keyScope.read() },
      });
      if (!data) return error;
      await usersScreen(session, { message: t('keys.keyOnce', { name: data.name }), secret: data.key });
      return null;
    },
    [h('h2', {}, t('keys.create')), labelled('/key/name', t('keys.name'), keyName), ...keyScope.elements],
    'key',
  );

  const action = (label: string, run: () => Promise<unknown>) =>
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          await run();
          await usersScreen(session);
        },
      },
      label,
    );
  const head = (...cols: string[]) =>
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        cols.map((c) => h('th', { scope: 'col' }, c)),
      ),
    );
  show(
    h('h1', {}, t('users.title')),
    h('p', {}, h('a', { href: '#/trials' }, t('nav.backToTrials'))),
    once,
    h(
      'section',
      { 'aria-labelledby': 'people-heading' },
      h('h2', { id: 'people-heading' }, t('users.people')),
      h(
        'table',
        { id: 'users' },
        head(t('users.name'), t('signIn.email'), t('participants.role'), t('users.scope'), t('trials.status'), ''),
        h(
          'tbody',
          {},
          (userList?.items ?? []).map((u) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, u.name),
              h('td', {}, u.email),
              h('td', {}, roleLabel(u.role), u.blinded ? ` · ${t('header.blinded')}` : ''),
              h('td', {}, scopeText(u, trials)),
              h(
                'td',
                {},
                u.deactivatedAt ? t('users.deactivated') : u.passwordSet ? t('users.active') : t('users.invited'),
              ),
              h(
                'td',
                {},
                // Not oneself: an admin who deactivated their own account would be signed out at once.
                !u.deactivatedAt &&
                  u.id !== session.me.id &&
                  action(t('users.deactivate', { name: u.name }), () =>
                    api.POST('/v1/users/{userId}/deactivation', { params: { path: { userId: u.id } } }),
                  ),
              ),
            ),
          ),
        ),
      ),
      userForm,
    ),
    h(
      'section',
      { 'aria-labelledby': 'keys-heading' },
      h('h2', { id: 'keys-heading' }, t('keys.title')),
      h(
        'table',
        { id: 'keys' },
        head(t('keys.name'), t('keys.prefix'), t('participants.role'), t('users.scope'), t('trials.status'), ''),
        h(
          'tbody',
          {},
          (keyPage?.items ?? []).map((k) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, k.name),
              h('td', {}, h('code', {}, k.prefix)),
              h('td', {}, roleLabel(k.role), k.blinded ? ` · ${t('header.blinded')}` : ''),
              h('td', {}, scopeText(k, trials)),
              h('td', {}, k.revokedAt ? t('keys.revoked') : t('users.active')),
              h(
                'td',
                {},
                !k.revokedAt &&
                  action(t('keys.revoke', { name: k.name }), () =>
                    api.DELETE('/v1/api-keys/{keyId}', { params: { path: { keyId: k.id } } }),
                  ),
              ),
            ),
          ),
        ),
      ),
      keyForm,
    ),
  );
}
