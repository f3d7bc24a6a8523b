import type { components } from '../../generated/openapi';
import type { FieldError } from '../../core/errors';
import { addDays } from '../follow-up/calendar';
import type { DeliveryConfiguration } from './delivery-configuration';

export type SessionFlag = components['schemas']['SessionFlag'];

export interface SessionFacts {
  /** The service user's allocated arm. */
  arm: string;
  /** The arm the case worker is assigned to. */
  workerArm: string;
  randomizedOn: string;
  kind: string;
  toolsUsed: readonly string[];
  date: string;
}

/** Session kinds and tools the plan does not know at all: 422, pointers into the session. */
export function unknownCodes(delivery: DeliveryConfiguration, session: Pick<SessionFacts, 'kind' | 'toolsUsed'>) {
  const errors: FieldError[] = [];
  if (!delivery.arms.some((plan) => plan.sessionKinds.some((k) => k.code === session.kind)))
    errors.push({ pointer: '/kind', detail: `"${session.kind}" is not a session kind of this trial's delivery plan` });
  session.toolsUsed.forEach((tool, i) => {
    if (!delivery.tools.some((t) => t.code === tool))
      errors.push({ pointer: `/toolsUsed/${i}`, detail: `"${tool}" is not a tool of this trial's delivery plan` });
  });
  return errors;
}

/**
 * What is recorded but not as planned, in a fixed order: a worker assigned to another arm than the service user's,
 * tools the service user's arm does not use (a control contact with SMCM tools), a session kind of another arm,
 * a session after the intervention period (which ends on randomization day + period - 1).
 */
export function sessionFlags(delivery: DeliveryConfiguration, facts: SessionFacts): SessionFlag[] {
  const flags: SessionFlag[] = [];
  if (facts.workerArm !== facts.arm) flags.push('worker_other_arm');
  const allowed = (tool: string) => delivery.tools.find((t) => t.code === tool)?.arms.includes(facts.arm) ?? false;
  if (facts.toolsUsed.some((tool) => !allowed(tool))) flags.push('tools_not_in_arm');
  const plan = delivery.arms.find((p) => p.arm === facts.arm);
  if (!plan?.sessionKinds.some((k) => k.code === facts.kind)) flags.push('kind_not_in_arm');
  if (facts.date > addDays(facts.randomizedOn, delivery.interventionPeriodDays - 1))
    flags.push('after_intervention_period');
  return flags;
}
