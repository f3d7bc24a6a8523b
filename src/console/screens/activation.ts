import { api } from '../api';
import { h, show } from '../dom';
import { t } from '../i18n';
import { showProblem } from './fields';

/**
 * Admin: activation, after a summary of what it locks (arms and ratios, the randomization and its strata, the
 * criteria and baseline variables: the configuration can be changed only in set-up, and the seed is drawn and its
 * commitment published) and of what stays open (new consent-form versions, incentive types, sites unless the
 * randomization is stratified by site).
 */
export async function activationScreen(trialId: string): Promise<void> {
  const { data: trial } = await api.GET('/v1/trials/{trialId}', { params: { path: { trialId } } });
  if (!trial) throw new Error(t('error.notFound'));
  const r = trial.randomization;
  const strata = 'stratifyBy' in r ? (r.stratifyBy ?? []) : 'factors' in r ? r.factors : [];
  const method =
    r.method === 'permuted_block'
      ? t('setup.permutedBlock') + ` (${r.blockSizes.join(', ')})`
      : r.method === 'minimization'
        ? t('setup.minimization')
        : r.method === 'simple'
          ? t('setup.simple')
          : t('activation.list');
  const summary = h('div', { role: 'alert' });
  const confirm = h(
    'button',
    {
      type: 'button',
      disabled: trial.status !== 'setup' || trial.sites.length === 0,
      onclick: async () => {
        confirm.disabled = true;
        const { data, error } = await api.POST('/v1/trials/{trialId}/activation', { params: { path: { trialId } } });
        if (data) location.hash = `#/trials/${trialId}`;
        else {
          confirm.disabled = false;
          showProblem(error, summary);
        }
      },
    },
    t('activation.confirm'),
  );
  const item = (label: string, value: string) => h('li', {}, h('strong', {}, `${label}: `), value);
  show(
    h('h1', {}, t('activation.title', { trial: trial.code })),
    h('p', {}, h('a', { href: `#/trials/${trialId}` }, t('nav.backToTrial'))),
    trial.status !== 'setup' ? h('p', { class: 'notice' }, t('activation.already')) : '',
    h(
      'section',
      { 'aria-labelledby': 'locks-heading' },
      h('h2', { id: 'locks-heading' }, t('activation.locks')),
      h(
        'ul',
        { id: 'activation-locks' },
        item(t('setup.arm'), trial.arms.map((a) => `${a.code} · ${a.name} (${a.ratio})`).join('; ')),
        item(t('setup.randomization'), method),
        item(t('setup.stratifyBy'), strata.join(', ') || '–'),
        item(t('setup.criterion'), String(trial.eligibility.length)),
        item(t('setup.variable'), trial.baselineVariables.map((v) => v.label ?? v.name).join(', ') || '–'),
        h('li', {}, t('activation.seed')),
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'open-heading' },
      h('h2', { id: 'open-heading' }, t('activation.stayOpen')),
      h(
        'ul',
        {},
        h('li', {}, t('activation.consentForms', { count: trial.consentForms.length })),
        h('li', {}, t('activation.incentives', { count: trial.incentives.length })),
        h(
          'li',
          {},
          strata.includes('site') ? t('activation.sitesLocked') : t('activation.sitesOpen'),
          ` (${trial.sites.map((s) => s.code).join(', ') || '–'})`,
        ),
      ),
    ),
    trial.sites.length === 0 ? h('p', { class: 'alert' }, t('activation.needsSite')) : '',
    summary,
    h('p', { class: 'actions' }, confirm),
  );
}
