import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/audit/schema-pg.ts',
  out: './drizzle/pg',
});
