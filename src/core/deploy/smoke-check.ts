import { z } from 'zod';
import { durationSchema } from '../checklist/schema.js';

export const SMOKE_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * One HTTP smoke check: the one schema for a check, whether a smoke step lists it (`checks:`) or the config's
 * `deploy.<env>.smoke` does (a smoke step with `env` and no checks of its own takes those).
 */
export const smokeCheckSchema = z
  .object({
    name: z.string().min(1),
    method: z.enum(SMOKE_METHODS).default('GET'),
    /** Appended to the base URL (`/up`, `/api/version?full=1`). */
    path: z.string().regex(/^\//, "expected a path starting with '/'").default('/'),
    /** The status expected (default 200). */
    status: z.number().int().min(100).max(599).default(200),
    /** Text the body must contain (a template). */
    contains: z.string().min(1).optional(),
    /** A field of the JSON body (`data.version`, `items.0.id`) and the value it must have (a template). */
    json: z
      .object({ path: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean(), z.null()]) })
      .strict()
      .optional(),
    /** The slowest answer that passes. */
    maxLatency: durationSchema.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().optional(),
    /**
     * Which smoke steps of a deploy run it (a step with `env` and `target`): `colour`, the new colour before the
     * switch; `live`, the live URL after it; `both` (the default).
     */
    target: z.enum(['colour', 'live', 'both']).optional(),
  })
  .strict();

export type SmokeCheck = z.output<typeof smokeCheckSchema>;
