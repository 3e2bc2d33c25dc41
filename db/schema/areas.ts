import { pgTable, text, smallint, integer, boolean, doublePrecision, index } from 'drizzle-orm/pg-core';

/**
 * Administrative areas, keyed by the Kemendagri code written without dots, as KPU writes it:
 * province "62", kab/kota "6201", kecamatan "620101", desa/kelurahan "6201011013".
 * level: 1 province, 2 kab/kota, 3 kecamatan, 4 desa (KPU's `tingkat`).
 */
export const areas = pgTable(
  'areas',
  {
    code: text().primaryKey(),
    level: smallint().notNull(),
    parentCode: text(),
    name: text().notNull(),
    lat: doublePrecision(),
    lon: doublePrecision(),
  },
  (t) => [index('areas_parent_idx').on(t.parentCode), index('areas_level_idx').on(t.level)],
);

/**
 * Polling stations. code = desa code (10) + 3-digit TPS number. The province/kab/kec codes are
 * denormalised so that aggregation and scoping never need a recursive walk up the tree.
 */
export const tps = pgTable(
  'tps',
  {
    code: text().primaryKey(),
    desaCode: text().notNull(),
    kecCode: text().notNull(),
    kabCode: text().notNull(),
    provCode: text().notNull(),
    number: integer().notNull(),
    votersL: integer().notNull(),
    votersP: integer().notNull(),
    /** Lokasi khusus (TPS 9xx: prisons, hospitals): own register size, not the 600 cap. */
    isSpecial: boolean().notNull().default(false),
  },
  (t) => [
    index('tps_desa_idx').on(t.desaCode),
    index('tps_kec_idx').on(t.kecCode),
    index('tps_kab_idx').on(t.kabCode),
    index('tps_prov_idx').on(t.provCode),
  ],
);
