import type { MaskedArm } from '../randomization/masked-arms';

/** Arm code or name -> the label a blinded key sees (`Group 1`, ...). */
export type ArmMask = ReadonlyMap<string, string>;

export function armMask(arms: readonly { code: string; name: string }[], masked: readonly MaskedArm[]): ArmMask {
  const labelOf = new Map(masked.map((m) => [m.code, m.label]));
  const mask = new Map<string, string>();
  for (const arm of arms) {
    const label = labelOf.get(arm.code)!;
    mask.set(arm.code, label);
    mask.set(arm.name, label);
  }
  return mask;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const sortKey = (arm: unknown): string =>
  typeof arm === 'string'
    ? arm
    : String((arm as Record<string, unknown>).code ?? (arm as Record<string, unknown>).arm ?? '');

/**
 * Replaces every arm in a response by its label. Arms appear under three keys across the contract
 * and the audit trail: `arm` (a code), `arms` (a list of arms with code and name, or of per-arm
 * rows with `arm`, or of arm codes) and `byArm` (an object keyed by arm code). Matching by key,
 * not by value, leaves a site or level that happens to share an arm's code untouched. Lists of arms
 * are re-ordered by label so that trial order cannot give the arms away. A `delivery` plan (issue #15) is left
 * out whole: what an arm delivers identifies it under any label.
 */
export function maskArms<T>(value: T, mask: ArmMask): T {
  if (Array.isArray(value)) return value.map((item) => maskArms(item, mask)) as T;
  if (!isRecord(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'delivery' && inner !== null) {
      // A delivery plan names its arms by content (the SMCM arm is the one with strengths tools): withheld whole.
      continue;
    } else if (key === 'arm' && typeof inner === 'string') {
      result[key] = mask.get(inner) ?? inner;
    } else if (key === 'byArm' && isRecord(inner)) {
      result[key] = Object.fromEntries(
        Object.entries(inner)
          .map(([arm, summary]) => [mask.get(arm) ?? arm, maskArms(summary, mask)] as const)
          .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true })),
      );
    } else if (key === 'arms' && Array.isArray(inner)) {
      result[key] = inner
        .map((arm) => {
          if (typeof arm === 'string') return mask.get(arm) ?? arm;
          if (!isRecord(arm)) return maskArms(arm, mask);
          const masked = maskArms(arm, mask);
          if (typeof arm.code === 'string') masked.code = mask.get(arm.code) ?? arm.code;
          if (typeof arm.name === 'string')
            masked.name = mask.get(arm.code as string) ?? mask.get(arm.name) ?? arm.name;
          return masked;
        })
        .sort((a, b) => sortKey(a).localeCompare(sortKey(b), 'en', { numeric: true }));
    } else {
      result[key] = maskArms(inner, mask);
    }
  }
  return result as T;
}
