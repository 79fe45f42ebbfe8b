import { checklistStep } from './checklist.js';
import { confirmStep } from './confirm.js';
import { runStep } from './run.js';
import { bumpStep } from './bump.js';
import { gitBranchStep } from './git-branch.js';
import { gitMergeStep } from './git-merge.js';
import { gitPushStep } from './git-push.js';
import { gitRemoteStep } from './git-remote.js';
import { gitTagStep } from './git-tag.js';
import { notesStep } from './notes.js';
import { freezeStep } from './freeze.js';
import { migrateStep } from './migrate.js';
import { watchStep } from './watch.js';
import { backupStep, restoreStep } from './backup.js';
import { smokeStep } from './smoke.js';
import { approveStep } from './approve.js';
import { buildStep } from './build.js';
import { deployStep } from './deploy.js';
import { switchStep } from './switch.js';
import { rollbackStep } from './rollback.js';
import { verifyStep } from './verify.js';
import { notifyStep } from './notify.js';
// Issue 16: publishing the release notes on the forge.
import { publishStep } from './publish.js';
import type { StepKind } from './types.js';

/** Every step kind the cockpit knows. Later issues add notes, migrate, smoke, deploy, watch … here. */
export const STEP_KINDS: StepKind[] = [
  confirmStep,
  runStep,
  checklistStep,
  gitBranchStep,
  gitMergeStep,
  gitTagStep,
  gitPushStep,
  gitRemoteStep,
  bumpStep,
  notesStep,
  freezeStep,
  migrateStep,
  watchStep,
  backupStep,
  restoreStep,
  smokeStep,
  approveStep,
  buildStep,
  deployStep,
  switchStep,
  rollbackStep,
  verifyStep,
  notifyStep,
  publishStep,
];

export const stepKindMap = new Map(STEP_KINDS.map((k) => [k.kind, k]));
