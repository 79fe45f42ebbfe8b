// The types of a TypeScript/JavaScript migration, for `import type { MigrationBuilder } from 'release-cockpit/migrate.js'`
// (or a JSDoc `import('release-cockpit/migrate.js')`) in a project that has release-cockpit installed. Types only.
export type * from './src/migrate-api.js';
