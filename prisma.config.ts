// Prisma 7 keeps the connection URL out of schema.prisma. `prisma migrate deploy` (on a machine that can fetch the
// schema engine) reads DATABASE_URL here; the app itself connects through src/db/client.ts.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/pretext' },
});
