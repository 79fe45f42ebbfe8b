import os from 'node:os';

export interface Identity {
  operator: string;
  host: string;
}

/** Who is at the keyboard: COCKPIT_OPERATOR if set, else the login name. */
export function currentIdentity(env: NodeJS.ProcessEnv = process.env): Identity {
  let user = env.COCKPIT_OPERATOR;
  if (!user) {
    try {
      user = os.userInfo().username;
    } catch {
      user = env.USER ?? 'unknown';
    }
  }
  return { operator: user, host: os.hostname() };
}
