import type { ArmLabeller } from '../../core/use-case-context';
import type { MaskedArm } from '../randomization/masked-arms';
import { armMask, maskArms } from './mask-arms';

const byLabel = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });

/** What an unblinded caller sees: the arms as they are. */
export const OPEN_LABELLER: ArmLabeller = {
  blinded: false,
  label: (arm) => arm,
  arms: (arms) => [...arms],
  byArm: (values) => ({ ...values }),
  payload: (value) => value,
};

/**
 * What a blinded caller sees: each arm's code and name replaced by its masked label (`Group 1`, …), lists
 * ordered by label. An arm the trial does not have is shown as `Group ?` rather than passed through.
 */
export function maskedLabeller(
  arms: readonly { code: string; name: string }[],
  masked: readonly MaskedArm[],
): ArmLabeller {
  const mask = armMask(arms, masked);
  const label = (arm: string) => mask.get(arm) ?? 'Group ?';
  return {
    blinded: true,
    label,
    arms: (list) =>
      list
        .map((arm) => ({ ...arm, code: label(arm.code), name: label(arm.code) }))
        .sort((a, b) => byLabel(a.code, b.code)),
    byArm: (values) =>
      Object.fromEntries(
        Object.entries(values)
          .map(([arm, value]) => [label(arm), value] as const)
          .sort(([a], [b]) => byLabel(a, b)),
      ),
    payload: (value) => maskArms(value, mask),
  };
}
