import { checklistStep } from './checklist.js';
import { confirmStep } from './confirm.js';
import { runStep } from './run.js';
import type { StepKind } from './types.js';

/** Every step kind the cockpit knows. Later issues add git.*, bump, notes, migrate, smoke, deploy, watch … here. */
export const STEP_KINDS: StepKind[] = [confirmStep, runStep, checklistStep];

export const stepKindMap = new Map(STEP_KINDS.map((k) => [k.kind, k]));
