import { api, Me } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import { fieldMessage } from './problems';

export function signInScreen(expired: boolean, onSignedIn: (me: Me) => void | Promise<void>): void {
  const email = h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const status = h('div', { role: 'alert' });
  const submit = h('button', { type: 'submit' }, t('signIn.submit'));
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        submit.disabled = true;
        status.replaceChildren();
        const { data, response } = await api.POST('/v1/session', {
          body: { email: email.value, password: password.value },
        });
        submit.disabled = false;
        if (data) return onSignedIn(data);
        const message = response.status === 429 ? t('signIn.throttled') : t('signIn.failed');
        status.replaceChildren(h('p', { class: 'alert' }, message));
        password.value = '';
        password.focus();
      },
    },
    h('div', {}, h('label', { for: 'email' }, t('signIn.email')), email),
    h('div', {}, h('label', { for: 'password' }, t('signIn.password')), password),
    status,
    h('div', {}, submit),
  );
  show(
    h('h1', {}, t('signIn.title')),
    expired && h('p', { class: 'notice', role: 'status' }, t('signIn.expired')),
    form,
  );
}

export function setPasswordScreen(token: string): void {
  const password = h('input', {
    id: 'new-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    'aria-describedby': 'new-password-hint',
  });
  const repeat = h('input', { id: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true });
  const status = h('div', { role: 'alert' });
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        status.replaceChildren();
        if (password.value !== repeat.value) {
          status.replaceChildren(h('p', { class: 'alert' }, t('setPassword.mismatch')));
          return;
        }
        const { error, response } = await api.POST('/v1/password', { body: { token, password: password.value } });
        if (response.status === 204) {
          history.replaceState(null, '', '#/sign-in');
          show(
            h('h1', {}, t('setPassword.title')),
            h('p', { class: 'success', role: 'status' }, t('setPassword.done')),
            h('a', { href: '#/sign-in' }, t('signIn.title')),
          );
          return;
        }
        const messages = (error?.errors ?? []).map((e) => fieldMessage(e.pointer, e.detail));
        status.replaceChildren(
          h(
            'ul',
            { class: 'alert' },
            messages.map((m) => h('li', {}, m)),
          ),
        );
      },
    },
    h(
      'div',
      {},
      h('label', { for: 'new-password' }, t('setPassword.password')),
      h('p', { class: 'hint', id: 'new-password-hint' }, t('setPassword.rules')),
      password,
    ),
    h('div', {}, h('label', { for: 'repeat-password' }, t('setPassword.repeat')), repeat),
    status,
    h('div', {}, h('button', { type: 'submit' }, t('setPassword.submit'))),
  );
  show(h('h1', {}, t('setPassword.title')), form);
}
