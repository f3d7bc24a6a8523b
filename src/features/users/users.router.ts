import type { HandlerMap } from '../../http/operations';
import { clearedSessionCookie, sessionCookie } from '../../http/session-cookie';
import * as service from './users.service';

export function userHandlers(deps: service.SessionDeps): HandlerMap {
  return {
    createUser: async ({ body, ctx }) => ({ status: 201, body: await service.createUser(ctx, body) }),
    listUsers: async ({ query, ctx }) => ({ status: 200, body: await service.listUsers(ctx, query) }),
    deactivateUser: async ({ params, ctx }) => ({ status: 200, body: await service.deactivateUser(ctx, params) }),
    setPassword: async ({ body }) => {
      await service.setPassword(deps, body);
      return { status: 204 } as never;
    },
    signIn: async ({ body, clientAddress }) => {
      const { me, sessionId, maxAgeSeconds } = await service.signIn(deps, body, clientAddress);
      return { status: 201, headers: { 'Set-Cookie': sessionCookie(sessionId, maxAgeSeconds) }, body: me };
    },
    getSession: async ({ ctx }) => ({ status: 200, body: await service.getSession(ctx) }),
    setPreferences: async ({ body, ctx }) => ({ status: 200, body: await service.setPreferences(ctx, body) }),
    signOut: async ({ ctx }) => {
      await service.signOut(ctx);
      return { status: 204, headers: { 'Set-Cookie': clearedSessionCookie() } } as never;
    },
  };
}
