import { t } from '../i18n';

/**
 * A field error from a 422 answer in the person's language, when the console knows the rule; otherwise the API's
 * English detail (the API speaks English only), prefixed so the person knows it is the service talking.
 */
export function fieldMessage(pointer: string, detail: string): string {
  if (pointer === '/password' && detail.includes('at least')) return t('problem.passwordShort');
  if (pointer === '/password' && detail.includes('common')) return t('problem.passwordCommon');
  if (pointer === '/token') return t('problem.tokenInvalid');
  if (/^\/eligibility\//.test(pointer) && detail.startsWith('answer ')) return t('problem.answerRequired');
  const range = /^must be a whole number from (-?\d+) to (-?\d+), or null$/.exec(detail);
  if (range) return t('problem.itemRange', { min: range[1]!, max: range[2]! });
  if (detail === 'is in the future') return t('problem.future');
  if (/must be (>=|greater|at least)|minimum/.test(detail)) return t('problem.tooSmall', { detail });
  if (/must be (<=|less|at most)|maximum/.test(detail)) return t('problem.tooLarge', { detail });
  if (detail.includes('already')) return t('problem.duplicate', { detail });
  return t('problem.service', { detail });
}
