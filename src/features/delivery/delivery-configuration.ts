import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';

export type DeliveryConfiguration = components['schemas']['DeliveryConfiguration'];
export type DeliveryArmPlan = components['schemas']['DeliveryArmPlan'];
export type FidelityScale = components['schemas']['FidelityScale'];

/** The delivery part of a trial's configuration. */
export interface DeliverySetUp {
  arms: { code: string }[];
  delivery: DeliveryConfiguration | null;
  fidelityScale: FidelityScale | null;
}

/** The lowest and highest score of every fidelity item. */
export const FIDELITY_ITEM_MIN = 1;
export const FIDELITY_ITEM_MAX = 5;

function duplicatesOf<T>(items: readonly T[], keyOf: (item: T) => string): [number, number][] {
  const first = new Map<string, number>();
  const result: [number, number][] = [];
  items.forEach((item, i) => {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else result.push([i, earlier]);
  });
  return result;
}

function validateDelivery(
  delivery: DeliveryConfiguration,
  armCodes: Set<string>,
  add: (pointer: string, detail: string) => void,
): void {
  for (const [i, first] of duplicatesOf(delivery.arms, (a) => a.arm))
    add(`/delivery/arms/${i}/arm`, `duplicates the arm of /delivery/arms/${first}`);
  const planned = new Set(delivery.arms.map((a) => a.arm));
  delivery.arms.forEach((plan, i) => {
    if (!armCodes.has(plan.arm)) add(`/delivery/arms/${i}/arm`, `"${plan.arm}" is not an arm of this trial`);
    for (const [j, first] of duplicatesOf(plan.sessionKinds, (k) => k.code))
      add(
        `/delivery/arms/${i}/sessionKinds/${j}/code`,
        `duplicates the code of /delivery/arms/${i}/sessionKinds/${first}`,
      );
    for (const [j, first] of duplicatesOf(plan.supervisionPlan ?? [], (p) => p.kind))
      add(
        `/delivery/arms/${i}/supervisionPlan/${j}/kind`,
        `duplicates the kind of /delivery/arms/${i}/supervisionPlan/${first}`,
      );
  });
  for (const code of armCodes)
    if (!planned.has(code)) add('/delivery/arms', `arm "${code}" has no delivery plan; every arm needs one`);
  for (const [i, first] of duplicatesOf(delivery.tools, (t) => t.code))
    add(`/delivery/tools/${i}/code`, `duplicates the code of /delivery/tools/${first}`);
  delivery.tools.forEach((tool, i) =>
    tool.arms.forEach((arm, j) => {
      if (!armCodes.has(arm)) add(`/delivery/tools/${i}/arms/${j}`, `"${arm}" is not an arm of this trial`);
    }),
  );
  for (const [i, first] of duplicatesOf(delivery.supervisionPlan ?? [], (p) => p.kind))
    add(`/delivery/supervisionPlan/${i}/kind`, `duplicates the kind of /delivery/supervisionPlan/${first}`);
}

function validateFidelityScale(scale: FidelityScale, add: (pointer: string, detail: string) => void): void {
  for (const [i, first] of duplicatesOf(scale.areas, (a) => a.code))
    add(`/fidelityScale/areas/${i}/code`, `duplicates the code of /fidelityScale/areas/${first}`);
  for (const [i, first] of duplicatesOf(scale.items, (item) => item.code))
    add(`/fidelityScale/items/${i}/code`, `duplicates the code of /fidelityScale/items/${first}`);
  const areaCodes = new Set(scale.areas.map((a) => a.code));
  scale.items.forEach((item, i) => {
    if (!areaCodes.has(item.area)) add(`/fidelityScale/items/${i}/area`, `"${item.area}" is not an area of the scale`);
  });
  scale.areas.forEach((area, i) => {
    if (!scale.items.some((item) => item.area === area.code))
      add(`/fidelityScale/areas/${i}`, `area "${area.code}" has no item`);
  });
  for (const [i, first] of duplicatesOf(scale.anchors ?? [], (a) => String(a.score)))
    add(`/fidelityScale/anchors/${i}/score`, `duplicates the score of /fidelityScale/anchors/${first}`);
  const minimum = scale.items.length * FIDELITY_ITEM_MIN;
  const maximum = scale.items.length * FIDELITY_ITEM_MAX;
  if (scale.highFidelityThreshold < minimum || scale.highFidelityThreshold > maximum)
    add(
      '/fidelityScale/highFidelityThreshold',
      `must lie between ${minimum} and ${maximum}, the lowest and highest total of ${scale.items.length} items`,
    );
}

/**
 * The coherence rules of the delivery plan and the fidelity scale that the schema cannot express, each
 * failure named by JSON pointer into the trial configuration. An empty list means they are valid.
 */
export function validateDeliverySetUp(config: DeliverySetUp): FieldError[] {
  const errors: FieldError[] = [];
  const add = (pointer: string, detail: string) => errors.push({ pointer, detail });
  if (config.delivery) validateDelivery(config.delivery, new Set(config.arms.map((a) => a.code)), add);
  if (config.fidelityScale) validateFidelityScale(config.fidelityScale, add);
  return errors;
}

type Amendable = Pick<DeliverySetUp, 'delivery' | 'fidelityScale'>;

/**
 * Compares an amended delivery plan and fidelity scale with the current ones. Recorded sessions and reviews keep
 * their meaning only if nothing defined disappears (an arm's plan, a session kind, a tool, a fidelity area or item)
 * and no item moves to another area; a tool may be opened to more arms, never closed to one. Planned interval,
 * minutes, minimum sessions, the intervention period, the supervision plans (trial-wide and per arm: a plan only
 * sets the bar the monthly summary judges against, so adding, changing or dropping one is a change, not a conflict)
 * and the threshold may change: they are listed in `changes` (JSON pointers into the amended configuration) so the
 * amendment says what it changed.
 */
export function compareDeliveryAmendment(
  current: Amendable,
  amended: Amendable,
): { conflicts: FieldError[]; changes: string[] } {
  const conflicts: FieldError[] = [];
  const changes: string[] = [];
  const conflict = (pointer: string, detail: string) => conflicts.push({ pointer, detail });
  if (current.delivery) {
    const next = amended.delivery;
    if (!next) conflict('/delivery', 'the delivery plan is defined and cannot be removed');
    else {
      if (next.interventionPeriodDays !== current.delivery.interventionPeriodDays)
        changes.push('/delivery/interventionPeriodDays');
      current.delivery.arms.forEach((plan, i) => {
        const j = next.arms.findIndex((a) => a.arm === plan.arm);
        if (j < 0) return conflict(`/delivery/arms/${i}`, `the plan of arm "${plan.arm}" cannot be removed`);
        const nextPlan = next.arms[j]!;
        for (const kind of plan.sessionKinds)
          if (!nextPlan.sessionKinds.some((k) => k.code === kind.code))
            conflict(
              `/delivery/arms/${j}/sessionKinds`,
              `session kind "${kind.code}" is defined and cannot be removed`,
            );
        nextPlan.sessionKinds.forEach((kind, k) => {
          if (!plan.sessionKinds.some((c) => c.code === kind.code))
            changes.push(`/delivery/arms/${j}/sessionKinds/${k}`);
        });
        for (const field of ['plannedIntervalDays', 'plannedMinutes', 'minimumSessions'] as const)
          if (nextPlan[field] !== plan[field]) changes.push(`/delivery/arms/${j}/${field}`);
        // Adding, changing or dropping an arm's own supervision plan changes how its workers' months are judged.
        if (JSON.stringify(nextPlan.supervisionPlan ?? null) !== JSON.stringify(plan.supervisionPlan ?? null))
          changes.push(`/delivery/arms/${j}/supervisionPlan`);
      });
      current.delivery.tools.forEach((tool) => {
        const j = next.tools.findIndex((t) => t.code === tool.code);
        if (j < 0) return conflict('/delivery/tools', `tool "${tool.code}" is defined and cannot be removed`);
        for (const arm of tool.arms)
          if (!next.tools[j]!.arms.includes(arm))
            conflict(`/delivery/tools/${j}/arms`, `arm "${arm}" uses tool "${tool.code}"; that cannot be removed`);
        if (next.tools[j]!.arms.length !== tool.arms.length) changes.push(`/delivery/tools/${j}/arms`);
      });
      next.tools.forEach((tool, j) => {
        if (!current.delivery!.tools.some((t) => t.code === tool.code)) changes.push(`/delivery/tools/${j}`);
      });
      if (JSON.stringify(next.supervisionPlan ?? []) !== JSON.stringify(current.delivery.supervisionPlan ?? []))
        changes.push('/delivery/supervisionPlan');
    }
  } else if (amended.delivery) changes.push('/delivery');
  if (current.fidelityScale) {
    const next = amended.fidelityScale;
    if (!next) conflict('/fidelityScale', 'the fidelity scale is defined and cannot be removed');
    else {
      for (const area of current.fidelityScale.areas)
        if (!next.areas.some((a) => a.code === area.code))
          conflict('/fidelityScale/areas', `area "${area.code}" is defined and cannot be removed`);
      for (const item of current.fidelityScale.items) {
        const j = next.items.findIndex((n) => n.code === item.code);
        if (j < 0) conflict('/fidelityScale/items', `item "${item.code}" is defined and cannot be removed`);
        else if (next.items[j]!.area !== item.area)
          conflict(`/fidelityScale/items/${j}/area`, `item "${item.code}" is in area "${item.area}"; it cannot move`);
      }
      next.items.forEach((item, j) => {
        if (!current.fidelityScale!.items.some((c) => c.code === item.code)) changes.push(`/fidelityScale/items/${j}`);
      });
      if (next.highFidelityThreshold !== current.fidelityScale.highFidelityThreshold)
        changes.push('/fidelityScale/highFidelityThreshold');
    }
  } else if (amended.fidelityScale) changes.push('/fidelityScale');
  return { conflicts, changes };
}

/** The plan of the arm a participant is allocated to; undefined when the trial has no plan for it. */
export function armPlanOf(delivery: DeliveryConfiguration, arm: string): DeliveryArmPlan | undefined {
  return delivery.arms.find((a) => a.arm === arm);
}
