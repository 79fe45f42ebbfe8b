import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/audit/schema.ts',
  out: './drizzle/sqlite',
});
