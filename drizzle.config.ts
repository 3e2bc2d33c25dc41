import { defineConfig } from 'drizzle-kit';

// drizzle-kit only generates SQL from the schema here; it never needs a live database.
// Migrations are applied at boot by db/migrate.ts with whichever server is in use.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  casing: 'snake_case',
});
