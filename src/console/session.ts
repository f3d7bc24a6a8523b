import type { Me } from './api';

/** What every screen knows of the signed-in person. */
export interface Session {
  me: Me;
}
