/** Who is logged in, and what they may do (the same rules as the server: src/core/access.ts). */
import { createContext, useContext, type ReactNode } from 'react';
import { can as canDo, type Permission, type Principal } from '../../src/core/access.js';
import type { Me } from './api';

export type { Permission };

const SessionContext = createContext<Me | null>(null);

export function SessionProvider({ me, children }: { me: Me; children: ReactNode }): ReactNode {
  return <SessionContext.Provider value={me}>{children}</SessionContext.Provider>;
}

export function useMe(): Me {
  const me = useContext(SessionContext);
  if (!me) throw new Error('useMe outside SessionProvider');
  return me;
}

/** Whether the current user holds a permission (buttons are hidden when not; the API refuses anyway). */
export function useCan(): (permission: Permission) => boolean {
  const me = useMe();
  return (permission) => canDo(me as unknown as Principal, permission);
}
