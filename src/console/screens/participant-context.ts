import type { Participant, Trial } from '../api';
import type { Session } from '../session';

/** What every section of the participant page is built from. */
export interface ParticipantContext {
  session: Session;
  trial: Trial;
  p: Participant;
  /** An admin or a coordinator on an active trial: the actions are shown (the API decides anyway). */
  canAct: boolean;
  /** Reloads the page after a change. */
  reload: () => void;
}
