import type { AuditEvent, DeployEventType } from '../events.js';
import { exhaustive } from '../exhaustive.js';

type DeployEvent = Extract<AuditEvent, { type: DeployEventType }>;

const at = (c: string | null) => (c ? ` (${c})` : '');

/** A deploy event in words: the timeline, `audit show` and the replay's markers say it this way. */
export function deployWords(e: DeployEvent): string {
  switch (e.type) {
    case 'deploy.built': {
      const d = e.data;
      const what = d.image
        ? `image ${d.image}${d.digest ? ` (${d.digest})` : ''}`
        : d.artifact
          ? `artifact ${d.artifact}${d.sha256 ? ` (sha256 ${d.sha256})` : ''}`
          : 'nothing recorded';
      return `built ${d.version} for ${d.env}: ${what}`;
    }
    case 'deploy.deployed': {
      const d = e.data;
      const where = d.colour ? `${d.env} ${d.colour}` : `${d.env} (in place)`;
      const before = d.colour
        ? `${d.liveBefore ? `${d.liveBefore}${d.versionBefore ? ` at ${d.versionBefore}` : ''} stays live` : 'no colour was live'}`
        : `was ${d.versionBefore ?? 'no version'}`;
      return `deployed ${d.version} to ${where}; ${before}${d.via === 'probe' ? ' (found done after an interruption)' : ''}`;
    }
    case 'deploy.switched': {
      const d = e.data;
      const keep =
        d.from && d.from !== d.to && d.keepPreviousUntil !== null
          ? `; ${d.from} kept until ${new Date(d.keepPreviousUntil).toISOString()} for a switch back`
          : d.from && d.from !== d.to
            ? `; ${d.from} keeps running`
            : '';
      return `switched ${d.env} from ${d.from ?? 'no colour'} to ${d.to}${d.version ? ` (${d.version})` : ''}${keep}${d.via === 'probe' ? ' (found done after an interruption)' : ''}`;
    }
    case 'deploy.rollback': {
      const d = e.data;
      const how = d.how === 'switch-back' ? `switch back to ${d.colour ?? '?'}` : `redeploy${at(d.colour)}`;
      return `rollback of ${d.env} to ${d.version}, by ${how}: ${d.why}`;
    }
    default:
      exhaustive(e);
      return '';
  }
}
